// Package report is the stage that writes report.json (schema
// hegui.dev/report/v2, docs/report.md, schemas/report-v2.schema.json)
// and report.html, one self-contained page (inline styles and SVG, no
// scripts, no network) that reads offline and prints cleanly. Both render
// the same data: the build matrix, reproducibility, hardening, SBOMs,
// licences, vulnerabilities with call paths, static analysis, signatures,
// the module's own tests, the cryptographic inventory, the policy verdict and a compliance matrix
// per framework. "hegui report" renders them again from a delivery, also
// as Markdown and SARIF. Later stages add sections by adding fields to
// Report and a block to the template.
package report

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/statement"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/pii"
	"hegui.dev/hegui/keys"
)

// Build assembles the report from the delivery; the compliance matrix
// covers the frameworks named in hegui.yaml (all when none are).
func Build(d *delivery.Delivery) (*format.Report, error) {
	r := &format.Report{
		Schema: format.ReportSchema, Project: d.Name, Module: d.Module.Path, Version: d.Version, Hegui: d.HeguiVersion,
		Started: d.Started.UTC(), Finished: time.Now().UTC(),
		Verdict:  format.Verdict{Passed: len(d.Violations) == 0, Mode: d.Config.Policy.Mode, Violations: d.Violations},
		Warnings: d.Warnings, Binaries: binaries(d), Signers: signers(d),
		Provenance: d.Provenance, Bundles: d.Bundles, Stages: d.Stages,
		Licenses:     format.LicenseSection{Modules: d.Licenses, Counts: map[string]int{}},
		Cryptography: d.Crypto,
		Policy:       policySettings(d.Config.Policy),
		Documents:    d.Documents, Attestations: d.Attestations,
		AuditLog: d.Config.AuditLog.URL,
	}
	for _, s := range d.Signers {
		r.Development = r.Development || s.Development
	}
	for _, l := range d.Licenses {
		r.Licenses.Counts[l.Concluded]++
		if l.Concluded == "NOASSERTION" {
			r.Licenses.Unresolved++
		}
	}
	vulnScan, sastScan := d.ScanStatus(d.Vulns != nil, delivery.VulnsStage), d.ScanStatus(d.SAST != nil, delivery.VetStage)
	r.Vulnerabilities = format.VulnSection{Status: vulnScan.Status, Reason: vulnScan.Reason, Ignores: d.VulnIgnores, Scan: d.Vulns, Files: []string{}}
	if d.Vulns != nil {
		r.Vulnerabilities.Files = []string{format.VulnsJSONFile, format.VulnsSARIFFile, format.OpenVEXFile}
	}
	r.StaticAnalysis = format.SASTSection{Status: sastScan.Status, Reason: sastScan.Reason, Scan: d.SAST, Files: []string{}}
	if d.SAST != nil {
		r.StaticAnalysis.Files = []string{format.SASTJSONFile, format.SASTSARIFFile}
	}
	r.Tests = format.TestsSection{Status: format.TestsRan, Run: d.Tests, Files: []string{format.TestsJSONFile}}
	if d.Tests == nil {
		reason, _ := d.Skipped(delivery.TestsStage)
		r.Tests = format.TestsSection{Status: format.TestsSkipped, Reason: reason, Files: []string{}}
	}
	r.PersonalData = personalData(d)
	normalize(r)
	cats, err := compliance.Catalogs()
	if err != nil {
		return nil, err
	}
	if cats, err = compliance.Select(cats, d.Config.Compliance.Frameworks); err != nil {
		return nil, err
	}
	r.Compliance = compliance.Evaluate(cats, Evidence(r, fileDigest(d.Dir)))
	return r, nil
}

// personalData is what report.json keeps of the pii stage's inventory.
func personalData(d *delivery.Delivery) format.PIISection {
	scan := d.ScanStatus(d.PII != nil, delivery.PIIStage)
	sec := format.PIISection{Status: scan.Status, Reason: scan.Reason, Files: []string{}}
	if d.PII == nil {
		return sec
	}
	sec.Files = []string{format.PIIJSONFile}
	failOn, _ := pii.ParseKinds(d.Config.Policy.PII.FailOn)
	s := &format.PIIScan{
		FilesRead: d.PII.Files, Skipped: len(d.PII.Skipped), Total: d.PII.Total,
		Gating: len(d.PII.Gated(failOn)), FailOn: pii.KindList(failOn), Kinds: []format.PIIKind{},
	}
	for _, k := range d.PII.Kinds {
		s.Kinds = append(s.Kinds, format.PIIKind{
			Kind: string(k.Kind), Count: k.Count, Files: k.Files, Gates: slices.Contains(failOn, k.Kind), Samples: k.Samples,
		})
	}
	sec.Scan = s
	return sec
}

// binaries are what report.json records of the delivery's binaries.
func binaries(d *delivery.Delivery) []*format.Binary {
	out := make([]*format.Binary, len(d.Binaries))
	for i, b := range d.Binaries {
		out[i] = &b.Binary
	}
	return out
}

// signers are what report.json records of the delivery's signers.
func signers(d *delivery.Delivery) []*format.Signer {
	out := make([]*format.Signer, len(d.Signers))
	for i, s := range d.Signers {
		out[i] = &s.Signer
	}
	return out
}

// normalize makes empty lists [] rather than null, as the schema wants.
func normalize(r *format.Report) {
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	if r.Verdict.Violations == nil {
		r.Verdict.Violations = []format.Violation{}
	}
	if r.Vulnerabilities.Ignores == nil {
		r.Vulnerabilities.Ignores = []format.IgnoreRule{}
	}
	if r.Vulnerabilities.Status == "" {
		r.Vulnerabilities.Status = format.Skipped
	}
	if r.StaticAnalysis.Status == "" {
		r.StaticAnalysis.Status = format.Skipped
	}
	if r.Tests.Status == "" {
		r.Tests.Status = format.TestsSkipped
	}
	if r.PersonalData.Status == "" {
		r.PersonalData.Status = format.Skipped
	}
	if r.PersonalData.Files == nil {
		r.PersonalData.Files = []string{}
	}
	if r.Tests.Files == nil {
		r.Tests.Files = []string{}
	}
	if r.Tests.Run != nil && r.Tests.Run.Packages == nil {
		r.Tests.Run.Packages = []*format.TestPackage{}
	}
	if r.Compliance == nil {
		r.Compliance = []format.Framework{}
	}
	if r.Bundles == nil {
		r.Bundles = []string{}
	}
	if r.Documents == nil {
		r.Documents = []format.Document{}
	}
	if r.Attestations == nil {
		r.Attestations = []format.Attestation{}
	}
	for _, m := range r.Licenses.Modules {
		if m.Declared == nil {
			m.Declared = []format.LicenseMatch{}
		}
	}
}

func policySettings(p config.Policy) format.PolicySettings {
	age, _ := config.ParseAge(p.Vulnerabilities.DatabaseMaxAge)
	orEmpty := func(xs []string) []string {
		if xs == nil {
			return []string{}
		}
		return xs
	}
	return format.PolicySettings{
		Mode: p.Mode, LicenseAllow: orEmpty(p.Licenses.Allow), LicenseDeny: orEmpty(p.Licenses.Deny),
		VulnFailOn: p.Vulnerabilities.FailOn, UnknownSeverity: p.Vulnerabilities.UnknownSeverity,
		DatabaseMaxAge: p.Vulnerabilities.DatabaseMaxAge, DatabaseMaxAgeDays: age.Hours() / 24,
		StaticGate: p.StaticAnalysis.Gate, StaticFailOn: p.StaticAnalysis.FailOn, StaticRules: orEmpty(p.StaticAnalysis.Rules),
		StaticConfidence: p.StaticAnalysis.MinConfidence,
		Hardening:        p.Hardening, Reproducibility: p.Reproducibility, Tests: p.Tests, PIIGate: p.PII.Gate,
	}
}

// fileDigest hashes files of the delivery directory as they are cited.
func fileDigest(dir string) func(string) string {
	memo := map[string]string{}
	return func(rel string) string {
		if d, ok := memo[rel]; ok {
			return d
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		d := ""
		if err == nil {
			sum := sha256.Sum256(data)
			d = "sha256:" + hex.EncodeToString(sum[:])
		}
		memo[rel] = d
		return d
	}
}

// Stage writes report.json and report.html.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "report" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	r, err := Build(d)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.ReportJSONFile), append(data, '\n'), 0o644); err != nil {
		return err
	}
	html, err := HTML(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.ReportHTMLFile), html, 0o644); err != nil {
		return err
	}
	// The matrix also as a signed in-toto statement about the binaries,
	// for tools that collect attestations rather than read reports.
	stmt, err := statement.New(d, format.CompliancePredicateType, format.CompliancePredicate{Report: format.ReportJSONFile, Frameworks: r.Compliance})
	if err != nil {
		return err
	}
	if _, err := statement.Write(ctx, d, format.ComplianceFile, stmt); err != nil {
		return err
	}
	for _, f := range r.Compliance {
		d.Log.Stepf("%s: %s", f.ID, f.Summary.Sentence().EN)
	}
	d.Log.Stepf("%s, %s, %s", format.ReportJSONFile, format.ReportHTMLFile, format.ComplianceFile)
	return nil
}

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"short":       func(s string) string { return keys.ShortID(s) },
	"size":        human.Bytes,
	"time":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"join":        strings.Join,
	"status":      statusClass,
	"statuslabel": func(s format.ControlStatus) string { return statusLabels[s] },
	"summary":     format.ControlSummary.Sentence,
	"holding":     holding,
	"chart":       coverageChart,
	"display":     format.DisplayVersion,
	"shortsym":    shortSymbol,
	"classlabel":  classLabel,
	"modal":       modalLabel,
	"shortdigest": func(d string) string {
		if len(d) > len("sha256:")+16 {
			return d[:len("sha256:")+16] + "…"
		}
		return d
	},
	"counts":   sortedCounts,
	"tested":   testedPackages,
	"untested": untestedPackages,
	"percent": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", *p)
	},
	"groups": groupViolations,
	"place":  place,
	"sum": func(xs []*format.Binary) int64 {
		var n int64
		for _, b := range xs {
			n += b.Size
		}
		return n
	},
}).Parse(pageTemplate))

// HTML renders the report page.
func HTML(r *format.Report) ([]byte, error) {
	var b strings.Builder
	if err := page.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return []byte(b.String()), nil
}

// statusClass maps a status to the CSS class that colours it.
// It takes any of the status types (format.CheckStatus,
// format.ReproducibilityStatus, ...) as the template gives them.
func statusClass(status any) string {
	switch s := fmt.Sprint(status); s {
	case string(format.Pass), string(format.Identical), "passed", string(format.Evidenced), cryptoinv.National:
		return "ok"
	case string(format.Fail), string(format.Different), string(format.SecondBuildFailed), string(format.Gap), format.VulnCalled, format.VulnLinked, "high", cryptoinv.Legacy:
		return "bad"
	case string(format.Warn), string(format.NotReproduced), format.VulnImported, "medium":
		return "warn"
	}
	return "na"
}

// holding are the rules that hold: the page folds them under their names,
// and shows the gaps in full.
func holding(rs []format.RuleResult) []format.RuleResult {
	var out []format.RuleResult
	for _, r := range rs {
		if r.Status == format.Evidenced {
			out = append(out, r)
		}
	}
	return out
}

// shortSymbol drops the package path before the last element.
func shortSymbol(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func classLabel(c string) string {
	switch c {
	case cryptoinv.National:
		return "国密 national"
	case cryptoinv.Legacy:
		return "已淘汰 legacy"
	}
	return "国际 international"
}

func modalLabel(m string) string {
	return map[string]string{"shall": "应 shall", "should": "宜 should", "may": "可 may"}[m]
}

type count struct {
	Name  string
	Count int
}

func sortedCounts(m map[string]int) []count {
	var out []count
	for k, v := range m {
		out = append(out, count{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// testedPackages are the packages of a test run that ran tests or failed:
// the rows of the report's tests table.
func testedPackages(pkgs []*format.TestPackage) []*format.TestPackage {
	var out []*format.TestPackage
	for _, p := range pkgs {
		if p != nil && (p.Status != format.NoTests || len(p.Failures) > 0) {
			out = append(out, p)
		}
	}
	return out
}

// untestedPackages are the import paths of the packages without tests,
// which the page folds into one line.
func untestedPackages(pkgs []*format.TestPackage) []string {
	var out []string
	for _, p := range pkgs {
		if p != nil && p.Status == format.NoTests && len(p.Failures) == 0 {
			out = append(out, p.Package)
		}
	}
	return out
}
