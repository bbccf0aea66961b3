package tests

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

// collector turns the events of go test -json into the packages of
// tests.json. It reads what the module's tests print, so it trusts none
// of it: events it cannot place are ignored, and what it keeps of any
// output is bounded (format.MaxFailureLines and friends).
//
// Counts are of top-level tests (TestXxx, ExampleXxx, FuzzXxx); a
// subtest of a fuzz target is one seed input it ran.
type collector struct {
	packages map[string]*packageRun
	// builds holds, by package, the beginning of the build output of a
	// test binary that did not build.
	builds map[string]*lines
	// done, if set, is called once for each package as it finishes.
	done func(*format.TestPackage)
}

// packageRun is a package whose test binary go test has started.
type packageRun struct {
	result   format.TestPackage
	finished bool
	// tests are the tests that have started, by name, until they end.
	tests map[string]*testRun
	// failedBelow names the tests with a failed subtest already listed in
	// Failures: the parent's own failure adds nothing.
	failedBelow map[string]bool
	// output is the package's own output (outside any test).
	output lines
}

// testRun is a test that has started.
type testRun struct {
	output lines
}

func newCollector(done func(*format.TestPackage)) *collector {
	return &collector{packages: map[string]*packageRun{}, builds: map[string]*lines{}, done: done}
}

// add takes one event.
func (c *collector) add(e gotool.TestEvent) {
	switch e.Action {
	case "build-output":
		pkg, _, _ := strings.Cut(e.ImportPath, " ")
		if pkg == "" {
			return
		}
		b := c.builds[pkg]
		if b == nil {
			b = &lines{}
			c.builds[pkg] = b
		}
		b.add(e.Output)
		return
	}
	if e.Package == "" {
		return
	}
	p := c.packages[e.Package]
	if p == nil {
		p = &packageRun{result: format.TestPackage{Package: e.Package}, tests: map[string]*testRun{}, failedBelow: map[string]bool{}}
		c.packages[e.Package] = p
	}
	if p.finished {
		return
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			if !goTestSummary(e.Output) {
				p.output.add(e.Output)
			}
		case "pass", "fail", "skip":
			c.finish(p, e)
		}
		return
	}
	t := p.tests[e.Test]
	switch e.Action {
	case "run":
		if t != nil {
			return
		}
		p.tests[e.Test] = &testRun{}
		top, sub, nested := strings.Cut(e.Test, "/")
		switch {
		case !nested:
			p.result.Tests++
			if strings.HasPrefix(top, "Fuzz") && !slices.Contains(p.result.FuzzTargets, top) {
				p.result.FuzzTargets = append(p.result.FuzzTargets, top)
			}
		case strings.HasPrefix(top, "Fuzz") && !strings.Contains(sub, "/"):
			p.result.FuzzSeeds++
		}
	case "output":
		if t != nil && !testFraming(e.Output) {
			t.output.add(e.Output)
		}
	case "pass", "skip", "fail":
		if t == nil {
			return
		}
		delete(p.tests, e.Test)
		if !strings.Contains(e.Test, "/") {
			switch e.Action {
			case "pass":
				p.result.Passed++
			case "skip":
				p.result.Skipped++
			case "fail":
				p.result.Failed++
			}
		}
		if e.Action == "fail" {
			p.testFailed(e.Test, t)
		}
	}
}

// testFailed lists the failure of test name: with its output, or, when it
// printed nothing of its own, unless a failed subtest already says why.
func (p *packageRun) testFailed(name string, t *testRun) {
	if t.output.empty() && p.failedBelow[name] {
		return
	}
	p.addFailure(format.TestFailure{Test: name, Output: t.output.String()})
	for parent := name; ; {
		i := strings.LastIndex(parent, "/")
		if i < 0 {
			break
		}
		parent = parent[:i]
		p.failedBelow[parent] = true
	}
}

func (p *packageRun) addFailure(f format.TestFailure) {
	if len(p.result.Failures) < format.MaxFailures {
		p.result.Failures = append(p.result.Failures, f)
	}
}

// finish ends a package with its package-level event: tests still
// running then (a timeout, a crash) have failed.
func (c *collector) finish(p *packageRun, e gotool.TestEvent) {
	p.finished = true
	r := &p.result
	r.Seconds = math.Round(e.Elapsed*1000) / 1000
	running := make([]string, 0, len(p.tests))
	for name := range p.tests {
		running = append(running, name)
	}
	slices.Sort(running)
	for _, name := range running {
		if !strings.Contains(name, "/") {
			r.Failed++
		}
		if e.Action == "fail" {
			p.testFailed(name, p.tests[name])
		}
	}
	p.tests, p.failedBelow = nil, nil
	switch {
	case e.Action == "fail" || r.Failed > 0:
		r.Status = format.TestFail
		if e.FailedBuild != "" {
			out := "the test binary did not build"
			if b := c.builds[e.Package]; b != nil && !b.empty() {
				out = b.String()
			}
			p.addFailure(format.TestFailure{Output: out})
		} else if len(r.Failures) == 0 {
			out := p.output.String()
			if out == "" {
				out = "the test binary failed outside any test"
			}
			p.addFailure(format.TestFailure{Output: out})
		}
	case r.Tests == 0:
		r.Status = format.NoTests
	case r.Skipped == r.Tests:
		r.Status = format.TestSkip
	default:
		r.Status = format.TestPass
	}
	p.output = lines{}
	if c.done != nil {
		c.done(r)
	}
}

// document returns the packages, in import-path order. Packages listed
// that go test never reported on, and packages it never finished, have
// failed with why.
func (c *collector) document(listed []string, why string) []*format.TestPackage {
	for _, name := range listed {
		if c.packages[name] == nil {
			c.packages[name] = &packageRun{result: format.TestPackage{Package: name}, tests: map[string]*testRun{}, failedBelow: map[string]bool{}}
		}
	}
	names := make([]string, 0, len(c.packages))
	for name := range c.packages {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]*format.TestPackage, 0, len(names))
	for _, name := range names {
		p := c.packages[name]
		if !p.finished {
			p.addFailure(format.TestFailure{Output: why})
			c.finish(p, gotool.TestEvent{Action: "fail", Package: name})
		}
		out = append(out, &p.result)
	}
	return out
}

// goTestSummary reports whether a package-level output line is go test's
// own summary rather than something the package printed.
func goTestSummary(line string) bool {
	for _, prefix := range []string{"PASS\n", "FAIL\n", "ok  \t", "FAIL\t", "?   \t", "coverage: ", "testing: warning: no tests to run"} {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	// "\tpkg\t\tcoverage: 0.0% of statements" for a package without tests.
	return strings.HasPrefix(line, "\t") && strings.Contains(line, "\tcoverage: ")
}

// testFraming reports whether a test's output line is the testing
// package's framing (=== RUN, --- FAIL: ...) rather than the test's own,
// or the coverage line a binary that stopped in a test prints as its.
func testFraming(line string) bool {
	s := strings.TrimLeft(line, " ")
	for _, prefix := range []string{"=== RUN ", "=== PAUSE ", "=== CONT ", "=== NAME ", "--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return line == "coverage: [no statements]\n" || strings.HasPrefix(line, "coverage: ") && strings.HasSuffix(line, "% of statements\n")
}

// lines keeps what a failure printed, bounded: its first headLines lines
// (where a panic or a timeout says what happened) and its last tailLines
// (where a failed check usually is, after the test's logging), each cut
// to format.MaxFailureLineBytes, and counts the lines between.
type lines struct {
	head, tail []string
	dropped    int
	// cur is the line being printed, until its newline.
	cur     string
	curOpen bool
}

// ansiEscape matches the terminal colour and cursor sequences some test
// helpers print, which mean nothing in tests.json or a report.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// headLines and tailLines share format.MaxFailureLines.
const (
	headLines = 10
	tailLines = format.MaxFailureLines - headLines
)

func (l *lines) add(s string) {
	s = ansiEscape.ReplaceAllString(s, "")
	for s != "" {
		piece, rest, ended := strings.Cut(s, "\n")
		s = rest
		if len(l.cur) < format.MaxFailureLineBytes {
			l.cur = cut(l.cur + piece)
		}
		l.curOpen = true
		if ended {
			l.push(l.cur)
			l.cur, l.curOpen = "", false
		}
	}
}

func (l *lines) push(line string) {
	switch {
	case len(l.head) < headLines:
		l.head = append(l.head, line)
	case len(l.tail) < tailLines:
		l.tail = append(l.tail, line)
	default:
		l.tail = append(l.tail[1:], line)
		l.dropped++
	}
}

// all are the lines kept, with a line saying how many were left out.
func (l *lines) all() []string {
	out := append([]string{}, l.head...)
	if l.dropped > 0 {
		out = append(out, fmt.Sprintf("… %d more lines …", l.dropped))
	}
	out = append(out, l.tail...)
	if l.curOpen {
		out = append(out, l.cur)
	}
	return out
}

func (l *lines) empty() bool {
	for _, s := range l.all() {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

func (l *lines) String() string {
	if l.empty() {
		return ""
	}
	return strings.Join(l.all(), "\n")
}

// cut shortens a line to format.MaxFailureLineBytes, at a character
// boundary.
func cut(s string) string {
	if len(s) <= format.MaxFailureLineBytes {
		return s
	}
	n := format.MaxFailureLineBytes
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
