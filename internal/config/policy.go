package config

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/pii"
)

// Vulnerabilities configures the vulnerability stage.
type Vulnerabilities struct {
	// Database is the offline vulnerability database (hegui vulndb);
	// default $HEGUI_VULNDB, else ~/.cache/hegui/vulndb.
	Database string `yaml:"database"`
	// Scan is "symbol" (call graph, default), "package" (imports only)
	// or "off".
	Scan string `yaml:"scan"`
	// MemoryBudget bounds a call-graph scan ("4GiB", "512MiB"); a scan
	// that would need more is split, or done on the binary instead.
	MemoryBudget string `yaml:"memory-budget"`
}

// StaticAnalysis configures the static-analysis stage.
type StaticAnalysis struct {
	// Analyzers is "all" (go vet's and the security analyzers, default),
	// "vet", "security" or "off".
	Analyzers string `yaml:"analyzers"`
	// Tests includes test files.
	Tests bool `yaml:"tests"`
	// Exclude lists rules not to run (G104, printf, ...).
	Exclude []string `yaml:"exclude"`
}

// PIIScan configures the pii stage: the personal information in the
// module's own files (fixtures, configs, logs), as `hegui pii scan` finds it.
type PIIScan struct {
	// Scan is "on" (default) or "off".
	Scan string `yaml:"scan"`
	// Exclude are patterns (path.Match, on slash-separated paths relative
	// to the module root, or on a file's or directory's name) not to read.
	// vendor/ and the delivery's output directory are never read.
	Exclude []string `yaml:"exclude"`
}

// Compliance selects the frameworks of the report's compliance matrix.
type Compliance struct {
	// Frameworks are catalog ids or aliases (gbt22239-2019-l3, 等保,
	// nist-ssdf-1.1, ...); empty means all.
	Frameworks []string `yaml:"frameworks"`
}

// Policy is what a delivery must satisfy. In enforce mode a violation fails
// the delivery; in warn mode it is reported only.
type Policy struct {
	// Mode is "enforce" (default) or "warn"; --policy-mode overrides it.
	Mode            string        `yaml:"mode"`
	Licenses        LicensePolicy `yaml:"licenses"`
	Vulnerabilities VulnPolicy    `yaml:"vulnerabilities"`
	StaticAnalysis  StaticPolicy  `yaml:"static-analysis"`
	Hardening       string        `yaml:"hardening"`       // fail (default), warn, off
	Reproducibility string        `yaml:"reproducibility"` // fail (default), warn, off
	// Tests is what a failing test of the module is: warn (default), fail
	// or off.
	Tests string `yaml:"tests"`
	// PII is the gate on personal information in the module's files.
	PII PIIPolicy `yaml:"pii"`
}

// PIIPolicy is the gate on personal information found in the module's
// files by the pii stage.
type PIIPolicy struct {
	// Gate is what a finding of a FailOn kind does: fail (default), warn
	// or off. A line marked pii:ignore holds no finding.
	Gate string `yaml:"gate"`
	// FailOn are the kinds that gate (mask's names, or "all"); default
	// pii.DefaultFailOn: identifiers and accounts, not e-mail or IP
	// addresses.
	FailOn []string `yaml:"fail-on"`
}

// VulnPolicy is the vulnerability gate.
type VulnPolicy struct {
	// FailOn is the lowest severity of a reachable finding that fails:
	// critical, high (default), medium, low, any or none.
	FailOn string `yaml:"fail-on"`
	// UnknownSeverity is the severity assumed for findings the database
	// gives no score (every entry of the Go database); default high.
	UnknownSeverity string `yaml:"unknown-severity"`
	// Ignore accepts findings, each for a reason and until a date.
	Ignore []VulnIgnore `yaml:"ignore"`
	// DatabaseMaxAge is how old the database may be ("30d", default).
	DatabaseMaxAge string `yaml:"database-max-age"`
	// DatabaseTooOld is what an older database is: "warn" (default) or "fail".
	DatabaseTooOld string `yaml:"database-too-old"`
	// NoScan is what a delivery without a vulnerability scan (no
	// database) is: "warn" (default) or "fail".
	NoScan string `yaml:"no-scan"`
}

// VulnIgnore accepts one vulnerability (by OSV, CVE or GHSA id) until
// Expires (YYYY-MM-DD); after that date the rule itself is a violation.
type VulnIgnore struct {
	ID      string `yaml:"id"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"`
}

// ExpiresAt is the end of the expiry day, UTC.
func (v VulnIgnore) ExpiresAt() time.Time {
	t, _ := time.Parse(time.DateOnly, v.Expires)
	return t.Add(24*time.Hour - time.Nanosecond)
}

// StaticPolicy is the static-analysis gate.
type StaticPolicy struct {
	// Gate is what a finding reaching the thresholds below does: warn
	// (default: it is reported and counted, and the delivery goes on),
	// fail, or off. A finding of a listed rule (Rules) fails with warn too.
	Gate string `yaml:"gate"`
	// FailOn is the lowest severity of an unsuppressed finding that
	// fails: high (default), medium, low or none.
	FailOn string `yaml:"fail-on"`
	// Rules fail at any severity and confidence (e.g. G101 hard-coded
	// credentials).
	Rules []string `yaml:"rules"`
	// MinConfidence is the lowest confidence of a gosec finding that can
	// fail: high (default), medium or low. go vet's findings are certain.
	MinConfidence string `yaml:"min-confidence"`
}

// Gate actions.
const (
	Fail = "fail"
	Warn = "warn"
	Off  = "off"
)

// Policy modes.
const (
	Enforce  = "enforce"
	WarnMode = "warn"
)

// DefaultMemoryBudget is the default bound on a call-graph scan.
const DefaultMemoryBudget = "4GiB"

// Default gate settings.
const (
	DefaultVulnFailOn     = "high"
	DefaultUnknownSeverty = "high"
	DefaultDBMaxAge       = "30d"
	DefaultSASTFailOn     = "high"
	// DefaultSASTGate only warns: gosec's high-confidence findings in
	// well-kept open-source code, unannotated, are mostly deliberate or
	// false (docs/policy.md), so failing on them would refuse most
	// projects on their first delivery. Listed rules still fail.
	DefaultSASTGate = Warn
	// DefaultSASTConfidence keeps gosec's medium-confidence guesses (most
	// of them G115 integer conversions, in measured open-source projects)
	// out of the gate; they stay in sast.json and sast.sarif.
	DefaultSASTConfidence = "high"
	// DefaultTestsGate only warns: measured on four open-source
	// programs (docs/policy.md), the tests of two failed on a clean
	// delivering machine, restic's for what that machine is (root, no
	// FUSE), not for a defect of anything delivered. The failing tests
	// are one warning naming them, the report lists each with its
	// output, and the compliance rule security-tests is a gap;
	// policy.tests: fail enforces them.
	DefaultTestsGate = Warn
)

func (c *Config) applyPolicyDefaults() {
	p := &c.Policy
	p.Mode = orDefault(p.Mode, Enforce)
	p.Hardening = orDefault(p.Hardening, Fail)
	p.Reproducibility = orDefault(p.Reproducibility, Fail)
	p.Tests = orDefault(p.Tests, DefaultTestsGate)
	v := &p.Vulnerabilities
	v.FailOn = orDefault(v.FailOn, DefaultVulnFailOn)
	v.UnknownSeverity = orDefault(v.UnknownSeverity, DefaultUnknownSeverty)
	v.DatabaseMaxAge = orDefault(v.DatabaseMaxAge, DefaultDBMaxAge)
	v.DatabaseTooOld = orDefault(v.DatabaseTooOld, Warn)
	v.NoScan = orDefault(v.NoScan, Warn)
	p.StaticAnalysis.Gate = orDefault(p.StaticAnalysis.Gate, DefaultSASTGate)
	p.PII.Gate = orDefault(p.PII.Gate, Fail)
	if len(p.PII.FailOn) == 0 {
		p.PII.FailOn = pii.KindList(pii.DefaultFailOn)
	}
	c.PII.Scan = orDefault(c.PII.Scan, "on")
	p.StaticAnalysis.FailOn = orDefault(p.StaticAnalysis.FailOn, DefaultSASTFailOn)
	p.StaticAnalysis.MinConfidence = orDefault(p.StaticAnalysis.MinConfidence, DefaultSASTConfidence)
	c.Vulnerabilities.Scan = orDefault(c.Vulnerabilities.Scan, "symbol")
	c.Vulnerabilities.MemoryBudget = orDefault(c.Vulnerabilities.MemoryBudget, DefaultMemoryBudget)
	c.StaticAnalysis.Analyzers = orDefault(c.StaticAnalysis.Analyzers, "all")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var (
	vulnIDPattern = regexp.MustCompile(`^(GO-\d{4}-\d{4,}|CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$`)
	rulePattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
)

// validatePolicy checks the policy and scanning sections.
func (c *Config) validatePolicy(at func(string) string) error {
	oneOf := func(path, value string, allowed ...string) error {
		if value != "" && !slices.Contains(allowed, value) {
			return fmt.Errorf("%s%s %q: want one of %s", at("$."+path), path, value, strings.Join(allowed, ", "))
		}
		return nil
	}
	p := c.Policy
	v := p.Vulnerabilities
	checks := []error{
		oneOf("policy.mode", p.Mode, Enforce, WarnMode),
		oneOf("policy.hardening", p.Hardening, Fail, Warn, Off),
		oneOf("policy.reproducibility", p.Reproducibility, Fail, Warn, Off),
		oneOf("policy.tests", p.Tests, Fail, Warn, Off),
		oneOf("policy.vulnerabilities.fail-on", v.FailOn, "critical", "high", "medium", "low", "any", "none"),
		oneOf("policy.vulnerabilities.unknown-severity", v.UnknownSeverity, "critical", "high", "medium", "low"),
		oneOf("policy.vulnerabilities.database-too-old", v.DatabaseTooOld, Fail, Warn),
		oneOf("policy.vulnerabilities.no-scan", v.NoScan, Fail, Warn),
		oneOf("policy.static-analysis.gate", p.StaticAnalysis.Gate, Fail, Warn, Off),
		oneOf("policy.static-analysis.fail-on", p.StaticAnalysis.FailOn, "high", "medium", "low", "none"),
		oneOf("policy.static-analysis.min-confidence", p.StaticAnalysis.MinConfidence, "high", "medium", "low"),
		oneOf("vulnerabilities.scan", c.Vulnerabilities.Scan, "symbol", "package", Off),
		oneOf("static-analysis.analyzers", c.StaticAnalysis.Analyzers, "all", "vet", "security", Off),
		oneOf("policy.pii.gate", p.PII.Gate, Fail, Warn, Off),
		oneOf("pii.scan", c.PII.Scan, "on", Off),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if _, err := pii.ParseKinds(p.PII.FailOn); err != nil {
		return fmt.Errorf("%spolicy.pii.fail-on: %v", at("$.policy.pii.fail-on"), err)
	}
	for i, pat := range c.PII.Exclude {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("%spii.exclude[%d] %q: %v", at(fmt.Sprintf("$.pii.exclude[%d]", i)), i, pat, err)
		}
	}
	if a := v.DatabaseMaxAge; a != "" {
		if _, err := ParseAge(a); err != nil {
			return fmt.Errorf("%spolicy.vulnerabilities.database-max-age: %v", at("$.policy.vulnerabilities.database-max-age"), err)
		}
	}
	if b := c.Vulnerabilities.MemoryBudget; b != "" {
		if _, err := ParseBudget(b); err != nil {
			return fmt.Errorf("%svulnerabilities.memory-budget: %v", at("$.vulnerabilities.memory-budget"), err)
		}
	}
	for i, ig := range v.Ignore {
		path := fmt.Sprintf("$.policy.vulnerabilities.ignore[%d]", i)
		name := strings.TrimPrefix(path, "$.")
		switch {
		case !vulnIDPattern.MatchString(ig.ID):
			return fmt.Errorf("%s%s: id %q is not an OSV (GO-2024-1234), CVE or GHSA id", at(path), name, ig.ID)
		case strings.TrimSpace(ig.Reason) == "":
			return fmt.Errorf("%s%s: a reason is required (why the finding is acceptable)", at(path), name)
		case ig.Expires == "":
			return fmt.Errorf("%s%s: an expiry date is required (expires: YYYY-MM-DD)", at(path), name)
		}
		if _, err := time.Parse(time.DateOnly, ig.Expires); err != nil {
			return fmt.Errorf("%s%s: expires %q is not a date (YYYY-MM-DD)", at(path+".expires"), name, ig.Expires)
		}
	}
	if len(c.Compliance.Frameworks) > 0 {
		cats, err := compliance.Catalogs()
		if err != nil {
			return err
		}
		if _, err := compliance.Select(cats, c.Compliance.Frameworks); err != nil {
			return fmt.Errorf("%scompliance.frameworks: %v", at("$.compliance.frameworks"), err)
		}
	}
	for i, r := range append(slices.Clone(p.StaticAnalysis.Rules), c.StaticAnalysis.Exclude...) {
		if !rulePattern.MatchString(r) {
			return fmt.Errorf("rule %q (entry %d of policy.static-analysis.rules / static-analysis.exclude) is not a rule id such as G101 or printf", r, i)
		}
	}
	return nil
}

// ParseAge reads a duration in days or weeks as well as Go's units:
// "30d", "2w", "36h".
func ParseAge(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("%q: want a positive age such as 30d, 2w or 36h", s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive age such as 30d, 2w or 36h", s)
	}
	return d, nil
}

// ParseBudget reads a memory budget: a size, or "off" (also "0" or
// "none") for no budget, which is 0.
func ParseBudget(s string) (int64, error) {
	switch s {
	case "off", "none", "0":
		return 0, nil
	}
	return ParseBytes(s)
}

// ParseBytes reads a size: "4GiB", "512MiB", "4G", "1000000".
func ParseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
			if err != nil || v <= 0 {
				break
			}
			return int64(v * float64(u.n)), nil
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 {
		return v, nil
	}
	return 0, fmt.Errorf("%q: want a size such as 4GiB or 512MiB", s)
}
