package sast

import (
	"fmt"
	"strings"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/sarif"
)

// SARIF renders the findings of d as a SARIF 2.1.0 log: one rule per gosec rule
// or vet analyzer, results at their file and line (relative to the module
// root), CWE ids as taxa, and suppressed findings with their suppression.
func SARIF(d *format.SASTDocument, toolVersion string) ([]byte, error) {
	log := sarif.New("hegui vet", toolVersion, "https://github.com/securego/gosec")
	for _, f := range d.Findings {
		rule := sarif.Rule{ID: f.Rule, Name: f.Rule, Short: ruleTitle(f), Level: level(f.Severity),
			Tags: []string{f.Tool}, HelpURI: helpURI(f)}
		if f.CWE != 0 {
			rule.Tags = append(rule.Tags, "security", fmt.Sprintf("external/cwe/cwe-%d", f.CWE))
		}
		log.AddRule(rule)
		res := sarif.Result{
			RuleID: f.Rule, Level: level(f.Severity), Message: f.Message,
			Location:   &sarif.Location{File: f.File, Line: f.Line, Column: f.Column},
			Properties: map[string]any{"tool": f.Tool, "severity": f.Severity, "package": f.Package},
		}
		if f.Confidence != "" {
			res.Properties["confidence"] = f.Confidence
		}
		if f.CWE != 0 {
			res.CWEs = []int{f.CWE}
		}
		if s := f.Suppression; s != nil {
			kind := "inSource"
			if s.Directive == "configuration" {
				kind = "external"
			}
			res.Suppressions = []sarif.Suppression{{Kind: kind, Justification: orNone(s.Justification)}}
		}
		log.Add(res)
	}
	return log.Bytes()
}

func level(severity string) string {
	switch severity {
	case "high":
		return sarif.Error
	case "medium":
		return sarif.Warning
	}
	return sarif.Note
}

func ruleTitle(f *format.SASTFinding) string {
	if f.Tool == "vet" {
		return "go vet: " + f.Rule
	}
	msg, _, _ := strings.Cut(f.Message, "\n")
	return f.Rule + ": " + msg
}

func helpURI(f *format.SASTFinding) string {
	if f.Tool == "vet" {
		return "https://pkg.go.dev/golang.org/x/tools/go/analysis/passes/" + vetDir(f.Rule)
	}
	return "https://github.com/securego/gosec#available-rules"
}

// vetDir is the x/tools package directory of a vet analyzer.
func vetDir(name string) string {
	switch name {
	case "composites":
		return "composite"
	case "copylocks":
		return "copylock"
	}
	return name
}

func orNone(s string) string {
	if s == "" {
		return "(no reason given)"
	}
	return s
}
