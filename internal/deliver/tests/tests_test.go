package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/internal/gotool"
)

// fixture is the state of a delivery of testdata/module (see its
// README.md), with tests.timeout cut to 3s for its hanging test.
func fixture(t *testing.T) *delivery.Delivery {
	t.Helper()
	d := deliverytest.New(t)
	if err := os.CopyFS(d.ModuleDir, os.DirFS("testdata/module")); err != nil {
		t.Fatal(err)
	}
	d.Module.Path = "example.com/fixture"
	d.Config.Tests.Timeout = "3s"
	return d
}

// TestStage runs go test on the fixture module: each package's status,
// counts, fuzz targets and coverage, what its failures say, and
// tests.json.
func TestStage(t *testing.T) {
	d := fixture(t)
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	doc := d.Tests
	if doc == nil {
		t.Fatal("no result")
	}
	type want struct {
		status                         format.TestStatus
		tests, passed, failed, skipped int
		failure                        string // in the first failure's output
	}
	wants := map[string]want{
		"example.com/fixture/broken":  {format.TestFail, 2, 1, 1, 0, "Double(2) = 6, want 4"},
		"example.com/fixture/calc":    {format.TestPass, 3, 2, 0, 1, ""},
		"example.com/fixture/hang":    {format.TestFail, 2, 1, 1, 0, "panic: test timed out after 3s"},
		"example.com/fixture/nobuild": {format.TestFail, 0, 0, 0, 0, "cannot use One()"},
		"example.com/fixture/notests": {format.NoTests, 0, 0, 0, 0, ""},
		"example.com/fixture/parse":   {format.TestPass, 2, 2, 0, 0, ""},
	}
	var names []string
	for _, p := range doc.Packages {
		names = append(names, p.Package)
		w, ok := wants[p.Package]
		if !ok {
			continue
		}
		if p.Status != w.status || p.Tests != w.tests || p.Passed != w.passed || p.Failed != w.failed || p.Skipped != w.skipped {
			t.Errorf("%s: %s, %d tests (%d passed, %d failed, %d skipped); want %s, %d (%d, %d, %d)", p.Package, p.Status,
				p.Tests, p.Passed, p.Failed, p.Skipped, w.status, w.tests, w.passed, w.failed, w.skipped)
		}
		if (len(p.Failures) > 0) != (w.failure != "") || w.failure != "" && !strings.Contains(p.Failures[0].Output, w.failure) {
			t.Errorf("%s: failures %+v, want one saying %q", p.Package, p.Failures, w.failure)
		}
	}
	if len(names) != len(wants) || !slices.IsSorted(names) {
		t.Errorf("packages %q, want the %d of the fixture in order", names, len(wants))
	}
	parse := doc.Packages[5]
	if !slices.Equal(parse.FuzzTargets, []string{"FuzzParse"}) || parse.FuzzSeeds != 3 {
		t.Errorf("parse: fuzz targets %q over %d seeds, want FuzzParse over 3 (two f.Add, one corpus file)", parse.FuzzTargets, parse.FuzzSeeds)
	}
	if parse.Coverage == nil || *parse.Coverage != 100 || doc.Packages[4].Coverage == nil || *doc.Packages[4].Coverage != 0 {
		t.Errorf("coverage of parse %v and notests %v, want 100 and 0", parse.Coverage, doc.Packages[4].Coverage)
	}
	tt := doc.Totals
	if tt.Packages != 6 || tt.PackagesWithTests != 4 || tt.FailedPackages != 3 || tt.Tests != 9 || tt.Failed != 2 || tt.FuzzTargets != 1 || tt.Coverage == nil {
		t.Errorf("totals %+v", tt)
	}
	if ok, why, _ := d.Go.RaceSupport(context.Background()); doc.Race.Enabled != ok || doc.Race.Reason != why {
		t.Errorf("race %+v, want it on where the host supports it (%v, %q)", doc.Race, ok, why)
	}
	if !doc.Short || !slices.Contains(doc.Command, "-short") || doc.GoVersion == "" {
		t.Errorf("short %v, command %q, go %q", doc.Short, doc.Command, doc.GoVersion)
	}
	data, err := os.ReadFile(d.Path(format.TestsJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var back format.TestsDocument
	if err := json.Unmarshal(data, &back); err != nil || back.Schema != format.TestsSchema || len(back.Packages) != 6 {
		t.Errorf("tests.json: %v, %+v", err, back)
	}
	steps := strings.Join(deliverytest.LogOf(d).Steps, "\n")
	for _, s := range []string{"FAIL example.com/fixture/broken: TestDouble", "FAIL example.com/fixture/hang: TestHang", "6 packages, 4 with tests, 3 failing", format.TestsJSONFile} {
		if !strings.Contains(steps, s) {
			t.Errorf("progress does not say %q:\n%s", s, steps)
		}
	}
}

// TestStageOptions: the race detector turned off says why; the tests
// turned off skip the stage with a warning; tests.flags reach go test.
func TestStageOptions(t *testing.T) {
	off, on := false, true
	d := fixture(t)
	d.Config.Tests.Race, d.Config.Tests.Short = &off, &on
	d.Config.Tests.Packages = []string{"./calc", "./parse"}
	d.Config.Tests.Flags = []string{"-skip=TestSub|FuzzParse"}
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if r := d.Tests.Race; r.Enabled || !strings.Contains(r.Reason, "tests.race is false") || slices.Contains(d.Tests.Command, "-race") {
		t.Errorf("race %+v, command %q", r, d.Tests.Command)
	}
	if tt := d.Tests.Totals; tt.Packages != 2 || tt.Tests != 3 || tt.FuzzTargets != 0 || tt.Failed != 0 {
		t.Errorf("with -skip: totals %+v", tt)
	}

	d = fixture(t)
	d.Config.Tests.Enabled = &off
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) || skip.Warning == "" || d.Tests != nil {
		t.Errorf("tests off: %v, want a skip with a warning", err)
	}

	d = fixture(t)
	d.Config.Tests.Packages = []string{"./parse/testdata/..."}
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) || !strings.Contains(skip.Reason, "matches no package") {
		t.Errorf("no package: %v, want a skip", err)
	}

	// A pattern naming no directory is go test's setup failure, which
	// fails as a package named by the pattern, saying so.
	d = fixture(t)
	d.Config.Tests.Packages = []string{"./calc", "./nothing/..."}
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if p := d.Tests.Packages[0]; p.Package != "./nothing/..." || p.Status != format.TestFail || !strings.Contains(p.Failures[0].Output, "no such file or directory") {
		t.Errorf("a pattern naming no directory: %+v", p)
	}
}

// recorded reads what go test printed for the fixture module
// (testdata/module/README.md) into the packages of tests.json.
func recorded(t testing.TB) *format.TestsDocument {
	t.Helper()
	stream, err := os.ReadFile("testdata/gotest.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector(nil)
	gotool.DecodeTestEvents(bytes.NewReader(stream), c.add)
	doc := &format.TestsDocument{
		Schema: format.TestsSchema, Module: "example.com/fixture", GoVersion: "go1.26.8",
		Command: []string{"go", "test", "-json", "-count=1", "-cover", "-short", "-timeout=3s", "-coverprofile=cover.out", "./..."},
		Race:    format.TestRace{Reason: "the recording ran without it"}, Short: true, Timeout: "3s", Seconds: 8.1,
	}
	doc.Packages = c.document(nil, "")
	doc.Totals = format.SumTests(doc.Packages)
	f, err := os.Open("testdata/cover.out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts, err := coverage(f)
	if err != nil {
		t.Fatal(err)
	}
	setCoverage(doc.Packages, &doc.Totals, counts)
	return doc
}

// TestRecordedRun reads a recorded go test -json stream into tests.json,
// compared with its golden file.
func TestRecordedRun(t *testing.T) {
	doc := recorded(t)
	data, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "tests.json.golden", data)
	if want := "6 packages, 4 with tests, 3 failing: 9 tests, 6 passed, 2 failed, 1 skipped; 1 fuzz target(s) over 3 seed inputs; 80.0% of statements covered; race detector off"; Summary(doc) != want {
		t.Errorf("summary %q, want %q", Summary(doc), want)
	}
}

// TestPackagesGoTestMissed: a package go list names and go test never
// reported on, and one whose events stop before it ends, have failed.
func TestPackagesGoTestMissed(t *testing.T) {
	c := newCollector(nil)
	c.add(gotool.TestEvent{Action: "start", Package: "p/cut"})
	c.add(gotool.TestEvent{Action: "run", Package: "p/cut", Test: "TestA"})
	pkgs := c.document([]string{"p/cut", "p/never"}, "go test reported no result for this package: killed")
	if len(pkgs) != 2 {
		t.Fatalf("%d packages", len(pkgs))
	}
	for _, p := range pkgs {
		if p.Status != format.TestFail || len(p.Failures) == 0 || !strings.Contains(p.Failures[0].Output, "killed") {
			t.Errorf("%s: %+v", p.Package, p)
		}
	}
	if cut := pkgs[0]; cut.Failed != 1 || len(cut.Failures) != 2 || cut.Failures[1].Test != "TestA" {
		t.Errorf("the test running when the stream stopped did not fail: %+v", cut)
	}
}

// TestFailureOutputIsBounded: a failing test that prints without end
// keeps its first lines, each cut, and says how many more there were.
func TestFailureOutputIsBounded(t *testing.T) {
	c := newCollector(nil)
	c.add(gotool.TestEvent{Action: "run", Package: "p", Test: "TestNoisy"})
	c.add(gotool.TestEvent{Action: "output", Package: "p", Test: "TestNoisy", Output: strings.Repeat("é", 1000)})
	c.add(gotool.TestEvent{Action: "output", Package: "p", Test: "TestNoisy", Output: "still the first line\n"})
	for range 100 {
		c.add(gotool.TestEvent{Action: "output", Package: "p", Test: "TestNoisy", Output: "again\n"})
	}
	c.add(gotool.TestEvent{Action: "fail", Package: "p", Test: "TestNoisy"})
	c.add(gotool.TestEvent{Action: "fail", Package: "p"})
	p := c.document(nil, "")[0]
	out := p.Failures[0].Output
	kept := strings.Split(out, "\n")
	if len(kept) != format.MaxFailureLines+1 || kept[headLines] != "… 71 more lines …" || kept[len(kept)-1] != "again" {
		t.Errorf("%d lines: %q", len(kept), kept)
	}
	if first := kept[0]; len(first) > format.MaxFailureLineBytes+len("…") || !strings.HasSuffix(first, "é…") {
		t.Errorf("first line %d bytes, ending %q", len(first), first[len(first)-8:])
	}

	// Terminal colours are left out.
	var l lines
	l.add("\x1b[1m--- expected\n\x1b[31m-bad file\x1b[0m\n")
	if got := l.String(); got != "--- expected\n-bad file" {
		t.Errorf("colours kept: %q", got)
	}
}

// FuzzCollect: go test -json output comes from the module's tests, which
// can print anything; no stream makes the collector panic, count
// impossibly, or keep more output than its bounds.
func FuzzCollect(f *testing.F) {
	stream, err := os.ReadFile("testdata/gotest.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(stream, []byte("mode: set\nexample.com/fixture/calc/calc.go:5.24,5.40 1 1\n"))
	f.Add([]byte(`{"Action":"run","Package":"p","Test":"FuzzX/a/b"}`+"\n"+`{"Action":"fail","Package":"p","Test":"FuzzX/a/b","Output":"x"}`+"\n"+`{"Action":"pass","Package":"p"}`), []byte("mode: atomic\np/f.go:1.1,2.2 -1 5\n"))
	f.Add([]byte(`{"Action":"fail","Package":"p","FailedBuild":"p"}`+"\n"+`{"ImportPath":"p [p.test]","Action":"build-output","Output":"\x00"}`), []byte("mode: set\n"))
	f.Fuzz(func(t *testing.T, stream, profile []byte) {
		c := newCollector(func(*format.TestPackage) {})
		gotool.DecodeTestEvents(bytes.NewReader(stream), c.add)
		pkgs := c.document([]string{"p"}, "no result")
		tt := format.SumTests(pkgs)
		if counts, err := coverage(bytes.NewReader(profile)); err == nil {
			setCoverage(pkgs, &tt, counts)
		}
		for _, p := range pkgs {
			if p.Passed+p.Failed+p.Skipped > p.Tests || len(p.Failures) > format.MaxFailures || len(p.FuzzTargets) > p.Tests {
				t.Fatalf("%s: %+v", p.Package, p)
			}
			if p.Coverage != nil && (*p.Coverage < 0 || *p.Coverage > 100) {
				t.Fatalf("%s: coverage %v", p.Package, *p.Coverage)
			}
			for _, fl := range p.Failures {
				if n := strings.Count(fl.Output, "\n"); n > format.MaxFailureLines {
					t.Fatalf("%s: a failure of %d lines", p.Package, n)
				}
			}
			if !slices.Contains(format.TestStatuses, p.Status) {
				t.Fatalf("%s: status %q", p.Package, p.Status)
			}
		}
		doc := &format.TestsDocument{Schema: format.TestsSchema, Packages: pkgs, Totals: tt}
		if _, err := doc.JSON(); err != nil {
			t.Fatal(err)
		}
	})
}
