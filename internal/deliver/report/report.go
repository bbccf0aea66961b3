// Package report is the stage that writes report.json (schema
// hegui.dev/report/v1, docs/report.md) and report.html, one self-contained
// page (inline styles, no scripts, no network) that reads offline and
// prints cleanly. Both render the same data: the build matrix,
// reproducibility, hardening, SBOMs, licences, signatures, policy verdict
// and warnings. Later stages add sections by adding fields to Report and a
// block to the template.
package report

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"sort"
	"strings"
	"time"

	"hegui.dev/hegui/internal/deliver/delivery"
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
}

// Verdict is the policy outcome.
type Verdict struct {
	Passed     bool                 `json:"passed"`
	Violations []delivery.Violation `json:"violations"`
}

// LicenseSection summarises the licence findings.
type LicenseSection struct {
	Modules []*delivery.ModuleLicense `json:"modules"`
	// Counts maps each concluded licence expression to its number of modules.
	Counts     map[string]int `json:"counts"`
	Unresolved int            `json:"unresolved"`
}

// Build assembles the report from the delivery.
func Build(d *delivery.Delivery) *Report {
	r := &Report{
		Schema: Schema, Project: d.Name, Module: d.Module.Path, Version: d.Version, Hegui: d.HeguiVersion,
		Started: d.Started.UTC(), Finished: time.Now().UTC(),
		Verdict:  Verdict{Passed: len(d.Violations) == 0, Violations: d.Violations},
		Warnings: d.Warnings, Binaries: d.Binaries, Signers: d.Signers,
		Provenance: d.Provenance, Bundles: d.Bundles, Stages: d.Stages,
		Licenses: LicenseSection{Modules: d.Licenses, Counts: map[string]int{}},
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
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	if r.Verdict.Violations == nil {
		r.Verdict.Violations = []delivery.Violation{}
	}
	return r
}

// Stage writes report.json and report.html.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "report" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	r := Build(d)
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
	d.Log.Stepf("%s, %s", JSONFile, HTMLFile)
	return nil
}

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"short":  func(s string) string { return keys.ShortID(s) },
	"size":   humanSize,
	"time":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"join":   strings.Join,
	"status": statusClass,
	"counts": sortedCounts,
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

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// statusClass maps a status to the CSS class that colours it.
func statusClass(s string) string {
	switch s {
	case delivery.Pass, "identical", "passed":
		return "ok"
	case delivery.Fail, "different", "failed":
		return "bad"
	case delivery.Warn, "skipped":
		return "warn"
	}
	return "na"
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
