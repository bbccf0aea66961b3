package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Tests configures the tests stage: the module's own `go test`.
type Tests struct {
	// Enabled runs the tests; default true.
	Enabled *bool `yaml:"enabled"`
	// Packages are package patterns relative to the module root; default
	// ./... (every package of the module, nested modules excluded).
	Packages []string `yaml:"packages"`
	// Race runs the tests with the race detector where the host supports
	// it (cgo and a supported platform); default true.
	Race *bool `yaml:"race"`
	// Short runs them with -short; default true, so that tests which
	// need the network or an hour, and check testing.Short, skip.
	Short *bool `yaml:"short"`
	// Timeout bounds each package's test binary (go test -timeout);
	// default DefaultTestTimeout.
	Timeout string `yaml:"timeout"`
	// Tags are build tags for the tests.
	Tags []string `yaml:"tags"`
	// Flags are more go test flags, one argument each, from a short list
	// (TestFlags): -skip=TestIntegration, -p=1, ...
	Flags []string `yaml:"flags"`
}

// DefaultTestTimeout is the go command's own default: a test binary
// that runs longer has a test that hangs.
const DefaultTestTimeout = "10m"

// DefaultTestPackages are every package of the module.
var DefaultTestPackages = []string{"./..."}

// TestFlags are the go test flags tests.flags may pass: which tests run
// and how, not where results go (hegui reads them from -json and the
// coverage profile) nor what is built instead of running (-c, -o, -exec).
var TestFlags = []string{"run", "skip", "count", "cpu", "p", "parallel", "failfast", "shuffle", "vet", "mod", "ldflags", "gcflags", "covermode"}

// Runs reports whether the tests run.
func (t Tests) Runs() bool { return t.Enabled == nil || *t.Enabled }

// WithRace reports whether the race detector is asked for.
func (t Tests) WithRace() bool { return t.Race == nil || *t.Race }

// WithShort reports whether the tests run with -short.
func (t Tests) WithShort() bool { return t.Short == nil || *t.Short }

// TimeoutDuration is Timeout as a duration.
func (t Tests) TimeoutDuration() time.Duration {
	d, _ := time.ParseDuration(t.Timeout)
	return d
}

func (t *Tests) applyDefaults() {
	if len(t.Packages) == 0 {
		t.Packages = slices.Clone(DefaultTestPackages)
	}
	t.Timeout = orDefault(t.Timeout, DefaultTestTimeout)
}

var (
	// testPatternPattern: "." or "./dir/…", optionally ending in /...,
	// with the characters of import paths.
	testPatternPattern = regexp.MustCompile(`^\.(/[A-Za-z0-9._+~-]+)*$`)
	tagPattern         = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)
	testFlagPattern    = regexp.MustCompile(`^-(` + strings.Join(TestFlags, "|") + `)(=.*)?$`)
)

// validate checks the tests section.
func (t Tests) validate(at func(string) string) error {
	for i, p := range t.Packages {
		path := fmt.Sprintf("$.tests.packages[%d]", i)
		if len(p) > MaxOutputLength || !testPatternPattern.MatchString(p) || slices.Contains(strings.Split(p, "/"), "..") {
			return fmt.Errorf("%stests.packages[%d] %s: want a package pattern inside the module, such as ./... (every package) or ./internal/... (those under internal)", at(path), i, quoteShort(p))
		}
	}
	if t.Timeout != "" {
		if d, err := time.ParseDuration(t.Timeout); err != nil || d < time.Second {
			return fmt.Errorf("%stests.timeout %s: want a duration of at least a second, such as 10m or 1h", at("$.tests.timeout"), quoteShort(t.Timeout))
		}
	}
	for i, tag := range t.Tags {
		if !tagPattern.MatchString(tag) {
			return fmt.Errorf("%stests.tags[%d] %s: want a build tag (letters, digits, '_' and '.')", at(fmt.Sprintf("$.tests.tags[%d]", i)), i, quoteShort(tag))
		}
	}
	for i, f := range t.Flags {
		if !testFlagPattern.MatchString(f) || strings.ContainsAny(f, "\n\x00") {
			return fmt.Errorf("%stests.flags[%d] %s: want one of -%s, as one argument (-skip=TestNetwork)",
				at(fmt.Sprintf("$.tests.flags[%d]", i)), i, quoteShort(f), strings.Join(TestFlags, ", -"))
		}
	}
	return nil
}
