// Package verdict is the stage that fails the delivery when it breaks its
// policy in enforce mode, listing every violation with what to do about
// it. It runs after the report, so the failed delivery's report (kept with
// --keep-failed) shows the same list. In warn mode the violations are in
// the report and the delivery goes on.
package verdict

import (
	"context"
	"fmt"
	"strings"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
)

// Stage checks d.Violations.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "verdict" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	if len(d.Violations) == 0 {
		d.Log.Stepf("policy passed")
		return nil
	}
	if d.Config.Policy.Mode == config.WarnMode {
		d.Log.Stepf("%d policy violation(s), not enforced (warn mode): see the report", len(d.Violations))
		return nil
	}
	groups := Group(d.Violations)
	for _, line := range Summary(groups, shownPerRule) {
		d.Log.Warnf("%s", line)
	}
	var counts []string
	for _, g := range groups {
		counts = append(counts, fmt.Sprintf("%s %d", g.Rule, len(g.Violations)))
	}
	msg := fmt.Sprintf("the delivery breaks its policy: %d violation(s) (%s), listed above", len(d.Violations), strings.Join(counts, ", "))
	if !d.Options.KeepFailed {
		msg += "; --keep-failed keeps the failed delivery's report.html with every one"
	}
	return &PolicyError{Violations: d.Violations, msg: msg}
}

// shownPerRule is how many violations of each rule the summary shows.
const shownPerRule = 3

// RuleGroup is the violations of one rule.
type RuleGroup struct {
	Rule       string
	Violations []format.Violation
}

// Group groups violations by rule, rules in order of first appearance.
func Group(vs []format.Violation) []RuleGroup {
	var groups []RuleGroup
	index := map[string]int{}
	for _, v := range vs {
		i, ok := index[v.Rule]
		if !ok {
			i = len(groups)
			index[v.Rule] = i
			groups = append(groups, RuleGroup{Rule: v.Rule})
		}
		groups[i].Violations = append(groups[i].Violations, v)
	}
	return groups
}

// Summary is a short account of grouped violations for a terminal: per
// rule its count, the first few violations, and the fix, once when every
// violation of the rule shares it.
func Summary(groups []RuleGroup, perRule int) []string {
	var lines []string
	for _, g := range groups {
		same := true
		for _, v := range g.Violations {
			same = same && v.Remedy == g.Violations[0].Remedy
		}
		lines = append(lines, fmt.Sprintf("%s: %d violation(s)", g.Rule, len(g.Violations)))
		for i, v := range g.Violations {
			if i == perRule {
				lines = append(lines, fmt.Sprintf("    … and %d more", len(g.Violations)-perRule))
				break
			}
			line := "    " + v.Message
			if !same {
				line += "; to fix: " + v.Remedy
			}
			lines = append(lines, line)
		}
		if same {
			lines = append(lines, "    to fix: "+g.Violations[0].Remedy)
		}
	}
	return lines
}

// PolicyError is the error of a delivery that breaks its policy.
type PolicyError struct {
	Violations []format.Violation
	msg        string
}

func (e *PolicyError) Error() string { return e.msg }
