package compliance

// Framework is a catalog evaluated against a delivery.
type Framework struct {
	ID       string    `json:"id"`
	Revision int       `json:"revision"`
	Name     Text      `json:"name"`
	Scope    Text      `json:"scope"`
	Counts   Counts    `json:"counts"`
	Controls []Outcome `json:"controls"`
}

// Counts counts controls by status.
type Counts struct {
	Evidenced    int `json:"evidenced"`
	Partial      int `json:"partial"`
	NotEvidenced int `json:"notEvidenced"`
	Manual       int `json:"manual"`
}

// Total is the number of controls.
func (c Counts) Total() int { return c.Evidenced + c.Partial + c.NotEvidenced + c.Manual }

// Outcome is one control's verdict.
type Outcome struct {
	ID      string       `json:"id"`
	Ref     string       `json:"ref,omitempty"`
	Group   Text         `json:"group"`
	Modal   string       `json:"modal,omitempty"`
	Text    Text         `json:"text"`
	Status  string       `json:"status"`
	Rules   []RuleResult `json:"rules"`
	Manual  *Text        `json:"manual,omitempty"`
	Runtime string       `json:"runtime,omitempty"`
}

// Evaluate decides every control of the catalogs from the evidence.
func Evaluate(cats []*Catalog, e *Evidence) []Framework {
	out := make([]Framework, 0, len(cats))
	for _, c := range cats {
		f := Framework{ID: c.ID, Revision: c.Revision, Name: c.Name, Scope: c.Scope, Controls: []Outcome{}}
		for _, ctl := range c.Controls {
			o := Outcome{ID: ctl.ID, Ref: ctl.Ref, Group: ctl.Group, Modal: ctl.Modal, Text: ctl.Text,
				Manual: ctl.Manual, Runtime: ctl.Runtime, Rules: []RuleResult{}}
			for _, id := range ctl.Evidence {
				r := rules[id](e)
				r.Rule = id
				o.Rules = append(o.Rules, r)
			}
			o.Status = status(o.Rules, ctl.Partial)
			switch o.Status {
			case Evidenced:
				f.Counts.Evidenced++
			case Partial:
				f.Counts.Partial++
			case NotEvidenced:
				f.Counts.NotEvidenced++
			default:
				f.Counts.Manual++
			}
			f.Controls = append(f.Controls, o)
		}
		out = append(out, f)
	}
	return out
}

// status combines rule verdicts: all evidenced is evidenced (partial when
// the rules can only ever show part of the control), none is not
// evidenced, anything between is partial; no rules needs a manual statement.
func status(rs []RuleResult, partialOnly bool) string {
	if len(rs) == 0 {
		return Manual
	}
	evidenced, some := 0, 0
	for _, r := range rs {
		switch r.Status {
		case Evidenced:
			evidenced++
			some++
		case Partial:
			some++
		}
	}
	switch {
	case evidenced == len(rs) && !partialOnly:
		return Evidenced
	case some > 0:
		return Partial
	}
	return NotEvidenced
}
