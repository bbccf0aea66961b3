package sast

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/schematest"
)

// The fixture has one finding of each kind the stage must handle.
const fixtureMain = `package main

import (
	"crypto/md5"
	"fmt"
	"os"
	"os/exec"
)

func main() {
	sum := md5.Sum([]byte(os.Args[0])) // G401: weak hash
	fmt.Printf("%d\n", "not a number") // printf: verb and argument disagree
	cmd := exec.Command(os.Args[1])    // G204: command from a variable
	_ = cmd.Run()
	_ = sum

	// A suppression with a reason.
	legacy := md5.New() // #nosec G401 -- checksum for a legacy protocol, not security
	_ = legacy

	//nolint:gosec // the path comes from the operator's own configuration
	data, _ := os.ReadFile(os.Getenv("APP_CONFIG"))
	_ = data

	blanket := md5.Sum(data) // #nosec
	_ = blanket
}
`

func fixture(t *testing.T) string {
	return writeModule(t, map[string]string{
		"go.mod":  "module fixture.example/sast\n\ngo 1.22\n",
		"main.go": fixtureMain,
	})
}

// writeModule writes files (path: content) to a new directory.
func writeModule(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, body := range files {
		name = filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func findAt(d *format.SASTDocument, rule string, line int) *format.SASTFinding {
	for _, f := range d.Findings {
		if f.Rule == rule && f.Line == line {
			return f
		}
	}
	return nil
}

func TestAnalyze(t *testing.T) {
	dir := fixture(t)
	doc, err := Analyze(context.Background(), &Request{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Packages != 1 || len(doc.Tools) != 2 {
		t.Errorf("packages %d, tools %+v", doc.Packages, doc.Tools)
	}
	weak := findAt(doc, "G401", 11)
	if weak == nil || weak.CWE != 328 || weak.Severity != "medium" || weak.Suppression != nil || weak.File != "main.go" {
		t.Errorf("G401 at line 11 = %+v, want an unsuppressed CWE-328 finding in main.go", weak)
	}
	if f := findAt(doc, "printf", 12); f == nil || f.Tool != "vet" || f.CWE != 686 {
		t.Errorf("printf at line 12 = %+v, want a vet finding with CWE-686", f)
	}
	if f := findAt(doc, "G204", 13); f == nil || f.CWE != 78 {
		t.Errorf("G204 at line 13 = %+v, want CWE-78", f)
	}
	nosec := findAt(doc, "G401", 18)
	if nosec == nil || nosec.Suppression == nil || nosec.Suppression.Directive != "#nosec" ||
		nosec.Suppression.Justification != "checksum for a legacy protocol, not security" {
		t.Errorf("G401 at line 18 = %+v, want suppressed by #nosec with its reason", nosec)
	}
	nolint := findAt(doc, "G703", 22)
	if nolint == nil || nolint.Suppression == nil || nolint.Suppression.Directive != "//nolint:gosec" ||
		nolint.Suppression.Justification != "the path comes from the operator's own configuration" {
		t.Errorf("G703 at line 22 = %+v, want suppressed by //nolint:gosec with its reason", nolint)
	}
	blanket := findAt(doc, "G401", 25)
	if blanket == nil || blanket.Suppression == nil || blanket.Suppression.Justification != "" {
		t.Errorf("G401 at line 25 = %+v, want suppressed without a reason", blanket)
	}
	if doc.Summary.Suppressed != 3 {
		t.Errorf("suppressed = %d, want 3", doc.Summary.Suppressed)
	}

	data, err := SARIF(doc, "test")
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, data)
	for _, want := range []string{`"justification": "checksum for a legacy protocol, not security"`, `"kind": "inSource"`, `"name": "CWE"`, `"uri": "main.go"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("SARIF log lacks %s", want)
		}
	}
}

func TestAnalyzeSubsets(t *testing.T) {
	dir := fixture(t)
	vet, err := Analyze(context.Background(), &Request{Dir: dir, Analyzers: "vet"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range vet.Findings {
		if f.Tool != "vet" {
			t.Errorf("vet-only analysis reported %s from %s", f.Rule, f.Tool)
		}
	}
	sec, err := Analyze(context.Background(), &Request{Dir: dir, Analyzers: "security", Exclude: []string{"G401"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sec.Findings {
		if f.Tool != "gosec" || f.Rule == "G401" {
			t.Errorf("security analysis without G401 reported %s from %s", f.Rule, f.Tool)
		}
	}
}

func TestAnalyzeErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken.example\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644)
	_, err := Analyze(context.Background(), &Request{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "undefined") || strings.Contains(err.Error(), "\n") {
		t.Errorf("ill-typed module: err = %v, want one line naming the error", err)
	}
	if _, err := Analyze(context.Background(), &Request{Dir: t.TempDir()}); err == nil {
		t.Error("directory without a module: no error")
	}
}

// crossFixture is a module whose findings depend on types another package
// of the module declares: each package is type-checked against the others'
// export data, and an external test against its package's test variant.
var crossFixture = map[string]string{
	"go.mod": "module fixture.example/cross\n\ngo 1.22\n",
	"lock/lock.go": `package lock

import "sync"

// Guarded holds a mutex: copying it is a bug.
type Guarded struct {
	mu sync.Mutex
	N  int
}

// Inc counts one.
func (g *Guarded) Inc() { g.mu.Lock(); g.N++; g.mu.Unlock() }

// Format is a format for a count.
const Format = "%d items\n"
`,
	"lock/export_test.go": `package lock

// Internal is visible to the external tests only.
var Internal = 42
`,
	"lock/lock_test.go": `package lock_test

import (
	"testing"

	"fixture.example/cross/lock"
)

func TestInternal(t *testing.T) {
	var g lock.Guarded
	h := g
	if h.N != 0 || lock.Internal != 42 {
		t.Fail()
	}
}
`,
	"use/use.go": `package use

import (
	"fmt"

	"fixture.example/cross/lock"
)

// Count passes a lock by value.
func Count(g lock.Guarded) int { return g.N }

// Report formats a string as a number.
func Report() { fmt.Printf(lock.Format, "three") }
`,
}

func TestAnalyzeAcrossPackages(t *testing.T) {
	dir := writeModule(t, crossFixture)
	doc, err := Analyze(context.Background(), &Request{Dir: dir, Tests: true, Analyzers: "vet"})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Errors) > 0 {
		t.Errorf("errors: %q", doc.Errors)
	}
	for _, want := range []struct {
		rule, file string
		line       int
	}{
		{"copylocks", "use/use.go", 10},        // lock.Guarded's mutex, seen in export data
		{"printf", "use/use.go", 13},           // lock.Format's value, from export data
		{"copylocks", "lock/lock_test.go", 11}, // in the external test
	} {
		found := false
		for _, f := range doc.Findings {
			found = found || f.Rule == want.rule && f.File == want.file && f.Line == want.line
		}
		if !found {
			t.Errorf("no %s finding at %s:%d; findings: %+v", want.rule, want.file, want.line, doc.Findings)
		}
	}
}

// BenchmarkAnalyze analyses a module of three packages and an external
// test with both suites. docs/PERFORMANCE.md measures real projects, next
// to gosec, with scripts/bench-scan.sh.
func BenchmarkAnalyze(b *testing.B) {
	files := map[string]string{"main.go": fixtureMain}
	maps.Copy(files, crossFixture)
	dir := writeModule(b, files)
	b.ReportAllocs()
	for b.Loop() {
		doc, err := Analyze(context.Background(), &Request{Dir: dir, Tests: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(doc.Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}
