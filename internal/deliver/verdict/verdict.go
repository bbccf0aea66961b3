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
	var b strings.Builder
	fmt.Fprintf(&b, "the delivery breaks its policy (%d violation(s)):", len(d.Violations))
	for i, v := range d.Violations {
		fmt.Fprintf(&b, " (%d) %s [%s]; to fix: %s.", i+1, v.Message, v.Rule, v.Remedy)
	}
	return &PolicyError{Violations: d.Violations, msg: b.String()}
}

// PolicyError is the error of a delivery that breaks its policy.
type PolicyError struct {
	Violations []delivery.Violation
	msg        string
}

func (e *PolicyError) Error() string { return e.msg }
