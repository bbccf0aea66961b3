package format

import (
	"encoding/json"
	"fmt"
	"sort"
)

// SASTSchema identifies sast.json.
const SASTSchema = "hegui.dev/sast/v1"

// SASTSeverities, in increasing order.
var SASTSeverities = []string{"low", "medium", "high"}

// SASTSeverityRank orders severities; unknown names rank -1.
func SASTSeverityRank(s string) int {
	for i, v := range SASTSeverities {
		if v == s {
			return i
		}
	}
	return -1
}

// SASTDocument is sast.json.
type SASTDocument struct {
	Schema   string         `json:"schema"`
	Tools    []SASTTool     `json:"tools"`
	Module   string         `json:"module,omitempty"`
	Packages int            `json:"packages"`
	Files    int            `json:"files"`
	Seconds  float64        `json:"seconds"`
	Summary  SASTSummary    `json:"summary"`
	Findings []*SASTFinding `json:"findings"`
	// Errors are packages that could not be analysed (syntax or type errors).
	Errors []string `json:"errors,omitempty"`
}

// SASTTool is one analyzer suite and its version.
type SASTTool struct {
	Name    string `json:"name"`
	Module  string `json:"module"`
	Version string `json:"version"`
	Rules   int    `json:"rules"`
}

// SASTSummary counts findings.
type SASTSummary struct {
	Total      int            `json:"total"`
	Suppressed int            `json:"suppressed"`
	BySeverity map[string]int `json:"bySeverity"` // unsuppressed findings
	ByTool     map[string]int `json:"byTool"`
}

// SASTFinding is one static-analysis result.
type SASTFinding struct {
	Tool       string `json:"tool"` // "gosec" or "vet"
	Rule       string `json:"rule"` // G401, printf, ...
	CWE        int    `json:"cwe,omitempty"`
	Severity   string `json:"severity"`             // low, medium, high
	Confidence string `json:"confidence,omitempty"` // gosec's
	Message    string `json:"message"`
	Package    string `json:"package"`
	// File is relative to the module root; Line and Column start at 1.
	File        string           `json:"file"`
	Line        int              `json:"line"`
	Column      int              `json:"column"`
	Suppression *SASTSuppression `json:"suppression,omitempty"`
}

// SASTSuppression records how a finding was suppressed.
type SASTSuppression struct {
	// Directive is the annotation: "#nosec", "//nolint:gosec", ...
	Directive string `json:"directive"`
	// Justification is the reason written with it ("" when none was given).
	Justification string `json:"justification"`
}

// Where is "file:line:column".
func (f *SASTFinding) Where() string { return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column) }

// Summarize recounts the findings.
func (d *SASTDocument) Summarize() {
	s := SASTSummary{Total: len(d.Findings), BySeverity: map[string]int{}, ByTool: map[string]int{}}
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

// SortSASTFindings orders findings: unsuppressed first, then by severity (highest
// first), file, line, rule, column and message.
func SortSASTFindings(fs []*SASTFinding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if (a.Suppression == nil) != (b.Suppression == nil) {
			return a.Suppression == nil
		}
		if SASTSeverityRank(a.Severity) != SASTSeverityRank(b.Severity) {
			return SASTSeverityRank(a.Severity) > SASTSeverityRank(b.Severity)
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

// JSON is sast.json.
func (d *SASTDocument) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
