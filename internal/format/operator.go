package format

import "time"

// Operator evidence is what the operator of the running system attaches
// when rendering a delivery's report (`hegui report --evidence FILE`):
// checks of the deployed system, today TLS endpoint checks by `hegui
// tlscheck`. It is never part of a delivery. It is shown beside the
// operator part of the controls whose catalog entry accepts it, and never
// completes that part: an endpoint check shows what one endpoint accepted
// at one time, not that every channel the control is about is listed.

// OperatorEvidenceKinds are the kinds of operator evidence hegui reads;
// a catalog's operatorEvidence names them.
var OperatorEvidenceKinds = []string{EvidenceTLS}

// EvidenceTLS is a TLS endpoint check (`hegui tlscheck --json`).
const EvidenceTLS = "tls"

// OperatorEvidence is one file of operator evidence, judged by hegui when
// the report was rendered.
type OperatorEvidence struct {
	Kind string `json:"kind"`
	// File is the name it was given by (its base name), SHA256 and SM3
	// its digests (hex), so the file an assessor holds can be matched.
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	SM3    string `json:"sm3"`
	// Subject is what was checked: "HOST:PORT (server name NAME)".
	Subject string `json:"subject"`
	// Checked is when the operator ran the check.
	Checked time.Time `json:"checked"`
	// Profile is what hegui judged the check's results by when rendering
	// (not what the file says of itself), and Meets whether nothing fails
	// it.
	Profile string `json:"profile"`
	Meets   bool   `json:"meets"`
	// Summary is what the check saw, in one line (versions, suites,
	// certificate); Findings are the profile's errors and warnings.
	Summary  Text              `json:"summary"`
	Findings []EvidenceFinding `json:"findings"`
	// Unprobed is what the check cannot see, so that nobody reads its
	// silence as absence (SM2 and TLCP among them).
	Unprobed []string `json:"unprobed"`
}

// Verdict is whether e meets its profile, in words that name the profile,
// so that it is not read as a verdict on a control.
func (e OperatorEvidence) Verdict() Text { return verdict(e.Meets, e.Profile) }

func verdict(meets bool, profile string) Text {
	if meets {
		return Text{EN: "meets the TLS profile " + profile, ZH: "符合 TLS 配置规则 " + profile}
	}
	return Text{EN: "fails the TLS profile " + profile, ZH: "不符合 TLS 配置规则 " + profile}
}

// EvidenceFinding is one thing the profile says of operator evidence.
type EvidenceFinding struct {
	Rule    string `json:"rule"`
	Level   string `json:"level"` // error or warning
	Message string `json:"message"`
}

// OperatorCitation is operator evidence shown beside a control's
// operator part.
type OperatorCitation struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	File    string `json:"file"`
	Digest  string `json:"digest"` // sha256:HEX
	Profile string `json:"profile"`
	Meets   bool   `json:"meets"`
}

// Verdict is whether the cited evidence meets its profile.
func (c OperatorCitation) Verdict() Text { return verdict(c.Meets, c.Profile) }

// Citation is the citation of e beside an operator part.
func (e OperatorEvidence) Citation() OperatorCitation {
	return OperatorCitation{Kind: e.Kind, Subject: e.Subject, File: e.File, Digest: "sha256:" + e.SHA256, Profile: e.Profile, Meets: e.Meets}
}
