// Package vulnscan finds the known vulnerabilities of Go code with the
// govulncheck engine (golang.org/x/vuln/scan), against an offline
// database (package vulndb), and writes what it finds as vulns.json,
// SARIF 2.1.0 and OpenVEX.
//
// Source mode follows calls: a finding is "called" only when a call path
// from the scanned code reaches a vulnerable symbol. Binary mode, for
// binaries built elsewhere, sees which vulnerable symbols are linked in.
// A call-graph scan of a large program needs a lot of memory, so a scan
// has a memory budget: a scan whose estimate exceeds it is split by main
// package, and a package that alone would exceed it is scanned as a
// binary instead; every finding says which precision it has.
//
// The engine runs inside hegui, in a child hegui process (see child.go),
// so that the budget is enforced, a cancelled scan stops at once, and a
// failure in the engine cannot take the delivery down with it.
package vulnscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/vulndb"
)

// DefaultMemoryBudget is the default limit on a scan's memory, 4 GiB.
const DefaultMemoryBudget int64 = 4 << 30

// Request says what to scan.
type Request struct {
	// Dir is the module root for source scans.
	Dir string
	// Patterns are the packages to scan in source mode, e.g. the main
	// packages of a delivery, or ./... .
	Patterns []string
	// Binaries are compiled binaries to scan in binary mode.
	Binaries []string
	// DB is the vulnerability database.
	DB *vulndb.Info
	// Env is added to the environment of package loading: GOOS, GOARCH,
	// GOFLAGS, CGO_ENABLED, GOWORK.
	Env []string
	// Tags are build tags; Tests includes test files.
	Tags  []string
	Tests bool
	// GoVersion is the Go version whose standard library the source was
	// built with (go1.26.1); empty means the go command's.
	GoVersion string
	// MemoryBudget bounds a scan's memory in bytes; 0 means no bound.
	MemoryBudget int64
	// PackageLevel scans imports only: fast, but a finding is "imported"
	// at best.
	PackageLevel bool
	// Progress, if set, receives one line per step.
	Progress func(format string, args ...any)
}

// Result is what a scan found.
type Result struct {
	Findings []*format.VulnFinding `json:"findings"`
	Scans    []*format.VulnRecord  `json:"scans"`
	// GoVersion is the Go version of the standard library scanned.
	GoVersion string `json:"goVersion,omitempty"`
}

func (r *Request) progress(format string, args ...any) {
	if r.Progress != nil {
		r.Progress(format, args...)
	}
}

// Scan runs the scans the request asks for and merges their findings.
func Scan(ctx context.Context, req *Request) (*Result, error) {
	if req.DB == nil {
		return nil, errors.New("no vulnerability database")
	}
	res := &Result{}
	if len(req.Patterns) > 0 {
		if err := scanSource(ctx, req, res); err != nil {
			return nil, err
		}
	}
	for _, bin := range req.Binaries {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return nil, err
		}
		if err := scanBinary(ctx, req, abs, bin, "", res); err != nil {
			return nil, err
		}
	}
	sortFindings(res.Findings)
	return res, nil
}

// scanSource scans the patterns with a call graph if the budget allows.
// Otherwise each main package is scanned alone — with a call graph if it
// fits, else as a binary — and the other packages together, with a call
// graph if they fit, else by their imports only.
func scanSource(ctx context.Context, req *Request, res *Result) error {
	if req.PackageLevel {
		return runSource(ctx, req, req.Patterns, format.PrecisionPackageImports, 0, "", res)
	}
	if req.MemoryBudget <= 0 {
		return runSource(ctx, req, req.Patterns, format.PrecisionCallGraph, 0, "", res)
	}
	// The whole scan starts at once. Only when its memory passes half the
	// budget is its estimate worked out, beside it: a scan that fits (most
	// do) pays for no estimate, and one that cannot fit is stopped as soon
	// as that is known, or at the latest when it passes the budget.
	scanCtx, stopScan := context.WithCancel(ctx)
	defer stopScan()
	type outcome struct {
		res *Result
		err error
	}
	whole := make(chan outcome, 1)
	halfway := make(chan struct{})
	var once sync.Once
	go func() {
		r := &Result{}
		err := runSource(scanCtx, req, req.Patterns, format.PrecisionCallGraph, 0, "", r, func() { once.Do(func() { close(halfway) }) })
		whole <- outcome{r, err}
	}()
	var o outcome
	select {
	case o = <-whole:
		if !errors.Is(o.err, errOverBudget) {
			if o.err == nil {
				res.Scans = append(res.Scans, o.res.Scans...)
				res.Findings = Merge(res.Findings, o.res.Findings)
				res.GoVersion = o.res.GoVersion
			}
			return o.err
		}
	case <-halfway:
	}
	graph, err := loadGraph(ctx, req)
	if err != nil {
		stopScan()
		<-whole
		return err
	}
	var mains, libs []string
	for _, p := range graph.roots {
		if p.Name == "main" {
			mains = append(mains, p.ImportPath)
		} else {
			libs = append(libs, p.ImportPath)
		}
	}
	if o.res == nil { // still running
		if est := graph.estimate(append(slices.Clone(mains), libs...)); est > req.MemoryBudget {
			stopScan()
			<-whole
			req.progress("estimated %s for a call-graph scan of everything, over the budget of %s: scanning part by part",
				human.Bytes(est), human.Bytes(req.MemoryBudget))
		} else if o = <-whole; !errors.Is(o.err, errOverBudget) {
			if o.err != nil {
				return o.err
			}
			for _, rec := range o.res.Scans {
				rec.Estimate = est
			}
			res.Scans = append(res.Scans, o.res.Scans...)
			res.Findings = Merge(res.Findings, o.res.Findings)
			res.GoVersion = o.res.GoVersion
			return nil
		}
	}
	for _, m := range mains {
		if err := scanPart(ctx, req, graph, []string{m}, true, res); err != nil {
			return err
		}
	}
	if len(libs) > 0 {
		return scanPart(ctx, req, graph, libs, false, res)
	}
	return nil
}

// scanPart scans some packages with a call graph if their estimate fits
// the budget (and the scan stays within it); a main package that does not
// fit is scanned as a binary, other packages by their imports.
func scanPart(ctx context.Context, req *Request, graph *sourceGraph, pkgs []string, main bool, res *Result) error {
	est := graph.estimate(pkgs)
	err := fmt.Errorf("%w: estimated %s", errOverBudget, human.Bytes(est))
	if est <= req.MemoryBudget {
		err = runSource(ctx, req, pkgs, format.PrecisionCallGraph, est, "", res)
	}
	if !errors.Is(err, errOverBudget) {
		return err
	}
	reason := strings.TrimPrefix(err.Error(), errOverBudget.Error()+": ")
	if main {
		return fallbackToBinary(ctx, req, pkgs[0], reason, res)
	}
	what := pkgs[0]
	if len(pkgs) > 1 {
		what = fmt.Sprintf("%d non-main packages", len(pkgs))
	}
	note := fmt.Sprintf("call-graph scan of %s exceeds the memory budget of %s (%s); scanned their imports only",
		what, human.Bytes(req.MemoryBudget), reason)
	req.progress("%s", note)
	return runSource(ctx, req, pkgs, format.PrecisionPackageImports, 0, note, res)
}

// fallbackToBinary scans pattern, a main package, as a binary because its
// call-graph scan would not fit in the budget.
func fallbackToBinary(ctx context.Context, req *Request, pattern, reason string, res *Result) error {
	note := fmt.Sprintf("call-graph scan of %s exceeds the memory budget of %s (%s); scanned the symbols linked into its binary instead",
		pattern, human.Bytes(req.MemoryBudget), reason)
	req.progress("%s", note)
	bin, cleanup, berr := buildForScan(ctx, req, pattern)
	if berr != nil {
		return fmt.Errorf("build %s for a binary scan: %w", pattern, berr)
	}
	defer cleanup()
	return scanBinary(ctx, req, bin, pattern, note, res)
}

var errOverBudget = errors.New("over the memory budget")

// engineGOGC is the engine process's garbage-collection target (see childEnv).
const engineGOGC = 90

// runSource runs one source scan.
func runSource(ctx context.Context, req *Request, patterns []string, precision string, est int64, note string, res *Result, halfway ...func()) error {
	level := "symbol"
	if precision == format.PrecisionPackageImports {
		level = "package"
	}
	args := []string{"-db", req.DB.URL, "-format", "json", "-scan", level, "-C", req.Dir}
	if len(req.Tags) > 0 {
		args = append(args, "-tags", joinComma(req.Tags))
	}
	if req.Tests {
		args = append(args, "-test")
	}
	args = append(args, patterns...)
	req.progress("scanning %s (%s)", describe(patterns), precision)
	var w *watch
	if precision == format.PrecisionCallGraph && req.MemoryBudget > 0 {
		w = &watch{budget: req.MemoryBudget}
		if len(halfway) > 0 {
			w.halfway = halfway[0]
		}
	}
	s, rec, err := runEngine(ctx, req, args, w)
	if err != nil {
		return err
	}
	rec.Subject, rec.Patterns, rec.Mode, rec.Precision, rec.Estimate, rec.Note = "source", patterns, "source", precision, est, note
	res.Scans = append(res.Scans, rec)
	if s.config.GoVersion != "" {
		res.GoVersion = s.config.GoVersion
	}
	res.Findings = Merge(res.Findings, findingsOf(s, "source", precision))
	return nil
}

// scanBinary runs one binary scan; subject names the binary in findings.
func scanBinary(ctx context.Context, req *Request, bin, subject, note string, res *Result) error {
	args := []string{"-db", req.DB.URL, "-format", "json", "-mode", "binary", bin}
	req.progress("scanning binary %s", subject)
	s, rec, err := runEngine(ctx, req, args, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	rec.Subject, rec.Mode, rec.Precision, rec.Note = subject, "binary", format.PrecisionBinarySymbols, note
	res.Scans = append(res.Scans, rec)
	if res.GoVersion == "" && s.sbom != nil {
		res.GoVersion = s.sbom.GoVersion
	}
	res.Findings = Merge(res.Findings, findingsOf(s, subject, format.PrecisionBinarySymbols))
	return nil
}

// watch is a memory budget to enforce on the engine's process.
type watch struct {
	budget int64
	// halfway, if set, is called once when the process passes half the budget.
	halfway func()
}

// runEngine runs the engine in a child process with args and decodes its
// output. With a watch, the budget is enforced: the child is stopped when
// its memory passes it.
func runEngine(ctx context.Context, req *Request, args []string, w *watch) (*stream, *format.VulnRecord, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = childEnv(req)
	cmd.Dir = req.Dir // where the engine asks the go command for its version
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	over := make(chan int64, 1)
	stop := make(chan struct{})
	if w != nil {
		go w.run(cmd.Process.Pid, over, stop)
	}
	werr := cmd.Wait()
	close(stop)
	rec := &format.VulnRecord{Seconds: time.Since(start).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rec.PeakRSS = ru.Maxrss * 1024
	}
	select {
	case used := <-over:
		return nil, nil, fmt.Errorf("%w: stopped at %s", errOverBudget, human.Bytes(used))
	default:
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	if werr != nil {
		return nil, nil, engineError(werr, stderr.String())
	}
	s, err := decodeStream(&stdout)
	if err != nil {
		return nil, nil, err
	}
	return s, rec, nil
}

// engineError turns a failed child into one line: the engine's first
// concrete complaint (a file position or an error message), not its
// boilerplate.
func engineError(err error, stderr string) error {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "", strings.HasPrefix(line, "For details on package patterns"),
			strings.HasPrefix(line, "There are errors with the provided package patterns"),
			strings.HasPrefix(line, "go get "):
			continue
		}
		lines = append(lines, strings.TrimSuffix(strings.TrimPrefix(line, "govulncheck: "), "; to add it:"))
	}
	switch len(lines) {
	case 0:
		return fmt.Errorf("vulnerability scan failed: %v", err)
	case 1:
		return fmt.Errorf("vulnerability scan failed: %s", lines[0])
	}
	// "loading packages:" followed by the first package error.
	return fmt.Errorf("vulnerability scan failed: %s %s", strings.TrimSpace(lines[0]), lines[1])
}

// engineMarker asks a hegui process to be the engine (engine.Marker; the
// scanner lives in package engine so that this package does not compile it).
const engineMarker = "HEGUI_INTERNAL_VULNSCAN"

// childEnv is the child's environment: the request's, the Go version, no
// toolchain switching and no module downloads, so that a scan never
// reaches the network.
func childEnv(req *Request) []string {
	env := append([]string{engineMarker + "=1"}, scanEnv(req)...)
	if os.Getenv("GOGC") == "" {
		// The engine's process is hegui, whose packages leave some 20 MB of
		// tables on the heap at start (gosec's password dictionaries among
		// them) that the govulncheck command does not carry. With the
		// default GOGC the collector lets the heap grow to twice the live
		// data, so those tables would cost twice their size at the peak; a
		// slightly lower target keeps the peak where govulncheck's is.
		env = append(env, "GOGC="+strconv.Itoa(engineGOGC))
	}
	if req.GoVersion != "" {
		env = append(env, "GOVERSION="+req.GoVersion)
	}
	return gotool.MergeEnv(os.Environ(), env)
}

// run polls the process's resident memory and kills it when it reaches
// 95% of the budget (the polls are 100 ms apart, and a scan can grow by
// tens of megabytes between two), sending what it used on over.
func (w *watch) run(pid int, over chan<- int64, stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	half := w.halfway
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			rss := residentBytes(pid)
			if rss > w.budget/20*19 {
				over <- rss
				syscall.Kill(pid, syscall.SIGKILL)
				return
			}
			if half != nil && rss > w.budget/2 {
				half()
				half = nil
			}
		}
	}
}

// residentBytes reads VmRSS of a process from /proc (0 where there is none).
func residentBytes(pid int) int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func joinComma(xs []string) string { return strings.Join(xs, ",") }

// describe names a list of packages briefly.
func describe(pkgs []string) string {
	if len(pkgs) <= 3 {
		return strings.Join(pkgs, " ")
	}
	return fmt.Sprintf("%s and %d more packages", strings.Join(pkgs[:2], " "), len(pkgs)-2)
}
