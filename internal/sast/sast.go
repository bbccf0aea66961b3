// Package sast is the static-analysis findings document, sast.json
// (schema hegui.dev/sast/v1): go vet's and gosec's results with CWE ids and
// suppressions, and its SARIF rendering. Package analyze produces it.
package sast

import (
	"fmt"
	"sort"
)

// Schema identifies sast.json.
const Schema = "hegui.dev/sast/v1"

// Severities, in increasing order.
var Severities = []string{"low", "medium", "high"}

// SeverityRank orders severities; unknown names rank -1.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return -1
}

// Document is sast.json.
type Document struct {
	Schema   string     `json:"schema"`
	Tools    []Tool     `json:"tools"`
	Module   string     `json:"module,omitempty"`
	Packages int        `json:"packages"`
	Files    int        `json:"files"`
	Seconds  float64    `json:"seconds"`
	Summary  Summary    `json:"summary"`
	Findings []*Finding `json:"findings"`
	// Errors are packages that could not be analysed (syntax or type errors).
	Errors []string `json:"errors,omitempty"`
}

// Tool is one analyzer suite and its version.
type Tool struct {
	Name    string `json:"name"`
	Module  string `json:"module"`
	Version string `json:"version"`
	Rules   int    `json:"rules"`
}

// Summary counts findings.
type Summary struct {
	Total      int            `json:"total"`
	Suppressed int            `json:"suppressed"`
	BySeverity map[string]int `json:"bySeverity"` // unsuppressed findings
	ByTool     map[string]int `json:"byTool"`
}

// Finding is one static-analysis result.
type Finding struct {
	Tool       string `json:"tool"` // "gosec" or "vet"
	Rule       string `json:"rule"` // G401, printf, ...
	CWE        int    `json:"cwe,omitempty"`
	Severity   string `json:"severity"`             // low, medium, high
	Confidence string `json:"confidence,omitempty"` // gosec's
	Message    string `json:"message"`
	Package    string `json:"package"`
	// File is relative to the module root; Line and Column start at 1.
	File        string       `json:"file"`
	Line        int          `json:"line"`
	Column      int          `json:"column"`
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Suppression records how a finding was suppressed.
type Suppression struct {
	// Directive is the annotation: "#nosec", "//nolint:gosec", ...
	Directive string `json:"directive"`
	// Justification is the reason written with it ("" when none was given).
	Justification string `json:"justification"`
}

// Where is "file:line:column".
func (f *Finding) Where() string { return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column) }

// Summarize recounts the findings.
func (d *Document) Summarize() {
	s := Summary{Total: len(d.Findings), BySeverity: map[string]int{}, ByTool: map[string]int{}}
	for _, f := range d.Findings {
		s.ByTool[f.Tool]++
		if f.Suppression != nil {
			s.Suppressed++
			continue
		}
		s.BySeverity[f.Severity]++
	}
	d.Summary = s
}

// Sort orders findings: unsuppressed first, then by severity (highest
// first), file, line, rule, column and message.
func Sort(fs []*Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if (a.Suppression == nil) != (b.Suppression == nil) {
			return a.Suppression == nil
		}
		if SeverityRank(a.Severity) != SeverityRank(b.Severity) {
			return SeverityRank(a.Severity) > SeverityRank(b.Severity)
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		// gosec reports some findings on one line in varying order.
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Message < b.Message
	})
}
