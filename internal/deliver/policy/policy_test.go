package policy

import (
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
)

type quietLog struct{ warnings []string }

func (l *quietLog) Begin(string, int, int)      {}
func (l *quietLog) Stepf(string, ...any)        {}
func (l *quietLog) Warnf(f string, args ...any) { l.warnings = append(l.warnings, f) }

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func finding(id, status, severity string) *format.VulnFinding {
	return &format.VulnFinding{ID: id, Module: "example.com/m", Version: "v1.0.0", Fixed: "v1.0.1", Status: status,
		Reachable: format.VulnReachable(status), Severity: severity, Symbols: []string{"example.com/m.F"}, Aliases: []string{"CVE-2026-0001"}}
}

func delivered(fs ...*format.VulnFinding) *delivery.Delivery {
	c := config.Default()
	return &delivery.Delivery{
		Config: c, Log: &quietLog{},
		Vulns: &format.VulnDocument{Database: format.VulnDatabase{Modified: now.Add(-24 * time.Hour)}, Findings: fs},
	}
}

func rules(vs []format.Violation) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Rule+" "+v.Subject)
	}
	return strings.Join(out, "; ")
}

func TestVulnerabilityGate(t *testing.T) {
	for name, tc := range map[string]struct {
		failOn, unknown string
		findings        []*format.VulnFinding
		want            int
	}{
		"unscored reachable fails by default":   {"high", "high", []*format.VulnFinding{finding("GO-1", format.VulnCalled, "unknown")}, 1},
		"unscored rated low passes a high gate": {"high", "low", []*format.VulnFinding{finding("GO-1", format.VulnCalled, "unknown")}, 0},
		"imported never fails":                  {"any", "high", []*format.VulnFinding{finding("GO-1", format.VulnImported, "critical")}, 0},
		"linked counts as reachable":            {"high", "high", []*format.VulnFinding{finding("GO-1", format.VulnLinked, "high")}, 1},
		"below the gate":                        {"critical", "high", []*format.VulnFinding{finding("GO-1", format.VulnCalled, "high")}, 0},
		"any":                                   {"any", "low", []*format.VulnFinding{finding("GO-1", format.VulnCalled, "low"), finding("GO-2", format.VulnCalled, "medium")}, 2},
		"none":                                  {"none", "high", []*format.VulnFinding{finding("GO-1", format.VulnCalled, "critical")}, 0},
	} {
		d := delivered(tc.findings...)
		p := d.Config.Policy.Vulnerabilities
		p.FailOn, p.UnknownSeverity = tc.failOn, tc.unknown
		vs := Vulnerabilities(d, p, now)
		if len(vs) != tc.want {
			t.Errorf("%s: %d violations (%s), want %d", name, len(vs), rules(vs), tc.want)
		}
		for _, v := range vs {
			if !strings.Contains(v.Remedy, "upgrade example.com/m to v1.0.1") {
				t.Errorf("%s: remedy %q does not say what to upgrade", name, v.Remedy)
			}
		}
	}
}

func TestIgnoreRulesAndDatabaseAge(t *testing.T) {
	f := finding("GO-2026-0001", format.VulnCalled, "high")
	d := delivered(f)
	d.VulnIgnores = []format.IgnoreRule{
		{ID: "CVE-2026-0001", Reason: "r", Expires: "2027-01-01", Matched: []string{"GO-2026-0001 in example.com/m"}},
		{ID: "GO-2020-0001", Reason: "r", Expires: "2020-01-01", Expired: true},
		{ID: "GO-2025-0001", Reason: "r", Expires: "2027-01-01"},
	}
	f.Ignored = &format.VulnIgnored{Reason: "r", Expires: "2027-01-01"}
	p := d.Config.Policy.Vulnerabilities
	vs := Vulnerabilities(d, p, now)
	if len(vs) != 1 || vs[0].Rule != "policy.vulnerabilities.ignore" || !strings.Contains(vs[0].Message, "expired on 2020-01-01") {
		t.Errorf("violations %s, want only the expired rule", rules(vs))
	}
	log := d.Log.(*quietLog)
	if len(log.warnings) != 1 {
		t.Errorf("warnings %v, want one about the rule that matches nothing", log.warnings)
	}

	d = delivered()
	d.Vulns.Database.Modified = now.Add(-90 * 24 * time.Hour)
	p.DatabaseTooOld = config.Fail
	if vs := Vulnerabilities(d, p, now); len(vs) != 1 || vs[0].Rule != "policy.vulnerabilities.database-max-age" {
		t.Errorf("90-day-old database with database-too-old: fail: %s", rules(vs))
	}
	p.DatabaseTooOld = config.Warn
	if vs := Vulnerabilities(d, p, now); len(vs) != 0 {
		t.Errorf("90-day-old database with database-too-old: warn: %s", rules(vs))
	}

	// A database whose entries carry no modification times is of unknown
	// age, which is too old: it was reported as new, dated by its import.
	d = delivered()
	d.Vulns.Database.Modified = time.Time{}
	p.DatabaseTooOld = config.Fail
	vs = Vulnerabilities(d, p, now)
	if len(vs) != 1 || vs[0].Rule != "policy.vulnerabilities.database-max-age" || !strings.Contains(vs[0].Message, "age is unknown") ||
		!strings.Contains(vs[0].Remedy, "--modified") {
		t.Errorf("undated database with database-too-old: fail: %+v", vs)
	}
	p.DatabaseTooOld = config.Warn
	if vs := Vulnerabilities(d, p, now); len(vs) != 0 {
		t.Errorf("undated database with database-too-old: warn: %s", rules(vs))
	}
	if w := d.Warnings; len(w) != 1 || !strings.Contains(w[0], "age is unknown") {
		t.Errorf("undated database with database-too-old: warn: warnings %q", w)
	}

	d = delivered()
	d.Vulns = nil
	d.Stages = append(d.Stages, format.StageRecord{Name: delivery.VulnsStage, Skipped: "no database"})
	p.NoScan = config.Fail
	if vs := Vulnerabilities(d, p, now); len(vs) != 1 || vs[0].Rule != "policy.vulnerabilities.no-scan" {
		t.Errorf("no scan with no-scan: fail: %s", rules(vs))
	}
}

func TestStaticHardeningReproducibility(t *testing.T) {
	doc := &format.SASTDocument{Findings: []*format.SASTFinding{
		{Tool: "gosec", Rule: "G401", Severity: "medium", File: "a.go", Line: 1},
		{Tool: "gosec", Rule: "G101", Severity: "low", File: "a.go", Line: 2},
		{Tool: "gosec", Rule: "G204", Severity: "high", File: "a.go", Line: 3},
		{Tool: "gosec", Rule: "G304", Severity: "high", File: "a.go", Line: 4, Suppression: &format.SASTSuppression{Directive: "#nosec"}},
	}}
	vs := StaticAnalysis(config.StaticPolicy{FailOn: "high", Rules: []string{"G101"}}, doc, nil)
	if got := rules(vs); got != "policy.static-analysis G101 at a.go:2:0; policy.static-analysis G204 at a.go:3:0" {
		t.Errorf("static-analysis gate: %s", got)
	}
	if vs := StaticAnalysis(config.StaticPolicy{FailOn: "none"}, doc, nil); len(vs) != 0 {
		t.Errorf("fail-on none: %s", rules(vs))
	}
	// Only what is shipped, and only what gosec is confident of, fails by
	// default; a listed rule fails whatever its confidence.
	shipped := &format.SASTDocument{Findings: []*format.SASTFinding{
		{Tool: "gosec", Rule: "G204", Severity: "high", Confidence: "high", Package: "m/cmd/app", File: "cmd/app/a.go", Line: 1},
		{Tool: "gosec", Rule: "G204", Severity: "high", Confidence: "high", Package: "m/tools/release", File: "tools/release/r.go", Line: 2},
		{Tool: "gosec", Rule: "G115", Severity: "high", Confidence: "medium", Package: "m/cmd/app", File: "cmd/app/b.go", Line: 3},
		{Tool: "gosec", Rule: "G101", Severity: "high", Confidence: "low", Package: "m/cmd/app", File: "cmd/app/c.go", Line: 4},
		{Tool: "vet", Rule: "printf", Severity: "high", Package: "m/cmd/app", File: "cmd/app/d.go", Line: 5},
	}}
	linked := map[string]bool{"m/cmd/app": true}
	p := config.StaticPolicy{FailOn: "high", MinConfidence: "high", Rules: []string{"G101"}}
	if got := rules(StaticAnalysis(p, shipped, linked)); got != "policy.static-analysis G204 at cmd/app/a.go:1:0; policy.static-analysis G101 at cmd/app/c.go:4:0; policy.static-analysis printf at cmd/app/d.go:5:0" {
		t.Errorf("linked, confident: %s", got)
	}
	p.MinConfidence = "medium"
	if vs := StaticAnalysis(p, shipped, linked); len(vs) != 4 {
		t.Errorf("min-confidence medium: %s", rules(vs))
	}
	if vs := StaticAnalysis(p, shipped, nil); len(vs) != 5 {
		t.Errorf("without linked packages every package counts: %s", rules(vs))
	}

	d := delivered()
	d.Binaries = []*delivery.Binary{{Binary: format.Binary{
		Path: "bin/a", Reproducible: &format.Reproducibility{Status: "different", Difference: "offset 4"},
		Hardening: &format.Hardening{Checks: []format.Check{{Name: "glibc", Status: format.Fail, Detail: "needs 2.34"}, {Name: "pie", Status: format.Pass}}},
	}}}
	if vs := Hardening(d, config.Fail); len(vs) != 1 || !strings.Contains(vs[0].Message, "glibc") {
		t.Errorf("hardening gate: %s", rules(vs))
	}
	if vs := Hardening(d, config.Warn); len(vs) != 0 {
		t.Errorf("hardening: warn gives violations: %s", rules(vs))
	}
	if vs := Reproducibility(d, config.Fail); len(vs) != 1 || !strings.Contains(vs[0].Message, "offset 4") {
		t.Errorf("reproducibility gate: %s", rules(vs))
	}
}

// TestStaticAnalysisGateAction: by default (gate: warn) findings reaching
// the thresholds are one warning and only listed rules fail; fail makes
// them all violations; off none.
func TestStaticAnalysisGateAction(t *testing.T) {
	doc := &format.SASTDocument{Findings: []*format.SASTFinding{
		{Tool: "gosec", Rule: "G204", Severity: "high", Confidence: "high", Package: "m/cmd/app", File: "cmd/app/a.go", Line: 1},
		{Tool: "gosec", Rule: "G101", Severity: "high", Confidence: "high", Package: "m/cmd/app", File: "cmd/app/c.go", Line: 4},
	}}
	run := func(gate string) (*delivery.Delivery, []format.Violation) {
		d := delivered()
		d.SAST = doc
		d.Config.Policy.StaticAnalysis.Rules = []string{"G101"}
		if gate != "" {
			d.Config.Policy.StaticAnalysis.Gate = gate
		}
		var vs []format.Violation
		for _, v := range Evaluate(d, now) {
			if v.Rule == "policy.static-analysis" {
				vs = append(vs, v)
			}
		}
		return d, vs
	}
	if config.Default().Policy.StaticAnalysis.Gate != config.Warn {
		t.Fatalf("default gate %q, want warn", config.Default().Policy.StaticAnalysis.Gate)
	}
	d, vs := run("")
	if got := rules(vs); got != "policy.static-analysis G101 at cmd/app/c.go:4:0" {
		t.Errorf("gate warn: violations %s, want the listed rule only", got)
	}
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "G204 at cmd/app/a.go:1:0") || !strings.Contains(d.Warnings[0], "not gated") {
		t.Errorf("gate warn: warnings %q", d.Warnings)
	}
	if _, vs := run(config.Fail); len(vs) != 2 {
		t.Errorf("gate fail: %s", rules(vs))
	}
	if d, vs := run(config.Off); len(vs) != 0 || len(d.Warnings) != 0 {
		t.Errorf("gate off: %s %q", rules(vs), d.Warnings)
	}
}

// TestTestsGate: each failing test, and each package that failed outside
// its tests, is a violation naming it with the first line of its output;
// with warn they are one warning, with off nothing; no run, no verdict.
func TestTestsGate(t *testing.T) {
	d := delivered()
	d.Tests = &format.TestsDocument{Packages: []*format.TestPackage{
		{Package: "example.com/m/ok", Status: format.TestPass, Tests: 3, Passed: 3},
		{Package: "example.com/m/bad", Status: format.TestFail, Tests: 2, Passed: 1, Failed: 1,
			Failures: []format.TestFailure{{Test: "TestDouble", Output: "\n    b_test.go:7: doubling 2\n    b_test.go:8: Double(2) = 6, want 4\n"}}},
		{Package: "example.com/m/nobuild", Status: format.TestFail, Failures: []format.TestFailure{{Output: "# example.com/m/nobuild\nx_test.go:6:17: cannot use One()"}}},
		{Package: "example.com/m/none", Status: format.NoTests},
	}}
	vs := Tests(d, config.Fail)
	if got := rules(vs); got != "policy.tests TestDouble in example.com/m/bad; policy.tests example.com/m/nobuild" {
		t.Errorf("violations %q", got)
	}
	if len(vs) == 2 && (!strings.Contains(vs[0].Message, "TestDouble failed in example.com/m/bad: b_test.go:8: Double(2) = 6, want 4") ||
		!strings.Contains(vs[1].Message, "the tests of example.com/m/nobuild failed: x_test.go:6:17: cannot use One()") || !strings.Contains(vs[0].Remedy, "policy.tests: warn")) {
		t.Errorf("violations %+v", vs)
	}
	log := d.Log.(*quietLog)
	if vs := Tests(d, config.Warn); len(vs) != 0 || len(log.warnings) != 1 {
		t.Errorf("warn: %d violations, warnings %q", len(vs), log.warnings)
	}
	if vs := Tests(d, config.Off); len(vs) != 0 {
		t.Errorf("off: %d violations", len(vs))
	}
	d.Tests = nil
	if vs := Tests(d, config.Fail); len(vs) != 0 {
		t.Errorf("no run: %d violations", len(vs))
	}
	// The default policy warns; policy.tests: fail gates the tests.
	d = delivered()
	d.Tests = &format.TestsDocument{Packages: []*format.TestPackage{{Package: "p", Status: format.TestFail, Failures: []format.TestFailure{{Test: "TestX", Output: "boom"}}}}}
	if got := rules(Evaluate(d, now)); got != "" || len(d.Log.(*quietLog).warnings) != 1 {
		t.Errorf("default policy: %q, warnings %q", got, d.Log.(*quietLog).warnings)
	}
	d.Config.Policy.Tests = config.Fail
	if got := rules(Evaluate(d, now)); got != "policy.tests TestX in p" {
		t.Errorf("policy.tests: fail: %q", got)
	}
}
