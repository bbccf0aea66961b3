package gotool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// TestRequest is a `go test` run of the main module's own packages.
type TestRequest struct {
	// Patterns are the packages, relative to the module root ("./...").
	Patterns []string
	Tags     []string
	// Race turns on the race detector (see RaceSupport), Short -short.
	Race, Short bool
	// Timeout bounds each test binary (go test -timeout); 0 leaves the go
	// command's default.
	Timeout time.Duration
	// CoverProfile is the file go test writes the coverage profile of
	// every package to ("" for none).
	CoverProfile string
	// Flags are more go test flags, each one argument ("-skip=TestNet").
	Flags []string
}

// Args are the go command's arguments for r. Results are never taken from
// the test cache (-count=1): the tests run for the delivery.
func (r TestRequest) Args() []string {
	args := []string{"test", "-json", "-count=1", "-cover"}
	if r.Race {
		args = append(args, "-race")
	}
	if r.Short {
		args = append(args, "-short")
	}
	if r.Timeout > 0 {
		args = append(args, "-timeout="+r.Timeout.String())
	}
	if len(r.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(r.Tags, ","))
	}
	if r.CoverProfile != "" {
		args = append(args, "-coverprofile="+r.CoverProfile)
	}
	args = append(args, r.Flags...)
	return append(args, r.Patterns...)
}

// TestEvent is one line of `go test -json`: a test event as cmd/test2json
// documents it, or one of the build events (go build -json) that go test
// prints among them, which name the package by ImportPath ("p [p.test]")
// and have Action build-output or build-fail.
type TestEvent struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
	ImportPath  string
}

// TestExit is how a go test run ended.
type TestExit struct {
	// Code is the go command's exit status: 0 when every test passed, 1
	// when a test failed or a package did not build, -1 when it was
	// stopped.
	Code int
	// Stderr is the end of its standard error (at most 64 KiB), where the
	// go command reports what stopped it before any test ran.
	Stderr string
}

// stopDelay is how long a go test run has to end after it was
// interrupted, or to close its output after it exited, before it is
// killed.
const stopDelay = 5 * time.Second

// maxStderr bounds what Test keeps of the go command's standard error.
const maxStderr = 64 << 10

// Test runs go test for r in g.Dir and calls event for every event it
// prints, as it prints it. A failing test is not an error: TestExit says
// how the command ended. When ctx ends, the go command and everything it
// started (the test binaries and whatever they run) are stopped: they run
// in a process group of their own, which is interrupted, then killed.
func (g Go) Test(ctx context.Context, r TestRequest, event func(TestEvent)) (*TestExit, error) {
	cmd := exec.CommandContext(ctx, "go", r.Args()...)
	cmd.Dir = g.Dir
	cmd.Env = MergeEnv(os.Environ(), g.Env)
	stopGroup(cmd)
	// A test can leave a process behind that keeps the output open after
	// the go command has exited; Wait stops waiting for it after
	// WaitDelay, and the process group is killed after Wait.
	cmd.WaitDelay = stopDelay
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("the go command is not installed or not on PATH")
		}
		return nil, err
	}
	decoded := make(chan struct{})
	go func() {
		defer close(decoded)
		DecodeTestEvents(pr, event) // reads to the end, so the writer never blocks
	}()
	werr := cmd.Wait()
	killGroup(cmd)
	pw.Close()
	<-decoded
	exit := &TestExit{Stderr: stderr.String()}
	switch {
	case ctx.Err() != nil:
		exit.Code = -1
	case cmd.ProcessState != nil:
		// Also when Wait gave up on output a test's leftover process
		// held open (exec.ErrWaitDelay): the go command had exited.
		exit.Code = cmd.ProcessState.ExitCode()
	default:
		return nil, fmt.Errorf("go test: %w", werr)
	}
	return exit, nil
}

// maxEventLine bounds one line of go test -json. test2json splits a
// test's long output lines into several events, so only a hostile or
// broken stream has longer ones; they are skipped.
const maxEventLine = 1 << 20

// DecodeTestEvents reads a go test -json stream and calls event for each
// event in it. Lines that are not JSON objects (a test binary can write to
// the stream directly), or longer than 1 MiB, are skipped: the stream
// comes from the tests of the module being delivered, and no line of it
// can stop the rest from being read.
func DecodeTestEvents(r io.Reader, event func(TestEvent)) {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case tooLong:
		case len(line)+len(chunk) > maxEventLine:
			tooLong, line = true, line[:0]
		default:
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if !tooLong {
			decodeEventLine(line, event)
		}
		line, tooLong = line[:0], false
		if err != nil {
			return
		}
	}
}

func decodeEventLine(line []byte, event func(TestEvent)) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return
	}
	var e TestEvent
	if json.Unmarshal(line, &e) == nil {
		event(e)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

// RaceSupport says whether go test -race can run on this host for g's
// environment, and why not when it cannot: the race detector needs cgo (so
// a C compiler) and runs on a few platforms only.
func (g Go) RaceSupport(ctx context.Context) (ok bool, why string, err error) {
	vars, err := g.EnvVars(ctx, "GOOS", "GOARCH", "CGO_ENABLED", "CC")
	if err != nil {
		return false, "", err
	}
	goos, goarch := vars["GOOS"], vars["GOARCH"]
	if !raceDetectorSupported(goos, goarch) {
		return false, fmt.Sprintf("the race detector does not run on %s/%s", goos, goarch), nil
	}
	if vars["CGO_ENABLED"] != "1" {
		return false, "cgo is off on this host (CGO_ENABLED=0, or no C compiler on PATH), and the race detector needs it", nil
	}
	if cc := strings.Fields(vars["CC"]); len(cc) > 0 {
		if _, err := exec.LookPath(cc[0]); err != nil {
			return false, fmt.Sprintf("the C compiler %s is not on PATH, and the race detector needs cgo", cc[0]), nil
		}
	}
	return true, "", nil
}

// raceDetectorSupported is the go command's list (internal/platform's
// RaceDetectorSupported, Go 1.26) of the platforms -race runs on.
func raceDetectorSupported(goos, goarch string) bool {
	switch goos {
	case "linux":
		switch goarch {
		case "amd64", "arm64", "loong64", "ppc64le", "riscv64", "s390x":
			return true
		}
	case "darwin":
		return goarch == "amd64" || goarch == "arm64"
	case "freebsd", "netbsd", "windows":
		return goarch == "amd64"
	}
	return false
}
