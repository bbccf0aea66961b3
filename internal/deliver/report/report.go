// Package report is the stage that writes report.json (schema
// hegui.dev/report/v1, docs/report.md, schemas/report-v1.schema.json)
// and report.html, one self-contained page (inline styles and SVG, no
// scripts, no network) that reads offline and prints cleanly. Both render
// the same data: the build matrix, reproducibility, hardening, SBOMs,
// licences, vulnerabilities with call paths, static analysis, signatures,
// the cryptographic inventory, the policy verdict and a compliance matrix
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
	"sort"
	"strings"
	"time"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/sast"
	"hegui.dev/hegui/internal/units"
	"hegui.dev/hegui/internal/vuln"
	"hegui.dev/hegui/keys"
)

// Schema identifies the report.json format.
const Schema = "hegui.dev/report/v1"

// Files written by the stage.
const (
	JSONFile = "report.json"
	HTMLFile = "report.html"
)

// Report is report.json.
type Report struct {
	Schema      string                 `json:"schema"`
	Project     string                 `json:"project"`
	Module      string                 `json:"module"`
	Version     delivery.Version       `json:"version"`
	Hegui       string                 `json:"hegui"`
	Started     time.Time              `json:"started"`
	Finished    time.Time              `json:"finished"`
	Development bool                   `json:"developmentKey"`
	Verdict     Verdict                `json:"verdict"`
	Warnings    []string               `json:"warnings"`
	Binaries    []*delivery.Binary     `json:"binaries"`
	Licenses    LicenseSection         `json:"licenses"`
	Signers     []*delivery.Signer     `json:"signers"`
	Provenance  string                 `json:"provenance"`
	Bundles     []string               `json:"cosignBundles"`
	Stages      []delivery.StageRecord `json:"stages"`

	Vulnerabilities VulnSection            `json:"vulnerabilities"`
	StaticAnalysis  SASTSection            `json:"staticAnalysis"`
	Cryptography    *cryptoinv.Inventory   `json:"cryptography"`
	Policy          PolicySettings         `json:"policy"`
	Compliance      []compliance.Framework `json:"compliance"`
	// AuditLog is the transparency log the delivery is recorded in after
	// signing ("" when none); its proof is transparency/entry.tlog-proof.
	AuditLog string `json:"auditLog,omitempty"`
}

// Verdict is the policy outcome.
type Verdict struct {
	Passed bool `json:"passed"`
	// Mode is enforce (violations fail the delivery) or warn.
	Mode       string               `json:"mode"`
	Violations []delivery.Violation `json:"violations"`
}

// VulnSection is the vulnerability scan: its status, the documents
// written, the policy's ignore rules and, when it ran, the scan itself.
type VulnSection struct {
	Status  delivery.ScanState    `json:"status"`
	Reason  string                `json:"reason,omitempty"`
	Files   []string              `json:"files"`
	Ignores []delivery.IgnoreRule `json:"ignoreRules"`
	Scan    *vuln.Document        `json:"scan,omitempty"`
}

// SASTSection is the static analysis.
type SASTSection struct {
	Status delivery.ScanState `json:"status"`
	Reason string             `json:"reason,omitempty"`
	Files  []string           `json:"files"`
	Scan   *sast.Document     `json:"scan,omitempty"`
}

// PolicySettings are the policy the delivery was held to.
type PolicySettings struct {
	Mode               string   `json:"mode"`
	LicenseAllow       []string `json:"licenseAllow"`
	LicenseDeny        []string `json:"licenseDeny"`
	VulnFailOn         string   `json:"vulnerabilityFailOn"`
	UnknownSeverity    string   `json:"unknownSeverity"`
	DatabaseMaxAge     string   `json:"databaseMaxAge"`
	DatabaseMaxAgeDays float64  `json:"databaseMaxAgeDays"`
	StaticGate         string   `json:"staticAnalysisGate,omitempty"`
	StaticFailOn       string   `json:"staticAnalysisFailOn"`
	StaticConfidence   string   `json:"staticAnalysisMinConfidence,omitempty"`
	StaticRules        []string `json:"staticAnalysisRules"`
	Hardening          string   `json:"hardening"`
	Reproducibility    string   `json:"reproducibility"`
}

// LicenseSection summarises the licence findings.
type LicenseSection struct {
	Modules []*delivery.ModuleLicense `json:"modules"`
	// Counts maps each concluded licence expression to its number of modules.
	Counts     map[string]int `json:"counts"`
	Unresolved int            `json:"unresolved"`
}

// Build assembles the report from the delivery; the compliance matrix
// covers the frameworks named in hegui.yaml (all when none are).
func Build(d *delivery.Delivery) (*Report, error) {
	r := &Report{
		Schema: Schema, Project: d.Name, Module: d.Module.Path, Version: d.Version, Hegui: d.HeguiVersion,
		Started: d.Started.UTC(), Finished: time.Now().UTC(),
		Verdict:  Verdict{Passed: len(d.Violations) == 0, Mode: d.Config.Policy.Mode, Violations: d.Violations},
		Warnings: d.Warnings, Binaries: d.Binaries, Signers: d.Signers,
		Provenance: d.Provenance, Bundles: d.Bundles, Stages: d.Stages,
		Licenses:     LicenseSection{Modules: d.Licenses, Counts: map[string]int{}},
		Cryptography: d.Crypto,
		Policy:       policySettings(d.Config.Policy),
		AuditLog:     d.Config.AuditLog.URL,
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
	r.Vulnerabilities = VulnSection{Status: d.VulnScan.Status, Reason: d.VulnScan.Reason, Ignores: d.VulnIgnores, Scan: d.Vulns, Files: []string{}}
	if d.Vulns != nil {
		r.Vulnerabilities.Files = []string{"vulns.json", "vulns.sarif", "vex.openvex.json"}
	}
	r.StaticAnalysis = SASTSection{Status: d.SASTScan.Status, Reason: d.SASTScan.Reason, Scan: d.SAST, Files: []string{}}
	if d.SAST != nil {
		r.StaticAnalysis.Files = []string{"sast.json", "sast.sarif"}
	}
	r.normalize()
	cats, err := compliance.Catalogs()
	if err != nil {
		return nil, err
	}
	if cats, err = compliance.Select(cats, d.Config.Compliance.Frameworks); err != nil {
		return nil, err
	}
	r.Compliance = compliance.Evaluate(cats, r.Evidence(fileDigest(d.Dir)))
	return r, nil
}

// normalize makes empty lists [] rather than null, as the schema wants.
func (r *Report) normalize() {
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	if r.Verdict.Violations == nil {
		r.Verdict.Violations = []delivery.Violation{}
	}
	if r.Vulnerabilities.Ignores == nil {
		r.Vulnerabilities.Ignores = []delivery.IgnoreRule{}
	}
	if r.Vulnerabilities.Status == "" {
		r.Vulnerabilities.Status = delivery.Skipped
	}
	if r.StaticAnalysis.Status == "" {
		r.StaticAnalysis.Status = delivery.Skipped
	}
	if r.Compliance == nil {
		r.Compliance = []compliance.Framework{}
	}
	if r.Bundles == nil {
		r.Bundles = []string{}
	}
	for _, m := range r.Licenses.Modules {
		if m.Declared == nil {
			m.Declared = []delivery.LicenseMatch{}
		}
	}
}

func policySettings(p config.Policy) PolicySettings {
	age, _ := config.ParseAge(p.Vulnerabilities.DatabaseMaxAge)
	orEmpty := func(xs []string) []string {
		if xs == nil {
			return []string{}
		}
		return xs
	}
	return PolicySettings{
		Mode: p.Mode, LicenseAllow: orEmpty(p.Licenses.Allow), LicenseDeny: orEmpty(p.Licenses.Deny),
		VulnFailOn: p.Vulnerabilities.FailOn, UnknownSeverity: p.Vulnerabilities.UnknownSeverity,
		DatabaseMaxAge: p.Vulnerabilities.DatabaseMaxAge, DatabaseMaxAgeDays: age.Hours() / 24,
		StaticGate: p.StaticAnalysis.Gate, StaticFailOn: p.StaticAnalysis.FailOn, StaticRules: orEmpty(p.StaticAnalysis.Rules),
		StaticConfidence: p.StaticAnalysis.MinConfidence,
		Hardening:        p.Hardening, Reproducibility: p.Reproducibility,
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
	if err := os.WriteFile(d.Path(JSONFile), append(data, '\n'), 0o644); err != nil {
		return err
	}
	html, err := HTML(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(HTMLFile), html, 0o644); err != nil {
		return err
	}
	for _, f := range r.Compliance {
		d.Log.Stepf("%s: %d controls, %d evidenced, %d partly, %d not, %d manual", f.ID, f.Counts.Total(),
			f.Counts.Evidenced, f.Counts.Partial, f.Counts.NotEvidenced, f.Counts.Manual)
	}
	d.Log.Stepf("%s, %s", JSONFile, HTMLFile)
	return nil
}

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"short":       func(s string) string { return keys.ShortID(s) },
	"size":        units.Bytes,
	"time":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"join":        strings.Join,
	"status":      statusClass,
	"statuslabel": func(s string) string { return statusLabels[s] },
	"chart":       coverageChart,
	"display":     vuln.DisplayVersion,
	"shortsym":    shortSymbol,
	"classlabel":  classLabel,
	"modal":       modalLabel,
	"shortdigest": func(d string) string {
		if len(d) > len("sha256:")+16 {
			return d[:len("sha256:")+16] + "…"
		}
		return d
	},
	"counts": sortedCounts,
	"groups": groupViolations,
	"place":  place,
	"sum": func(xs []*delivery.Binary) int64 {
		var n int64
		for _, b := range xs {
			n += b.Size
		}
		return n
	},
}).Parse(pageTemplate))

// HTML renders the report page.
func HTML(r *Report) ([]byte, error) {
	var b strings.Builder
	if err := page.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return []byte(b.String()), nil
}

// statusClass maps a status to the CSS class that colours it.
// It takes any of the status types (delivery.CheckStatus,
// delivery.ReproducibilityStatus, ...) as the template gives them.
func statusClass(status any) string {
	switch s := fmt.Sprint(status); s {
	case string(delivery.Pass), string(delivery.Identical), "passed", compliance.Evidenced, cryptoinv.National:
		return "ok"
	case string(delivery.Fail), string(delivery.Different), string(delivery.SecondBuildFailed), compliance.NotEvidenced, vuln.Called, vuln.Linked, "high", cryptoinv.Legacy:
		return "bad"
	case string(delivery.Warn), string(delivery.NotReproduced), compliance.Partial, vuln.Imported, "medium":
		return "warn"
	}
	return "na"
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
