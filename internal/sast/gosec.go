package sast

import (
	"io"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/analyzers"
	"github.com/securego/gosec/v2/issue"
	"github.com/securego/gosec/v2/rules"
	"golang.org/x/tools/go/packages"
)

// gosecCWE fills the CWE ids gosec maps a rule to but cannot describe
// (its CWE table is a 2021 subset), so those findings keep their CWE.
var gosecCWE = map[string]int{"G116": 838, "G121": 346, "G710": 601}

// gosecSuite is gosec's rules and SSA analyzers less the excluded ones.
type gosecSuite struct {
	rules     rules.RuleList
	analyzers *analyzers.AnalyzerList
	tests     bool
}

func newGosecSuite(excluded map[string]bool, tests bool) *gosecSuite {
	var ex []string
	for id := range excluded {
		ex = append(ex, id)
	}
	return &gosecSuite{
		rules:     rules.Generate(false, rules.NewRuleFilter(true, ex...)),
		analyzers: analyzers.Generate(false, analyzers.NewAnalyzerFilter(true, ex...)),
		tests:     tests,
	}
}

// size is the number of rules and analyzers.
func (s *gosecSuite) size() int {
	defs, _ := s.analyzers.AnalyzersInfo()
	return len(s.rules.Rules) + len(defs)
}

// gosecChecker runs the suite on one package at a time, keeping
// suppressed findings. It is for one goroutine.
type gosecChecker struct {
	analyzer *gosec.Analyzer
	reported int // issues of earlier packages, which the analyzer keeps
}

func (s *gosecSuite) newChecker() *gosecChecker {
	a := gosec.NewAnalyzer(gosec.NewConfig(), s.tests, true, true, 1, log.New(io.Discard, "", 0))
	a.LoadRules(s.rules.RulesInfo())
	a.LoadAnalyzers(s.analyzers.AnalyzersInfo())
	return &gosecChecker{analyzer: a}
}

// check runs gosec's AST rules and SSA analyzers on p.
func (c *gosecChecker) check(p *packages.Package) []*Finding {
	c.analyzer.CheckRules(p)
	c.analyzer.CheckAnalyzers(p)
	found, _, _ := c.analyzer.Report()
	out := make([]*Finding, 0, len(found)-c.reported)
	for _, is := range found[c.reported:] {
		out = append(out, fromIssue(is, p.PkgPath))
	}
	c.reported = len(found)
	return out
}

// fromIssue converts a gosec issue.
func fromIssue(is *issue.Issue, pkg string) *Finding {
	line, _, _ := strings.Cut(is.Line, "-")
	f := &Finding{
		Tool: "gosec", Rule: is.RuleID, Message: is.What, Package: pkg, File: is.File,
		Severity: strings.ToLower(is.Severity.String()), Confidence: strings.ToLower(is.Confidence.String()),
	}
	f.Line, _ = strconv.Atoi(line)
	f.Column, _ = strconv.Atoi(is.Col)
	if is.Cwe != nil {
		f.CWE, _ = strconv.Atoi(is.Cwe.ID)
	} else {
		f.CWE = gosecCWE[is.RuleID]
	}
	if len(is.Suppressions) > 0 {
		s := is.Suppressions[0]
		f.Suppression = &Suppression{Directive: "#nosec", Justification: s.Justification}
		if s.Kind == "external" {
			f.Suppression.Directive = "configuration"
		}
	}
	return f
}

// setGoVersion tells gosec the module's Go version (its G601, G304 and
// G402 rules depend on it) through the variable gosec reads for it, so
// that it does not run the go command in hegui's working directory.
func setGoVersion(roots []*packages.Package) {
	if _, set := os.LookupEnv("GOSECGOVERSION"); set {
		return
	}
	for _, p := range roots {
		if p.Module != nil && p.Module.GoVersion != "" {
			os.Setenv("GOSECGOVERSION", p.Module.GoVersion)
			return
		}
	}
}
