package tlscheck

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
)

// ReportSchema names the document `hegui tlscheck --json` writes: a probe's
// result, the profile it was held to and the findings. `hegui report
// --evidence` reads it back as the operator's evidence.
const ReportSchema = "hegui.dev/tlscheck/v1"

// Report is `hegui tlscheck --json`'s document.
type Report struct {
	Schema string `json:"schema"`
	*Result
	Profile  string    `json:"profile"`
	Findings []Finding `json:"findings"`
	Passed   bool      `json:"passed"`
}

// NewReport is the document of a result judged by p.
func NewReport(r *Result, p Profile, findings []Finding) Report {
	return Report{Schema: ReportSchema, Result: r, Profile: p.Name, Findings: findings, Passed: !Failed(findings)}
}

// ClientCertificateModes are the values of Result.ClientCertificate.
var ClientCertificateModes = []string{"not requested", "requested", "required"}

// ParseReport reads a document `hegui tlscheck --json` wrote, strictly
// (no unknown or repeated member, names as written), and checks that its
// result is one a probe can produce, since callers judge it again: every
// version probed once, suites that exist for their version, a chain behind
// a verified chain, each certificate's days left as its expiry and the
// check's time give them. The verdict the document carries (profile,
// findings, passed) is read but not trusted: callers judge the result
// themselves.
func ParseReport(data []byte) (*Report, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:] // a UTF-8 byte order mark, as some editors write
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return nil, errors.New("the file is UTF-16: save hegui tlscheck's output as UTF-8 (in Windows PowerShell, | Out-File -Encoding utf8)")
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a hegui tlscheck --json document: not a JSON object")
	}
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := jsonv2.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a hegui tlscheck --json document: %v", err)
	}
	if head.Schema == nil {
		return nil, fmt.Errorf("not a hegui tlscheck --json document: no \"schema\" (want %q)", ReportSchema)
	}
	if *head.Schema != ReportSchema {
		return nil, fmt.Errorf("schema %q: this hegui reads %q", *head.Schema, ReportSchema)
	}
	var r Report
	if err := jsonv2.Unmarshal(data, &r, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("hegui tlscheck document: %v", err)
	}
	if r.Result == nil {
		return nil, errors.New("hegui tlscheck document: no result")
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("hegui tlscheck document: %v", err)
	}
	return &r, nil
}

// check holds the result to what Probe writes, and derives the unexported
// fields and DaysLeft as Probe does.
func (r *Report) check() error {
	if _, _, err := net.SplitHostPort(r.Target); err != nil || r.ServerName == "" || r.Time.IsZero() {
		return errors.New("a target (HOST:PORT), a server name and a time are required")
	}
	if !slices.Contains(ClientCertificateModes, r.ClientCertificate) {
		return fmt.Errorf("clientCertificate %q: want one of %q", r.ClientCertificate, ClientCertificateModes)
	}
	if len(r.Versions) != len(versions) {
		return fmt.Errorf("%d protocol versions: a check probes %d (TLS 1.0 to 1.3), each once", len(r.Versions), len(versions))
	}
	accepted := 0
	for i := range r.Versions {
		v := &r.Versions[i]
		for _, known := range versions {
			if known.name == v.Name {
				v.id = known.id
			}
		}
		if v.id == 0 {
			return fmt.Errorf("protocol version %q: a check probes TLS 1.0 to 1.3", v.Name)
		}
		if slices.ContainsFunc(r.Versions[:i], func(o Version) bool { return o.Name == v.Name }) {
			return fmt.Errorf("%s probed twice", v.Name)
		}
		if !v.Accepted && len(v.Suites) > 0 {
			return fmt.Errorf("%s is refused but lists suites", v.Name)
		}
		for _, s := range v.Suites {
			if !suiteOf(s, v.id) {
				return fmt.Errorf("%s lists %q, which is not a %s cipher suite Go implements", v.Name, s, v.Name)
			}
		}
		if v.Accepted {
			accepted++
		}
	}
	switch {
	case !r.Reachable && (accepted > 0 || len(r.Chain) > 0 || r.Error == ""):
		return errors.New("unreachable, but with accepted versions or a chain, or without the error that made it so")
	case r.Reachable && accepted == 0:
		return errors.New("reachable, but no protocol version is accepted")
	case r.ChainVerified && len(r.Chain) == 0:
		return errors.New("the chain is said to verify, but there is none")
	}
	for i := range r.Chain {
		c := &r.Chain[i]
		if !slices.Contains([]string{"RSA", "ECDSA", "Ed25519"}, c.KeyAlgorithm) || c.KeyBits <= 0 {
			return fmt.Errorf("certificate %d: key %q of %d bits: a check describes RSA, ECDSA and Ed25519 keys", i, c.KeyAlgorithm, c.KeyBits)
		}
		if c.NotAfter.IsZero() || c.NotBefore.After(c.NotAfter) {
			return fmt.Errorf("certificate %d: validity %s to %s", i, c.NotBefore, c.NotAfter)
		}
		// As Probe computes it; the document's own value is not used.
		c.DaysLeft = int(c.NotAfter.Sub(r.Time).Hours() / 24)
	}
	return nil
}

// suiteOf reports whether name is a suite Go implements for version v.
func suiteOf(name string, v uint16) bool {
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if s.Name == name && slices.Contains(s.SupportedVersions, v) {
			return true
		}
	}
	return false
}
