// Package tests is the stage that runs the module's own tests and keeps
// the result as evidence: go test over the main module's packages
// (tests.packages in hegui.yaml), with the race detector where the host
// can run it, statement coverage per package, and every fuzz target over
// its seed corpus (plain go test runs each FuzzXxx on its f.Add inputs and
// testdata/fuzz files; it does not fuzz). It writes tests.json
// (format.TestsDocument). The gate is the policy stage's (policy.tests),
// and the compliance rule security-tests reads the report's tests section.
//
// It is not a fuzzer or a test framework: it runs `go test -json` through
// gotool and reads the events cmd/test2json defines and the coverage
// profile, never go test's text.
package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

// Stage fills d.Tests.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return delivery.TestsStage }

// progressEvery is how often a long run says how far it is.
const progressEvery = 20 * time.Second

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	cfg := d.Config.Tests
	if !cfg.Runs() {
		return delivery.SkipWithWarning("tests.enabled is false in hegui.yaml", "the module's tests did not run: tests.enabled is false in hegui.yaml")
	}
	g := d.Go
	g.Dir = d.ModuleDir
	race := format.TestRace{Reason: "tests.race is false in hegui.yaml"}
	if cfg.WithRace() {
		ok, why, err := g.RaceSupport(ctx)
		if err != nil {
			return err
		}
		race = format.TestRace{Enabled: ok, Reason: why}
		if !ok {
			d.Log.Stepf("the race detector is off: %s", why)
		}
	}
	vars, err := g.EnvVars(ctx, "GOVERSION")
	if err != nil {
		return err
	}
	// The packages go test will report on, so that one it says nothing
	// about is not missed and progress can count. A package go list
	// cannot load is left to go test, which reports it as failing.
	var listed []string
	if pkgs, err := g.List(ctx, cfg.Packages, cfg.Tags); err == nil {
		for _, p := range pkgs {
			listed = append(listed, p.ImportPath)
		}
		if len(listed) == 0 {
			return delivery.SkipWithWarning("tests.packages matches no package", "the module's tests did not run: tests.packages ("+strings.Join(cfg.Packages, " ")+") matches no package")
		}
	}
	tmp, err := os.MkdirTemp("", "hegui-tests-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	req := gotool.TestRequest{
		Patterns: cfg.Packages, Tags: cfg.Tags, Race: race.Enabled, Short: cfg.WithShort(),
		Timeout: cfg.TimeoutDuration(), CoverProfile: filepath.Join(tmp, "cover.out"), Flags: cfg.Flags,
	}
	doc := &format.TestsDocument{
		Schema: format.TestsSchema, Module: d.Module.Path, GoVersion: vars["GOVERSION"],
		Command: append([]string{"go"}, req.Args()...), Race: race, Short: req.Short, Timeout: cfg.Timeout,
	}
	if listed != nil {
		d.Log.Stepf("%s (%d packages)", strings.Join(doc.Command, " "), len(listed))
	} else {
		d.Log.Stepf("%s", strings.Join(doc.Command, " "))
	}

	var mu sync.Mutex
	finished, failed := 0, 0
	c := newCollector(func(p *format.TestPackage) {
		finished++
		if p.Status == format.TestFail {
			failed++
			d.Log.Stepf("FAIL %s: %s", p.Package, failedNames(p))
		}
	})
	start := time.Now()
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				mu.Lock()
				d.Log.Stepf("%d of %d packages tested, %d failing (%s)", finished, len(listed), failed, time.Since(start).Round(time.Second))
				mu.Unlock()
			}
		}
	}()
	exit, err := g.Test(ctx, req, func(e gotool.TestEvent) {
		mu.Lock()
		defer mu.Unlock()
		c.add(e)
	})
	close(stop)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	doc.Seconds = time.Since(start).Seconds()
	if exit.Code != 0 && len(c.packages) == 0 {
		return fmt.Errorf("go test reported no package: %s", firstLines(exit.Stderr, 5))
	}
	doc.Packages = c.document(listed, "go test reported no result for this package: "+firstLines(exit.Stderr, 5))
	doc.Totals = format.SumTests(doc.Packages)
	if f, err := os.Open(req.CoverProfile); err == nil {
		counts, err := coverage(f)
		f.Close()
		if err != nil {
			d.Warn("tests: the coverage profile could not be read, so tests.json records no coverage: %v", err)
		} else {
			setCoverage(doc.Packages, &doc.Totals, counts)
		}
	}
	data, err := doc.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.TestsJSONFile), data, 0o644); err != nil {
		return err
	}
	d.Tests = doc
	d.Log.Stepf("%s; %s", Summary(doc), format.TestsJSONFile)
	return nil
}

// Summary is a run in one line: packages, tests, fuzz targets, coverage
// and the race detector.
func Summary(doc *format.TestsDocument) string {
	t := doc.Totals
	cov := "no coverage recorded"
	if t.Coverage != nil {
		cov = fmt.Sprintf("%.1f%% of statements covered", *t.Coverage)
	}
	race := "race detector on"
	if !doc.Race.Enabled {
		race = "race detector off"
	}
	return fmt.Sprintf("%d packages, %d with tests, %d failing: %d tests, %d passed, %d failed, %d skipped; %d fuzz target(s) over %d seed inputs; %s; %s",
		t.Packages, t.PackagesWithTests, t.FailedPackages, t.Tests, t.Passed, t.Failed, t.Skipped, t.FuzzTargets, t.FuzzSeeds, cov, race)
}

// failedNames names a failed package's failing tests, or says it failed
// outside them.
func failedNames(p *format.TestPackage) string {
	var names []string
	for _, f := range p.Failures {
		if f.Test != "" {
			names = append(names, f.Test)
		}
	}
	if len(names) == 0 {
		if len(p.Failures) > 0 {
			return firstLines(p.Failures[0].Output, 1)
		}
		return "failed"
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return strings.Join(names, ", ")
}

// firstLines is the first n non-empty lines of s, joined by "; ",
// leaving out the go command's download notes.
func firstLines(s string, n int) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" && len(out) < n && !strings.HasPrefix(line, "go: downloading ") {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return "no output"
	}
	return strings.Join(out, "; ")
}
