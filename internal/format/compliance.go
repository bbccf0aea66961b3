package format

import "fmt"

// The compliance matrix (report.json's "compliance"): each framework's
// controls, each split into the vendor's part, which the delivery decides,
// and the operator's part, which only the operator of the running system
// can show and which the matrix lists but never counts as done.

// Text is a phrase in English and Chinese.
type Text struct {
	EN string `yaml:"en" json:"en"`
	ZH string `yaml:"zh" json:"zh"`
}

// Framework is a catalog evaluated against a delivery.
type Framework struct {
	ID       string           `json:"id"`
	Revision int              `json:"revision"`
	Name     Text             `json:"name"`
	Scope    Text             `json:"scope"`
	Summary  ControlSummary   `json:"summary"`
	Controls []ControlOutcome `json:"controls"`
}

// ControlSummary counts a framework's controls: the vendor parts by
// status, and the operator parts, all of which remain to be completed;
// of those, how many have operator evidence beside them, and on how many
// some of it fails its profile.
type ControlSummary struct {
	Controls                int          `json:"controls"`
	Vendor                  VendorCounts `json:"vendor"`
	OperatorToComplete      int          `json:"operatorToComplete"`
	OperatorEvidence        int          `json:"operatorEvidence,omitempty"`
	OperatorEvidenceFailing int          `json:"operatorEvidenceFailing,omitempty"`
}

// Sentence is a framework's summary as one sentence in each language:
// "vendor part: 24 of 26 evidenced, 2 gaps; operator part: 26 to complete".
func (s ControlSummary) Sentence() Text {
	v := s.Vendor
	en := fmt.Sprintf("vendor part: %d of %d evidenced", v.Evidenced, s.Controls)
	zh := fmt.Sprintf("供应商部分：%d/%d 项已有证据", v.Evidenced, s.Controls)
	if v.Attested > 0 {
		en += fmt.Sprintf(", %d attested", v.Attested)
		zh += fmt.Sprintf("，%d 项供应商声明", v.Attested)
	}
	if v.Gap > 0 {
		en += fmt.Sprintf(", %d %s", v.Gap, plural(v.Gap, "gap", "gaps"))
		zh += fmt.Sprintf("，%d 项存在差距", v.Gap)
	}
	if v.NotApplicable > 0 {
		en += fmt.Sprintf(", %d not applicable", v.NotApplicable)
		zh += fmt.Sprintf("，%d 项不适用", v.NotApplicable)
	}
	en += fmt.Sprintf("; operator part: %d to complete", s.OperatorToComplete)
	zh += fmt.Sprintf("；运营者部分：%d 项待完成", s.OperatorToComplete)
	if s.OperatorEvidence > 0 {
		en += fmt.Sprintf(" (operator evidence on %d, failing on %d)", s.OperatorEvidence, s.OperatorEvidenceFailing)
		zh += fmt.Sprintf("（%d 项附运营者证据，其中 %d 项证据不符合）", s.OperatorEvidence, s.OperatorEvidenceFailing)
	}
	return Text{EN: en, ZH: zh}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// VendorCounts counts vendor parts by status.
type VendorCounts struct {
	Evidenced     int `json:"evidenced"`
	Attested      int `json:"attested"`
	Gap           int `json:"gap"`
	NotApplicable int `json:"notApplicable"`
}

// Add counts one vendor part of status s.
func (c *VendorCounts) Add(s ControlStatus) {
	switch s {
	case Evidenced:
		c.Evidenced++
	case Attested:
		c.Attested++
	case Gap:
		c.Gap++
	case ControlNotApplicable:
		c.NotApplicable++
	}
}

// ControlOutcome is one control: its text, the vendor part's verdict and
// the operator part's statement.
type ControlOutcome struct {
	ID       string       `json:"id"`
	Ref      string       `json:"ref,omitempty"`
	Group    Text         `json:"group"`
	Modal    string       `json:"modal,omitempty"`
	Text     Text         `json:"text"`
	Vendor   VendorPart   `json:"vendor"`
	Operator OperatorPart `json:"operator"`
}

// VendorPart is what a delivery can show of a control.
type VendorPart struct {
	// Status is evidenced when every rule holds, gap when one does not,
	// attested when a signed vendor statement stands in where no artefact
	// can (Attestation), not-applicable when the control has no vendor
	// part (Reason says why).
	Status ControlStatus `json:"status"`
	// Covers says what the vendor part is, so that "evidenced" is not
	// read as more than it is.
	Covers Text         `json:"covers"`
	Rules  []RuleResult `json:"rules"`
	Reason *Text        `json:"reason,omitempty"`
	// Attest is what the vendor's statement must say, for a vendor part
	// that only a statement can show; Attestation is the signed statement
	// when the delivery carries one.
	Attest      *Text     `json:"attest,omitempty"`
	Attestation *Citation `json:"attestation,omitempty"`
	// Runtime names the runtime capability the vendor part needs
	// (RuntimeCapabilities), RuntimePackage the package that provides it
	// and RuntimeLinkedBy the binaries that link it.
	Runtime         string   `json:"runtime,omitempty"`
	RuntimePackage  string   `json:"runtimePackage,omitempty"`
	RuntimeLinkedBy []string `json:"runtimeLinkedBy,omitempty"`
}

// OperatorPart is what only the operator of the running system can show:
// a statement for the operator to complete, prefilled with what it must
// say. Its status is always to-complete: a delivery never completes it,
// and neither does the operator evidence shown beside it (Evidence), which
// hegui report attaches when the operator gives it.
type OperatorPart struct {
	Status    ControlStatus      `json:"status"`
	Statement Text               `json:"statement"`
	Evidence  []OperatorCitation `json:"evidence,omitempty"`
}

// Failing reports whether some of the operator evidence fails its profile.
func (p OperatorPart) Failing() bool {
	for _, c := range p.Evidence {
		if !c.Meets {
			return true
		}
	}
	return false
}

// ControlStatus is the status of a rule, a vendor part or an operator part.
type ControlStatus string

// The statuses; report.json's schema allows exactly these
// (TestStatusesMatchTheSchema). A rule is evidenced or a gap.
const (
	Evidenced            ControlStatus = "evidenced"
	Attested             ControlStatus = "attested"
	Gap                  ControlStatus = "gap"
	ControlNotApplicable ControlStatus = "not-applicable"
	ToComplete           ControlStatus = "to-complete"
)

// VendorStatuses are the statuses of a vendor part.
var VendorStatuses = []ControlStatus{Evidenced, Attested, Gap, ControlNotApplicable}

// RuleStatuses are the statuses of a rule.
var RuleStatuses = []ControlStatus{Evidenced, Gap}

// Citation is an evidence file and its digest.
type Citation struct {
	File   string `json:"file"`
	Digest string `json:"digest,omitempty"`
}

// RuleResult is one rule's verdict: what it found (Detail), the files
// that show it, and for a gap what the vendor can do about it (Remedy).
type RuleResult struct {
	Rule     string        `json:"rule"`
	Status   ControlStatus `json:"status"`
	Detail   Text          `json:"detail"`
	Remedy   *Text         `json:"remedy,omitempty"`
	Evidence []Citation    `json:"evidence"`
}
