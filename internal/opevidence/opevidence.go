// Package opevidence reads the evidence an operator attaches to a
// delivery's report (`hegui report DELIVERY --evidence FILE`): checks of
// the deployed system, today `hegui tlscheck --json` documents. Each file
// is judged here, when the report is rendered, by the transport profile of
// 等保 level 3 (tlscheck's gbt22239-l3), from what the check saw: the verdict
// a file carries about itself is not read, so an edited verdict changes
// nothing, and a check made with a laxer profile is held to the same rule.
//
// The evidence is about the operator's system and is never part of a
// delivery; the compliance matrix shows it beside the operator parts of
// the controls whose catalog entry accepts it (operatorEvidence: [tls]).
package opevidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/emmansun/gmsm/sm3"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/tlscheck"
)

// TLSProfile is the profile TLS evidence is judged by.
const TLSProfile = "gbt22239-l3"

// Limit bounds an evidence file: a tlscheck document is a few kilobytes.
const Limit = 4 << 20

// Read reads and judges the evidence file at path.
func Read(ctx context.Context, path string) (format.OperatorEvidence, error) {
	data, err := inputfile.Read(ctx, path, Limit)
	if err != nil {
		return format.OperatorEvidence{}, err
	}
	e, err := Parse(filepath.Base(path), data)
	if err != nil {
		return format.OperatorEvidence{}, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// Parse judges the evidence data, a file called name.
func Parse(name string, data []byte) (format.OperatorEvidence, error) {
	r, err := tlscheck.ParseReport(data)
	if err != nil {
		return format.OperatorEvidence{}, err
	}
	p, ok := tlscheck.Profiles[TLSProfile]
	if !ok {
		return format.OperatorEvidence{}, fmt.Errorf("no TLS profile %s to judge the check by", TLSProfile)
	}
	sh, sm := sha256.Sum256(data), sm3.Sum(data)
	e := format.OperatorEvidence{
		Kind: format.EvidenceTLS, File: name,
		SHA256: hex.EncodeToString(sh[:]), SM3: hex.EncodeToString(sm[:]),
		Subject: r.Target, Checked: r.Time.UTC(), Profile: p.Name,
		Summary: summary(r.Result), Findings: []format.EvidenceFinding{}, Unprobed: tlscheck.Unprobed(),
	}
	if r.ServerName != "" {
		e.Subject += " (server name " + r.ServerName + ")"
	}
	findings := tlscheck.Judge(r.Result, p)
	e.Meets = !tlscheck.Failed(findings)
	for _, f := range findings {
		if f.Level == tlscheck.Error || f.Level == tlscheck.Warning {
			e.Findings = append(e.Findings, format.EvidenceFinding{Rule: f.Rule, Level: f.Level, Message: f.Message})
		}
	}
	return e, nil
}

// summary is what the check saw, in one line: the versions accepted and
// refused, what a client offering everything negotiates, the leaf
// certificate, whether the chain verifies, client certificates.
func summary(r *tlscheck.Result) format.Text {
	if !r.Reachable {
		return format.Text{EN: "no TLS handshake worked: " + r.Error, ZH: "TLS 握手均未成功：" + r.Error}
	}
	var yes, no []string
	for _, v := range r.Versions {
		if v.Accepted {
			yes = append(yes, v.Name)
		} else {
			no = append(no, v.Name)
		}
	}
	en := "accepts " + orNone(yes, ", ", "none")
	zh := "接受 " + orNone(yes, "、", "无")
	if len(no) > 0 {
		en += ", refuses " + strings.Join(no, ", ")
		zh += "，拒绝 " + strings.Join(no, "、")
	}
	if r.NegotiatedVersion != "" {
		neg := strings.TrimSpace(r.NegotiatedVersion + " " + r.NegotiatedSuite + " " + r.NegotiatedGroup)
		en += "; negotiates " + neg
		zh += "；协商结果 " + neg
	}
	if len(r.Chain) > 0 {
		c := r.Chain[0]
		key := fmt.Sprintf("%s %d", c.KeyAlgorithm, c.KeyBits)
		until := c.NotAfter.UTC().Format("2006-01-02")
		en += fmt.Sprintf("; certificate %s, %s, until %s", key, c.SignatureAlgorithm, until)
		zh += fmt.Sprintf("；证书 %s，%s，有效期至 %s", key, c.SignatureAlgorithm, until)
		if r.ChainVerified {
			en += ", chain verifies for " + r.ServerName
			zh += "，证书链对 " + r.ServerName + " 验证通过"
		} else {
			en += ", chain does not verify"
			zh += "，证书链验证未通过"
		}
	}
	if r.ClientCertificate != "" {
		en += "; client certificate " + r.ClientCertificate
		zh += "；客户端证书 " + clientCertZH[r.ClientCertificate]
	}
	return format.Text{EN: en, ZH: zh}
}

var clientCertZH = map[string]string{"not requested": "不要求", "requested": "可选", "required": "必需"}

func orNone(s []string, sep, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, sep)
}
