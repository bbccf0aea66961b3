package sast

import (
	"context"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/analyzers"
	"github.com/securego/gosec/v2/issue"
	"github.com/securego/gosec/v2/rules"
	"golang.org/x/tools/go/packages"
)

// gosecCWE fills the CWE ids gosec maps a rule to but cannot describe
// (its CWE table is a 2021 subset), so those findings keep their CWE.
var gosecCWE = map[string]int{"G116": 838, "G121": 346, "G710": 601}

// runGosec runs gosec's AST rules and SSA analyzers on the root packages,
// a few packages at a time, keeping suppressed findings.
func runGosec(ctx context.Context, roots []*packages.Package, excluded map[string]bool, tests bool) ([]*Finding, int, error) {
	setGoVersion(roots)
	var ex []string
	for id := range excluded {
		ex = append(ex, id)
	}
	ruleList := rules.Generate(false, rules.NewRuleFilter(true, ex...))
	analyzerList := analyzers.Generate(false, analyzers.NewAnalyzerFilter(true, ex...))
	analyzerDefs, _ := analyzerList.AnalyzersInfo()
	nRules := len(ruleList.Rules) + len(analyzerDefs)

	jobs := make(chan *packages.Package)
	var (
		mu     sync.Mutex
		issues []*issue.Issue
		pkgOf  = map[*issue.Issue]string{}
		wg     sync.WaitGroup
	)
	quiet := log.New(io.Discard, "", 0)
	for range min(workers(), len(roots)) {
		wg.Go(func() {
			a := gosec.NewAnalyzer(gosec.NewConfig(), tests, true, true, 1, quiet)
			a.LoadRules(ruleList.RulesInfo())
			a.LoadAnalyzers(analyzerList.AnalyzersInfo())
			for p := range jobs {
				a.CheckRules(p)
				a.CheckAnalyzers(p)
				found, _, _ := a.Report()
				mu.Lock()
				for _, is := range found {
					if _, seen := pkgOf[is]; !seen {
						issues = append(issues, is)
						pkgOf[is] = p.PkgPath
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, p := range roots {
		if ctx.Err() != nil {
			break
		}
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	out := make([]*Finding, 0, len(issues))
	for _, is := range issues {
		out = append(out, fromIssue(is, pkgOf[is]))
	}
	return out, nRules, nil
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
