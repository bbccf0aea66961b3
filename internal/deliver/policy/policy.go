// Package policy is the stage that holds the delivery to the policy in
// hegui.yaml: licences, vulnerabilities (severity of reachable findings,
// ignore rules with expiry dates, the database's age), static analysis,
// hardening, reproducibility, the module's own tests and personal
// information in its files. Each gate adds violations, each with what
// to do about it; the verdict stage fails the delivery on them in enforce
// mode and only reports them in warn mode.
package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/license"
	"hegui.dev/hegui/internal/format"
)

// Stage records d.Violations.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "policy" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	for _, v := range Evaluate(d, time.Now()) {
		d.AddViolation(v)
	}
	if unlinked, unsure := ungated(d); unlinked+unsure > 0 {
		d.Log.Stepf("static analysis: %d finding(s) in packages not linked into a binary and %d below confidence %s are reported in sast.json, not gated",
			unlinked, unsure, orHigh(d.Config.Policy.StaticAnalysis.MinConfidence))
	}
	mode := d.Config.Policy.Mode
	switch n := len(d.Violations); {
	case n == 0:
		d.Log.Stepf("every gate passed (%s mode)", mode)
	case mode == config.WarnMode:
		d.Warn("%d policy violation(s), reported but not enforced (policy mode warn)", n)
	default:
		d.Log.Stepf("%d policy violation(s)", n)
	}
	return nil
}

// Evaluate applies every gate of d's policy. Gates set to "warn" add
// warnings to d instead of violations.
func Evaluate(d *delivery.Delivery, now time.Time) []format.Violation {
	p := d.Config.Policy
	vs := license.Evaluate(p.Licenses, d.Licenses)
	vs = append(vs, Vulnerabilities(d, p.Vulnerabilities, now)...)
	vs = append(vs, gateStaticAnalysis(d, p.StaticAnalysis, StaticAnalysis(p.StaticAnalysis, d.SAST, linkedPackages(d)))...)
	vs = append(vs, Hardening(d, p.Hardening)...)
	vs = append(vs, Reproducibility(d, p.Reproducibility)...)
	vs = append(vs, Tests(d, p.Tests)...)
	vs = append(vs, PII(d, p.PII)...)
	return vs
}

// Vulnerabilities is the vulnerability gate: reachable findings at or
// above the fail-on severity, expired ignore rules, the database's age,
// and a missing scan.
func Vulnerabilities(d *delivery.Delivery, p config.VulnPolicy, now time.Time) []format.Violation {
	var vs []format.Violation
	if d.Vulns == nil {
		if scan := d.ScanStatus(d.Vulns != nil, delivery.VulnsStage); scan.Status == format.Skipped && p.NoScan == config.Fail {
			vs = append(vs, format.Violation{
				Rule: "policy.vulnerabilities.no-scan", Subject: "vulnerability scan",
				Message: "no vulnerability scan: " + scan.Reason,
				Remedy:  "import a vulnerability database (hegui vulndb import OSV_DIR, or hegui vulndb update) and deliver again",
			})
		}
		return vs
	}
	doc := d.Vulns
	maxAge, _ := config.ParseAge(p.DatabaseMaxAge)
	if msg, remedy := databaseTooOld(doc.Database, maxAge, p.DatabaseMaxAge, now); msg != "" {
		if p.DatabaseTooOld == config.Fail {
			vs = append(vs, format.Violation{
				Rule: "policy.vulnerabilities.database-max-age", Subject: "vulnerability database",
				Message: msg, Remedy: remedy,
			})
		} else {
			d.Warn("%s", msg)
		}
	}
	threshold := failThreshold(p.FailOn)
	for _, f := range doc.Findings {
		if !f.Reachable || f.Ignored != nil || threshold < 0 {
			continue
		}
		sev := EffectiveSeverity(f, p.UnknownSeverity)
		if format.VulnSeverityRank(sev) < threshold {
			continue
		}
		rated := sev
		if f.Severity == "unknown" {
			rated = sev + ", as the policy rates findings without a score"
		}
		vs = append(vs, format.Violation{
			Rule: "policy.vulnerabilities.fail-on", Subject: f.ID + " in " + f.Module + "@" + format.DisplayVersion(f.Module, f.Version),
			Message: fmt.Sprintf("%s (%s) is %s: %s (severity %s)", f.ID, firstAlias(f),
				reachVerb(f), strings.Join(firstN(f.Symbols, 3), ", "), rated),
			Remedy: f.Advice() + "; or, if it cannot be exploited here, add an ignore rule with a reason and an expiry date",
		})
	}
	for _, r := range d.VulnIgnores {
		if !r.Expired {
			if len(r.Matched) == 0 {
				d.Warn("policy.vulnerabilities.ignore: the rule for %s matches no finding; remove it", r.ID)
			}
			continue
		}
		what := "it matches no finding any more"
		if len(r.Matched) > 0 {
			what = "it covered " + strings.Join(r.Matched, ", ")
		}
		vs = append(vs, format.Violation{
			Rule: "policy.vulnerabilities.ignore", Subject: r.ID,
			Message: fmt.Sprintf("the ignore rule for %s expired on %s (%s)", r.ID, r.Expires, what),
			Remedy:  "fix the vulnerability, or review the risk again and set a new expiry date; remove the rule if it is no longer needed",
		})
	}
	return vs
}

// databaseTooOld says why the database db breaks the age limit maxAge
// (written as allowed in hegui.yaml) at now, and what to do about it, or
// returns "" when it does not. A database without a modification time
// (imported from entries that carry none) is of unknown age: it could be
// any age, so it is too old.
func databaseTooOld(db format.VulnDatabase, maxAge time.Duration, allowed string, now time.Time) (msg, remedy string) {
	if maxAge <= 0 {
		return "", ""
	}
	if db.Modified.IsZero() {
		return fmt.Sprintf("the vulnerability database's age is unknown (its entries carry no modification times and it was imported without a date); the policy allows %s, so it counts as too old", allowed),
			"date the database by its source when importing it (hegui vulndb import --modified DATE), or update it (hegui vulndb update), and deliver again"
	}
	if age := now.Sub(db.Modified); age > maxAge {
		return fmt.Sprintf("the vulnerability database is %.0f days old (modified %s); the policy allows %s",
				age.Hours()/24, db.Modified.Format(time.DateOnly), allowed),
			"update the database (hegui vulndb update, or import a newer OSV export) and deliver again"
	}
	return "", ""
}

// EffectiveSeverity is a finding's severity, or the policy's rating for
// findings the database gives no score.
func EffectiveSeverity(f *format.VulnFinding, unknown string) string {
	if f.Severity == "" || f.Severity == "unknown" {
		return unknown
	}
	return f.Severity
}

// failThreshold is the rank at or above which findings fail; -1 for none.
func failThreshold(failOn string) int {
	switch failOn {
	case "none":
		return -1
	case "any":
		return 0
	}
	return format.VulnSeverityRank(failOn)
}

func reachVerb(f *format.VulnFinding) string {
	if f.Status == format.VulnLinked {
		return "linked into the binary"
	}
	return "called"
}

// firstAlias is the finding's CVE id, else its first alias.
func firstAlias(f *format.VulnFinding) string {
	for _, a := range f.Aliases {
		if strings.HasPrefix(a, "CVE-") {
			return a
		}
	}
	if len(f.Aliases) > 0 {
		return f.Aliases[0]
	}
	return "no CVE"
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return append(slices.Clone(xs[:n]), "…")
	}
	return xs
}

// StaticAnalysis is the static-analysis gate: unsuppressed findings at or
// above the fail-on severity, and any finding of a listed rule.
//
// Only what is shipped is gated: with linked set (the import paths of the
// packages linked into any delivered binary), a finding in another package
// of the module (a release helper, a test backend) is reported in
// sast.json and sast.sarif but fails nothing. A gosec finding below the
// policy's confidence fails only when its rule is listed.
func StaticAnalysis(p config.StaticPolicy, doc *format.SASTDocument, linked map[string]bool) []format.Violation {
	if doc == nil {
		return nil
	}
	threshold := format.SASTSeverityRank(p.FailOn)
	minConfidence := format.SASTSeverityRank(orHigh(p.MinConfidence))
	var vs []format.Violation
	for _, f := range doc.Findings {
		if f.Suppression != nil || linked != nil && !linked[f.Package] {
			continue
		}
		listed := slices.Contains(p.Rules, f.Rule)
		confident := f.Confidence == "" || format.SASTSeverityRank(f.Confidence) >= minConfidence
		if !listed && (p.FailOn == "none" || format.SASTSeverityRank(f.Severity) < threshold || !confident) {
			continue
		}
		why := "severity " + f.Severity
		if listed {
			why = "rule listed in policy.static-analysis.rules"
		}
		cwe := ""
		if f.CWE != 0 {
			cwe = fmt.Sprintf(", CWE-%d", f.CWE)
		}
		vs = append(vs, format.Violation{
			Rule: "policy.static-analysis", Subject: f.Rule + " at " + f.Where(),
			Message: fmt.Sprintf("%s %s at %s: %s (%s%s)", f.Tool, f.Rule, f.Where(), f.Message, why, cwe),
			Remedy:  fmt.Sprintf("fix the code; if it is a false positive, mark the line with \"#nosec %s -- reason\"", f.Rule),
		})
	}
	return vs
}

// gateStaticAnalysis applies the static-analysis gate's action to the
// findings that reach its thresholds: with fail they are violations, with
// warn only those of listed rules are and the others one warning, with off
// none are.
func gateStaticAnalysis(d *delivery.Delivery, p config.StaticPolicy, found []format.Violation) []format.Violation {
	switch p.Gate {
	case config.Fail:
		return found
	case config.Off:
		return nil
	}
	var vs []format.Violation
	var warned []string
	for _, v := range found {
		rule, _, _ := strings.Cut(v.Subject, " at ")
		if slices.Contains(p.Rules, rule) {
			vs = append(vs, v)
		} else {
			warned = append(warned, v.Subject)
		}
	}
	if n := len(warned); n > 0 {
		more := ""
		if n > 3 {
			warned, more = warned[:3], fmt.Sprintf(" and %d more", n-3)
		}
		d.Warn("%d static-analysis finding(s) in shipped code reach severity %s at confidence %s (%s%s): reported in sast.json, not gated (policy.static-analysis.gate: warn); review them, mark false positives with #nosec, and set gate: fail to enforce",
			n, p.FailOn, orHigh(p.MinConfidence), strings.Join(warned, ", "), more)
	}
	return vs
}

// ungated counts the unsuppressed static-analysis findings the gate leaves
// to the report: outside the linked packages, or below the confidence.
func ungated(d *delivery.Delivery) (unlinked, unsure int) {
	if d.SAST == nil {
		return 0, 0
	}
	linked := linkedPackages(d)
	min := format.SASTSeverityRank(orHigh(d.Config.Policy.StaticAnalysis.MinConfidence))
	for _, f := range d.SAST.Findings {
		switch {
		case f.Suppression != nil:
		case linked != nil && !linked[f.Package]:
			unlinked++
		case f.Confidence != "" && format.SASTSeverityRank(f.Confidence) < min:
			unsure++
		}
	}
	return unlinked, unsure
}

// linkedPackages are the import paths linked into the delivered binaries,
// or nil when no binary says (then every finding counts).
func linkedPackages(d *delivery.Delivery) map[string]bool {
	var linked map[string]bool
	for _, b := range d.Binaries {
		for _, p := range b.Packages {
			if linked == nil {
				linked = map[string]bool{}
			}
			linked[p] = true
		}
	}
	return linked
}

func orHigh(s string) string {
	if s == "" {
		return "high"
	}
	return s
}

// Hardening is the hardening gate: binaries failing a check.
func Hardening(d *delivery.Delivery, action string) []format.Violation {
	if action != config.Fail {
		return nil // the hardening stage has already warned
	}
	var vs []format.Violation
	for _, b := range d.Binaries {
		if b.Hardening == nil {
			continue
		}
		for _, c := range b.Hardening.Checks {
			if c.Status != format.Fail {
				continue
			}
			vs = append(vs, format.Violation{
				Rule: "policy.hardening", Subject: b.Path + ": " + c.Name,
				Message: fmt.Sprintf("%s fails the %s check: %s", b.Path, c.Name, c.Detail),
				Remedy:  "fix the build (see docs/deliver.md, hardening), or set policy.hardening: warn in hegui.yaml",
			})
		}
	}
	return vs
}

// Reproducibility is the reproducibility gate: binaries whose second
// build differs.
func Reproducibility(d *delivery.Delivery, action string) []format.Violation {
	if action != config.Fail {
		return nil
	}
	var vs []format.Violation
	for _, b := range d.Binaries {
		if r := b.Reproducible; r != nil && r.Status == format.Different {
			vs = append(vs, format.Violation{
				Rule: "policy.reproducibility", Subject: b.Path,
				Message: fmt.Sprintf("%s is not reproducible: %s", b.Path, r.Difference),
				Remedy:  "remove the source of the difference (embedded paths, times, map order in generated code), or set policy.reproducibility: warn",
			})
		}
	}
	return vs
}

// Tests is the tests gate: each failing test of the module, and each
// package whose tests failed outside a test (did not build, crashed, did
// not finish). With warn they are one warning.
func Tests(d *delivery.Delivery, action string) []format.Violation {
	if d.Tests == nil || action == config.Off {
		return nil
	}
	const remedy = "fix the test or the code it tests (tests.json has its output); a test that needs what the delivering machine lacks (the network, a service, another user than root) can skip itself in -short mode (testing.Short) or be left out with tests.flags (-skip=NAME); or set policy.tests: warn"
	var vs []format.Violation
	for _, p := range d.Tests.Packages {
		if p.Status != format.TestFail {
			continue
		}
		for _, f := range p.Failures {
			v := format.Violation{Rule: "policy.tests", Subject: p.Package, Remedy: remedy}
			if f.Test != "" {
				v.Subject = f.Test + " in " + p.Package
				v.Message = fmt.Sprintf("%s failed in %s: %s", f.Test, p.Package, f.Reason())
			} else {
				v.Message = fmt.Sprintf("the tests of %s failed: %s", p.Package, f.Reason())
			}
			vs = append(vs, v)
		}
	}
	if action == config.Warn && len(vs) > 0 {
		var names []string
		for _, v := range vs {
			names = append(names, v.Subject)
		}
		names = firstN(names, 3)
		d.Warn("%d failing test(s) (%s): reported in tests.json and the report, not gated (policy.tests: warn); fix them, or skip those that need what this machine lacks (tests.flags: [-skip=NAME]), and set policy.tests: fail to enforce", len(vs), strings.Join(names, ", "))
		return nil
	}
	return vs
}
