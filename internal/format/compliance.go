package format

// The compliance matrix (report.json's "compliance"): each framework's
// controls with their status and the rules that decided it.

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
	Counts   ControlCounts    `json:"counts"`
	Controls []ControlOutcome `json:"controls"`
}

// ControlCounts counts controls by status.
type ControlCounts struct {
	Evidenced    int `json:"evidenced"`
	Partial      int `json:"partial"`
	NotEvidenced int `json:"notEvidenced"`
	Manual       int `json:"manual"`
}

// Total is the number of controls.
func (c ControlCounts) Total() int { return c.Evidenced + c.Partial + c.NotEvidenced + c.Manual }

// ControlOutcome is one control's verdict.
type ControlOutcome struct {
	ID      string       `json:"id"`
	Ref     string       `json:"ref,omitempty"`
	Group   Text         `json:"group"`
	Modal   string       `json:"modal,omitempty"`
	Text    Text         `json:"text"`
	Status  string       `json:"status"`
	Rules   []RuleResult `json:"rules"`
	Manual  *Text        `json:"manual,omitempty"`
	Runtime string       `json:"runtime,omitempty"`
	// RuntimePackage is the package that provides Runtime
	// (RuntimeCapabilities), and RuntimeLinkedBy the binaries that link it.
	RuntimePackage  string   `json:"runtimePackage,omitempty"`
	RuntimeLinkedBy []string `json:"runtimeLinkedBy,omitempty"`
}

// The statuses of a rule or a control.
const (
	Evidenced    = "evidenced"
	Partial      = "partial"
	NotEvidenced = "not-evidenced"
	Manual       = "manual"
)

// Citation is an evidence file and its digest.
type Citation struct {
	File   string `json:"file"`
	Digest string `json:"digest,omitempty"`
}

// RuleResult is one rule's verdict.
type RuleResult struct {
	Rule     string     `json:"rule"`
	Status   string     `json:"status"`
	Detail   Text       `json:"detail"`
	Evidence []Citation `json:"evidence"`
}
