// Package sast runs static analysis on a Go module: go vet's analyzers
// and gosec's security rules and analyzers, in process, over one listing of
// the packages (golang.org/x/tools/go/packages), and returns the findings
// as a format.SASTDocument. Each package is parsed and type-checked once for both
// suites, analysed and dropped, so a large module's syntax is never in
// memory all at once (load.go). Findings carry CWE ids where a weakness
// fits. Suppressions written the way Go developers already write them —
// gosec's `#nosec G401 -- reason` and golangci-lint's `//nolint:gosec //
// reason` — are honoured: a suppressed finding stays in the results,
// marked with its directive and reason, instead of disappearing.
package sast

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"
	"hegui.dev/hegui/internal/format"
)

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

// Analyze lists the packages once, then analyses them a few at a time:
// each is parsed, type-checked, given to go vet's analyzers and to gosec,
// and dropped. Memory holds the dependencies' types, read once from export
// data and shared, and the packages in progress, not the whole module's
// syntax (load.go explains the loading).
func Analyze(ctx context.Context, req *Request) (*format.SASTDocument, error) {
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
	if os.Getenv("GOGC") == "" {
		// Analysis makes garbage fast (each package's syntax, types and
		// SSA form, dropped when it is done): collecting at half the
		// default growth keeps the peak about 15% lower, below gosec's
		// own, for about 15% more time (docs/PERFORMANCE.md).
		defer debug.SetGCPercent(debug.SetGCPercent(50))
	}
	all, err := listPackages(ctx, req)
	if err != nil {
		return nil, err
	}
	doc := &format.SASTDocument{Schema: format.SASTSchema, Findings: []*format.SASTFinding{}}
	roots := selectPackages(all)
	for _, p := range roots {
		doc.Packages++
		doc.Files += len(p.CompiledGoFiles)
		if doc.Module == "" && p.Module != nil && p.Module.Main {
			doc.Module = p.Module.Path
		}
	}
	progress("%d packages, %d files listed", doc.Packages, doc.Files)

	excluded := map[string]bool{}
	for _, r := range req.Exclude {
		excluded[r] = true
	}
	var a analyses
	if req.Analyzers == "all" || req.Analyzers == "vet" {
		if a.vet, err = vetAnalyzers(excluded); err != nil {
			return nil, err
		}
		doc.Tools = append(doc.Tools, format.SASTTool{Name: "go vet", Module: "golang.org/x/tools", Version: moduleVersion("golang.org/x/tools"), Rules: len(a.vet)})
	}
	if req.Analyzers == "all" || req.Analyzers == "security" {
		setGoVersion(roots)
		a.gosec = newGosecSuite(excluded, req.Tests)
		doc.Tools = append(doc.Tools, format.SASTTool{Name: "gosec", Module: "github.com/securego/gosec/v2", Version: moduleVersion("github.com/securego/gosec/v2"), Rules: a.gosec.size()})
	}
	results, err := a.run(ctx, newTypeChecker(all, roots), roots)
	if err != nil {
		return nil, err
	}

	var loadErrs []string
	packages.Visit(all, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, packageError(e))
		}
	})
	if len(loadErrs) > 0 && allIllTyped(roots) {
		return nil, fmt.Errorf("static analysis: %s", loadErrs[0])
	}
	doc.Errors = dedup(loadErrs)

	nolints := map[string][]nolint{}
	var vetFindings, gosecFindings []*format.SASTFinding
	for _, r := range results {
		vetFindings = append(vetFindings, r.vet...)
		gosecFindings = append(gosecFindings, r.gosec...)
		for file, ds := range r.nolint {
			if _, seen := nolints[file]; !seen {
				nolints[file] = ds
			}
		}
	}
	if a.vet != nil {
		progress("go vet's analyzers: %d findings", len(vetFindings))
	}
	if a.gosec != nil {
		progress("gosec: %d findings", len(gosecFindings))
	}
	doc.Findings = append(append(doc.Findings, vetFindings...), gosecFindings...)
	applyNolint(nolints, doc.Findings)
	for _, f := range doc.Findings {
		f.File = relativeTo(req.Dir, f.File)
	}
	doc.Findings = dedupFindings(doc.Findings)
	format.SortSASTFindings(doc.Findings)
	doc.Summarize()
	doc.Seconds = time.Since(start).Seconds()
	return doc, nil
}

// analyses is what runs on each package: go vet's analyzers and gosec's
// suite, either of which may be absent.
type analyses struct {
	vet   []*analysis.Analyzer
	gosec *gosecSuite
}

// packageResult is what one package's analysis leaves behind.
type packageResult struct {
	vet, gosec []*format.SASTFinding
	nolint     map[string][]nolint
	err        error
}

// run analyses the roots, as many at once as there are processors: each
// is type-checked, analysed and released. The results are in the order of
// the roots, whatever the order of the work.
//
// The work goes from the smallest package to the largest. Memory peaks
// while the largest package is analysed (its syntax, types and SSA form
// outweigh the rest); when it comes last, little runs beside it, and what
// earlier packages leave reachable for a while (heap profiles show a
// finished package's SSA form and types live until gosec's pooled analyzer
// state is reused, it seems) is small. On versitygw, the order go list
// gives peaked 1.3 times higher and largest first 1.7 times higher;
// smallest first was also the fastest.
func (a *analyses) run(ctx context.Context, tc *typeChecker, roots []*packages.Package) ([]packageResult, error) {
	results := make([]packageResult, len(roots))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers(), len(roots)) {
		wg.Go(func() {
			var sec *gosecChecker
			if a.gosec != nil {
				sec = a.gosec.newChecker()
			}
			for i := range next {
				p, r := roots[i], &results[i]
				tc.check(p)
				r.vet, r.err = runVet(p, a.vet)
				if sec != nil {
					r.gosec = sec.check(p)
				}
				r.nolint = nolintDirectives(p)
				release(p)
			}
		})
	}
	for _, i := range smallestFirst(roots) {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
	}
	return results, nil
}

// smallestFirst orders the packages by the size of their source files.
func smallestFirst(pkgs []*packages.Package) []int {
	size := make([]int64, len(pkgs))
	order := make([]int, len(pkgs))
	for i, p := range pkgs {
		order[i] = i
		for _, name := range p.CompiledGoFiles {
			if fi, err := os.Stat(name); err == nil {
				size[i] += fi.Size()
			}
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return size[order[a]] < size[order[b]] })
	return order
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
		case len(p.CompiledGoFiles) == 0:
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

func allIllTyped(pkgs []*packages.Package) bool {
	for _, p := range pkgs {
		if !p.IllTyped {
			return false
		}
	}
	return true
}

func relativeTo(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(file)
}

func dedupFindings(fs []*format.SASTFinding) []*format.SASTFinding {
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

// workers is how many packages are analysed at once.
func workers() int { return max(1, runtime.GOMAXPROCS(0)) }
