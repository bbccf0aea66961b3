package format

import (
	"encoding/json"
	"strings"
)

// TestsSchema identifies tests.json.
const TestsSchema = "hegui.dev/tests/v1"

// TestsDocument is tests.json: what the module's own tests did when
// `go test` ran them for the delivery (docs/delivery-format.md).
//
// Counts are of top-level tests, examples and fuzz targets, not of
// subtests: a table-driven test is one test however many cases it runs.
// A fuzz target runs over its seed corpus (f.Add and testdata/fuzz) as a
// test does; its seed inputs are counted in FuzzSeeds.
type TestsDocument struct {
	Schema string `json:"schema"`
	Module string `json:"module"`
	// GoVersion is the toolchain that ran the tests.
	GoVersion string `json:"goVersion"`
	// Command is the go command that ran, as its arguments.
	Command []string `json:"command"`
	// Race says whether the race detector was on, and why not.
	Race TestRace `json:"race"`
	// Short is set when the tests ran with -short.
	Short bool `json:"short"`
	// Timeout is the stage's time limit (tests.timeout); TimedOut is set
	// when it passed before every package had finished.
	Timeout  string     `json:"timeout"`
	TimedOut bool       `json:"timedOut,omitempty"`
	Seconds  float64    `json:"seconds"`
	Totals   TestTotals `json:"totals"`
	// Packages are in import-path order.
	Packages []*TestPackage `json:"packages"`
}

// TestRace is whether the tests ran with the race detector.
type TestRace struct {
	Enabled bool `json:"enabled"`
	// Reason says why it was off: turned off in hegui.yaml, or not
	// supported on the host (no cgo, or a platform it does not run on).
	Reason string `json:"reason,omitempty"`
}

// TestTotals adds up the packages.
type TestTotals struct {
	Packages int `json:"packages"`
	// PackagesWithTests are the packages that ran at least one test;
	// FailedPackages those whose status is fail.
	PackagesWithTests int `json:"packagesWithTests"`
	FailedPackages    int `json:"failedPackages"`
	Tests             int `json:"tests"`
	Passed            int `json:"passed"`
	Failed            int `json:"failed"`
	Skipped           int `json:"skipped"`
	FuzzTargets       int `json:"fuzzTargets"`
	FuzzSeeds         int `json:"fuzzSeeds"`
	// Coverage is the share of the statements of every package listed
	// that the tests ran, in percent (nil when no coverage was recorded).
	Coverage *float64 `json:"coverage,omitempty"`
}

// TestStatus is how a package's tests came out.
type TestStatus string

// The package statuses; report.json's schema allows exactly these
// (TestStatusesMatchTheSchema).
const (
	TestPass TestStatus = "pass" // every test that ran passed (some may have skipped)
	// TestFail: a test failed, the test binary failed to build or crashed,
	// or the package did not finish in time.
	TestFail TestStatus = "fail"
	TestSkip TestStatus = "skip"     // every test skipped itself
	NoTests  TestStatus = "no-tests" // no test, example or fuzz target to run
)

// TestStatuses are all the package statuses.
var TestStatuses = []TestStatus{TestPass, TestFail, TestSkip, NoTests}

// TestPackage is one package's result.
type TestPackage struct {
	Package string     `json:"package"`
	Status  TestStatus `json:"status"`
	Tests   int        `json:"tests"`
	Passed  int        `json:"passed"`
	Failed  int        `json:"failed"`
	Skipped int        `json:"skipped"`
	// FuzzTargets are the fuzz targets that ran over their seed corpora;
	// FuzzSeeds counts the seed inputs they ran.
	FuzzTargets []string `json:"fuzzTargets,omitempty"`
	FuzzSeeds   int      `json:"fuzzSeeds,omitempty"`
	// Coverage is the share of the package's statements its tests ran,
	// in percent (nil when no coverage was recorded).
	Coverage *float64 `json:"coverage,omitempty"`
	// Statements is the number of statements coverage counts.
	Statements int     `json:"statements,omitempty"`
	Seconds    float64 `json:"seconds"`
	// Failures say what failed, with the beginning of its output.
	Failures []TestFailure `json:"failures,omitempty"`
}

// TestFailure is one failed test, or a package that failed outside its
// tests (a build failure, a crash, a timeout): Test is then empty.
type TestFailure struct {
	Test string `json:"test,omitempty"`
	// Output is what it printed, without go test's own framing lines: at
	// most MaxFailureLines lines of MaxFailureLineBytes, the first and the
	// last, with a line "… N more lines …" for those between.
	Output string `json:"output"`
}

// Reason is the line of a failure's output that most likely says what
// went wrong: a panic's first line (a crash, a timeout), else the last
// line, where a failed check usually is after the test's own logging.
func (f TestFailure) Reason() string {
	last := ""
	for _, line := range strings.Split(f.Output, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "panic: ") {
			return line
		}
		if line != "" && !(strings.HasPrefix(line, "… ") && strings.HasSuffix(line, " more lines …")) {
			last = line
		}
	}
	if last == "" {
		return "no output"
	}
	return last
}

// The bounds on what a failure keeps of its output, and on the failures
// a package lists: enough to see what failed, while a test that prints
// megabytes cannot make tests.json (and report.json) as large.
const (
	MaxFailureLines     = 30
	MaxFailureLineBytes = 400
	MaxFailures         = 20
)

// SumTests adds up the packages' counts (all of TestTotals but the
// coverage, which needs the statements of each package).
func SumTests(pkgs []*TestPackage) TestTotals {
	var t TestTotals
	for _, p := range pkgs {
		if p == nil {
			continue
		}
		t.Packages++
		if p.Tests > 0 {
			t.PackagesWithTests++
		}
		if p.Status == TestFail {
			t.FailedPackages++
		}
		t.Tests += p.Tests
		t.Passed += p.Passed
		t.Failed += p.Failed
		t.Skipped += p.Skipped
		t.FuzzTargets += len(p.FuzzTargets)
		t.FuzzSeeds += p.FuzzSeeds
	}
	return t
}

// JSON is tests.json.
func (d *TestsDocument) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
