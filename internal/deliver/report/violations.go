package report

import (
	"strings"

	"hegui.dev/hegui/internal/deliver/verdict"
	"hegui.dev/hegui/internal/format"
)

// placesShown is how many violations a row of the policy table lists
// before the rest are folded away (in report.html, into a <details> that
// prints open), as many as the verdict's summary on the terminal shows.
// One more is listed rather than folded alone.
const placesShown = 3

// violationGroup is one row of the policy table: the violations of one
// rule that share their fix, which the row states once.
type violationGroup struct {
	Rule       string
	Remedy     string
	Violations []format.Violation
}

// Shown are the violations the row lists.
func (g violationGroup) Shown() []format.Violation { return g.Violations[:g.shown()] }

// Folded are the violations the row folds away: none, or two or more.
func (g violationGroup) Folded() []format.Violation { return g.Violations[g.shown():] }

func (g violationGroup) shown() int {
	if len(g.Violations) <= placesShown+1 {
		return len(g.Violations)
	}
	return placesShown
}

// groupViolations groups violations by rule, as the verdict stage does
// for the terminal (verdict.Group), and each rule's by fix, in order of
// first appearance. A real project breaks one rule dozens of times with
// the same fix (86 gosec G115 findings, one "#nosec G115" remedy): that
// is one row. A rule whose violations need different fixes, such as the
// static-analysis rule over several gosec rules or the vulnerability
// rule over several modules to upgrade, has a row per fix.
func groupViolations(vs []format.Violation) []violationGroup {
	var rows []violationGroup
	for _, g := range verdict.Group(vs) {
		first := len(rows)
		for _, v := range g.Violations {
			i := first
			for i < len(rows) && rows[i].Remedy != v.Remedy {
				i++
			}
			if i == len(rows) {
				rows = append(rows, violationGroup{Rule: g.Rule, Remedy: v.Remedy})
			}
			rows[i].Violations = append(rows[i].Violations, v)
		}
	}
	return rows
}

// place is a violation as a row of the policy table lists it: its
// message, which names the subject for most rules, or the subject and
// the message when it does not (a vulnerability's message names the
// vulnerability but not the module it is in).
func place(v format.Violation) string {
	if strings.Contains(v.Message, v.Subject) {
		return v.Message
	}
	return v.Subject + ": " + v.Message
}
