package mask

import "strings"

// Redactor finds personal information in text and replaces each finding as
// the operator for its kind says.
type Redactor struct {
	// Scanner finds; nil means NewScanner().
	Scanner *Scanner
	// Operators says what replaces each kind; a kind without one is
	// masked with DefaultMask.
	Operators map[Kind]Operator
}

var defaultScanner = NewScanner()

// Redact returns text with every finding replaced, and the findings. On
// an operator's error it returns the error and no text.
func (r *Redactor) Redact(text string) (string, []Finding, error) {
	s := r.Scanner
	if s == nil {
		s = defaultScanner
	}
	findings := s.Find(text)
	if len(findings) == 0 {
		return text, nil, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, f := range findings {
		op, ok := r.Operators[f.Kind]
		if !ok {
			op = DefaultMask(f.Kind)
		}
		repl, err := op.Apply(f)
		if err != nil {
			return "", nil, err
		}
		b.WriteString(text[last:f.Start])
		b.WriteString(repl)
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), findings, nil
}

// String masks the personal information in text with the default scanner
// and DefaultMask for each kind.
func String(text string) string {
	out, _, _ := (&Redactor{}).Redact(text) // masks do not fail
	return out
}
