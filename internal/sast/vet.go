package sast

import (
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/analysis/passes/appends"
	"golang.org/x/tools/go/analysis/passes/asmdecl"
	"golang.org/x/tools/go/analysis/passes/assign"
	"golang.org/x/tools/go/analysis/passes/atomic"
	"golang.org/x/tools/go/analysis/passes/bools"
	"golang.org/x/tools/go/analysis/passes/buildtag"
	"golang.org/x/tools/go/analysis/passes/cgocall"
	"golang.org/x/tools/go/analysis/passes/composite"
	"golang.org/x/tools/go/analysis/passes/copylock"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/defers"
	"golang.org/x/tools/go/analysis/passes/directive"
	"golang.org/x/tools/go/analysis/passes/errorsas"
	"golang.org/x/tools/go/analysis/passes/framepointer"
	"golang.org/x/tools/go/analysis/passes/hostport"
	"golang.org/x/tools/go/analysis/passes/httpresponse"
	"golang.org/x/tools/go/analysis/passes/ifaceassert"
	"golang.org/x/tools/go/analysis/passes/loopclosure"
	"golang.org/x/tools/go/analysis/passes/lostcancel"
	"golang.org/x/tools/go/analysis/passes/nilfunc"
	"golang.org/x/tools/go/analysis/passes/printf"
	"golang.org/x/tools/go/analysis/passes/shift"
	"golang.org/x/tools/go/analysis/passes/sigchanyzer"
	"golang.org/x/tools/go/analysis/passes/slog"
	"golang.org/x/tools/go/analysis/passes/stdmethods"
	"golang.org/x/tools/go/analysis/passes/stdversion"
	"golang.org/x/tools/go/analysis/passes/stringintconv"
	"golang.org/x/tools/go/analysis/passes/structtag"
	"golang.org/x/tools/go/analysis/passes/testinggoroutine"
	"golang.org/x/tools/go/analysis/passes/tests"
	"golang.org/x/tools/go/analysis/passes/timeformat"
	"golang.org/x/tools/go/analysis/passes/unmarshal"
	"golang.org/x/tools/go/analysis/passes/unreachable"
	"golang.org/x/tools/go/analysis/passes/unsafeptr"
	"golang.org/x/tools/go/analysis/passes/unusedresult"
	"golang.org/x/tools/go/analysis/passes/waitgroup"
	"golang.org/x/tools/go/packages"
	"hegui.dev/hegui/internal/format"
)

// vetSuite is the analyzer list of cmd/vet in Go 1.26.
var vetSuite = []*analysis.Analyzer{
	appends.Analyzer, asmdecl.Analyzer, assign.Analyzer, atomic.Analyzer, bools.Analyzer,
	buildtag.Analyzer, cgocall.Analyzer, composite.Analyzer, copylock.Analyzer, defers.Analyzer,
	directive.Analyzer, errorsas.Analyzer, framepointer.Analyzer, hostport.Analyzer,
	httpresponse.Analyzer, ifaceassert.Analyzer, loopclosure.Analyzer, lostcancel.Analyzer,
	nilfunc.Analyzer, printf.Analyzer, shift.Analyzer, sigchanyzer.Analyzer, slog.Analyzer,
	stdmethods.Analyzer, stdversion.Analyzer, stringintconv.Analyzer, structtag.Analyzer,
	testinggoroutine.Analyzer, tests.Analyzer, timeformat.Analyzer, unmarshal.Analyzer,
	unreachable.Analyzer, unsafeptr.Analyzer, unusedresult.Analyzer, waitgroup.Analyzer,
}

// vetCWE maps the vet analyzers whose findings are a recognisable weakness
// to its CWE. The mapping is hegui's own judgement (no standard maps vet
// to CWE) and deliberately sparse; docs/vet.md explains each entry.
var vetCWE = map[string]int{
	"atomic":        362,  // race condition: x = atomic.AddX(&x, 1)
	"waitgroup":     362,  // WaitGroup.Add inside the goroutine races with Wait
	"copylocks":     667,  // improper locking: a copied mutex
	"lostcancel":    772,  // missing release of a resource (context timer/goroutine)
	"httpresponse":  476,  // the response used before its error is checked (nil dereference)
	"unsafeptr":     758,  // undefined behaviour: invalid uintptr to unsafe.Pointer
	"cgocall":       758,  // cgo pointer-passing rules broken
	"shift":         1335, // shift by the width of the type or more
	"stringintconv": 704,  // string(int) yields a rune, not digits
	"ifaceassert":   704,  // impossible interface assertion
	"unmarshal":     686,  // non-pointer passed to Unmarshal
	"errorsas":      686,  // non-pointer passed to errors.As (panics)
	"printf":        686,  // format verb and argument do not agree
	"unusedresult":  252,  // result of a pure function discarded
	"unreachable":   561,  // dead code
	"nilfunc":       570,  // comparison of a function with nil: always false
}

// withoutCrossPackageFacts makes printf and lostcancel (through ctrlflow)
// run on root packages alone. They normally import facts computed on every
// dependency, which needs the syntax of the whole import graph — about
// eight times the memory of the load the other analyzers need. Without
// those facts printf still knows the standard library's print functions
// and ctrlflow its built-in list of functions that do not return; what is
// lost is printf wrappers and non-returning functions declared in other
// packages. Clearing ctrlflow's fact types changes a package variable,
// which is why this happens once, here, in hegui's process.
var withoutCrossPackageFacts = sync.OnceValue(func() []*analysis.Analyzer {
	ctrlflow.Analyzer.FactTypes = nil
	out := make([]*analysis.Analyzer, 0, len(vetSuite))
	for _, a := range vetSuite {
		if len(a.FactTypes) > 0 {
			c := *a
			c.FactTypes = nil
			a = &c
		}
		out = append(out, a)
	}
	return out
})

// vetAnalyzers is go vet's suite less the excluded analyzers.
func vetAnalyzers(excluded map[string]bool) ([]*analysis.Analyzer, error) {
	var suite []*analysis.Analyzer
	for _, a := range withoutCrossPackageFacts() {
		if !excluded[a.Name] {
			suite = append(suite, a)
		}
	}
	return suite, analysis.Validate(suite)
}

// runVet runs go vet's analyzers on one type-checked package.
func runVet(p *packages.Package, suite []*analysis.Analyzer) ([]*format.SASTFinding, error) {
	if len(suite) == 0 {
		return nil, nil
	}
	graph, err := checker.Analyze(suite, []*packages.Package{p}, &checker.Options{})
	if err != nil {
		return nil, err
	}
	var out []*format.SASTFinding
	for _, act := range graph.Roots {
		if act.Err != nil {
			continue // ill-typed package: its errors are reported as load errors
		}
		for _, d := range act.Diagnostics {
			pos := act.Package.Fset.Position(d.Pos)
			f := &format.SASTFinding{
				Tool: "vet", Rule: act.Analyzer.Name, Message: d.Message, Package: act.Package.PkgPath,
				File: pos.Filename, Line: pos.Line, Column: pos.Column, Severity: "low",
			}
			if cwe, ok := vetCWE[f.Rule]; ok {
				f.CWE, f.Severity = cwe, "medium"
			}
			out = append(out, f)
		}
	}
	return out, nil
}
