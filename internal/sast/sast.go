// Package sast runs static analysis on a Go module: go vet's analyzers and
// gosec's security rules and analyzers, in process, over one load of the
// packages (golang.org/x/tools/go/packages), so the code is parsed and
// type-checked once for both. Findings carry CWE ids where a weakness
// fits. Suppressions written the way Go developers already write them —
// gosec's `#nosec G401 -- reason` and golangci-lint's `//nolint:gosec //
// reason` — are honoured: a suppressed finding stays in the results,
// marked with its directive and reason, instead of disappearing.
package sast

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"golang.org/x/tools/go/packages"

	"hegui.dev/hegui/internal/gotool"
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

// Request says what to analyse.
type Request struct {
	// Dir is the module root.
	Dir string
	// Patterns are the packages; default ./... .
	Patterns []string
	// Tests includes test files (go vet's default).
	Tests bool
	Tags  []string
	// Env is added to the go command's environment (GOOS, GOARCH, ...).
	Env []string
	// Analyzers is "all" (default), "vet" or "security".
	Analyzers string
	// Exclude lists rules not to run: gosec ids (G104) or vet analyzer
	// names (printf).
	Exclude []string
	// Progress, if set, receives one line per step.
	Progress func(format string, args ...any)
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

// Analyze loads the packages once and runs the analyzers on them.
func Analyze(ctx context.Context, req *Request) (*Document, error) {
	start := time.Now()
	if req.Analyzers == "" {
		req.Analyzers = "all"
	}
	if len(req.Patterns) == 0 {
		req.Patterns = []string{"./..."}
	}
	progress := req.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	pkgs, err := load(ctx, req)
	if err != nil {
		return nil, err
	}
	doc := &Document{Schema: Schema, Findings: []*Finding{}}
	var loadErrs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, packageError(e))
		}
	})
	if len(loadErrs) > 0 && len(loadErrs) == countErrors(pkgs) && allIllTyped(pkgs) {
		return nil, fmt.Errorf("static analysis: %s", loadErrs[0])
	}
	doc.Errors = dedup(loadErrs)
	roots := selectPackages(pkgs)
	for _, p := range roots {
		doc.Packages++
		doc.Files += len(p.Syntax)
		if doc.Module == "" && p.Module != nil && p.Module.Main {
			doc.Module = p.Module.Path
		}
	}
	progress("%d packages, %d files loaded", doc.Packages, doc.Files)
	excluded := map[string]bool{}
	for _, r := range req.Exclude {
		excluded[r] = true
	}
	if req.Analyzers == "all" || req.Analyzers == "vet" {
		fs, n, err := runVet(roots, excluded)
		if err != nil {
			return nil, err
		}
		doc.Findings = append(doc.Findings, fs...)
		doc.Tools = append(doc.Tools, Tool{Name: "go vet", Module: "golang.org/x/tools", Version: moduleVersion("golang.org/x/tools"), Rules: n})
		progress("go vet's analyzers: %d findings", len(fs))
	}
	if req.Analyzers == "all" || req.Analyzers == "security" {
		fs, n, err := runGosec(ctx, roots, excluded, req.Tests)
		if err != nil {
			return nil, err
		}
		doc.Findings = append(doc.Findings, fs...)
		doc.Tools = append(doc.Tools, Tool{Name: "gosec", Module: "github.com/securego/gosec/v2", Version: moduleVersion("github.com/securego/gosec/v2"), Rules: n})
		progress("gosec: %d findings", len(fs))
	}
	applyNolint(roots, doc.Findings)
	for _, f := range doc.Findings {
		f.File = relativeTo(req.Dir, f.File)
	}
	doc.Findings = dedupFindings(doc.Findings)
	sortFindings(doc.Findings)
	doc.Summarize()
	doc.Seconds = time.Since(start).Seconds()
	return doc, nil
}

// load loads the packages with syntax and types for the root packages
// only; dependencies come from export data.
func load(ctx context.Context, req *Request) ([]*packages.Package, error) {
	cfg := &packages.Config{
		Context: ctx,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedImports |
			packages.NeedTypes | packages.NeedTypesSizes | packages.NeedTypesInfo | packages.NeedSyntax |
			packages.NeedModule | packages.NeedEmbedFiles | packages.NeedEmbedPatterns,
		Dir:   req.Dir,
		Tests: req.Tests,
		Env:   gotool.MergeEnv(os.Environ(), append([]string{"GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS="}, req.Env...)),
	}
	if len(req.Tags) > 0 {
		cfg.BuildFlags = []string{"-tags=" + strings.Join(req.Tags, ",")}
	}
	pkgs, err := packages.Load(cfg, req.Patterns...)
	if err != nil {
		return nil, fmt.Errorf("static analysis: load packages: %w", err)
	}
	if len(pkgs) == 0 {
		return nil, errors.New("static analysis: no packages match " + strings.Join(req.Patterns, " "))
	}
	return pkgs, nil
}

// selectPackages picks what go vet analyses: each package once, in its
// test variant when tests are loaded, plus external test packages, never
// the generated test mains.
func selectPackages(pkgs []*packages.Package) []*packages.Package {
	hasTestVariant := map[string]bool{}
	for _, p := range pkgs {
		if p.ForTest != "" && strings.Contains(p.ID, " [") && !strings.HasSuffix(p.Name, "_test") {
			hasTestVariant[p.PkgPath] = true
		}
	}
	var out []*packages.Package
	for _, p := range pkgs {
		switch {
		case p.Name == "main" && strings.HasSuffix(p.ID, ".test"):
			continue // generated test main
		case p.ForTest == "" && hasTestVariant[p.PkgPath]:
			continue // analysed in its test variant
		case p.Types == nil || len(p.Syntax) == 0:
			continue
		}
		out = append(out, p)
	}
	return out
}

// packageError is a load error on one line: the go command's
// "# package" headers dropped, several errors joined with "; ".
func packageError(e packages.Error) string {
	var parts []string
	if e.Pos != "" && e.Pos != "-" {
		parts = append(parts, e.Pos+":")
	}
	for _, line := range strings.Split(e.Msg, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "# ") {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, " ")
}

func countErrors(pkgs []*packages.Package) int {
	n := 0
	packages.Visit(pkgs, nil, func(p *packages.Package) { n += len(p.Errors) })
	return n
}

func allIllTyped(pkgs []*packages.Package) bool {
	for _, p := range pkgs {
		if !p.IllTyped {
			return false
		}
	}
	return true
}

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

func relativeTo(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(file)
}

func dedupFindings(fs []*Finding) []*Finding {
	seen := map[string]bool{}
	out := fs[:0]
	for _, f := range fs {
		k := f.Rule + "|" + f.Where() + "|" + f.Message
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}

func sortFindings(fs []*Finding) {
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
		return a.Rule < b.Rule
	})
}

func dedup(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// moduleVersion is the version of a module linked into hegui.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

// workers is how many packages gosec analyses at once.
func workers() int { return max(1, runtime.GOMAXPROCS(0)) }
