package gotool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestTestRunsTheGoCommand: go test's events arrive as it prints them, a
// failing test is an exit code and not an error, and the coverage profile
// is written.
func TestTestRunsTheGoCommand(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.mod":      "module example.com/t\n\ngo 1.22\n",
		"a/a.go":      "package a\n\nfunc One() int { return 1 }\n",
		"a/a_test.go": "package a\n\nimport \"testing\"\n\nfunc TestOne(t *testing.T) {\n\tif testing.Short() {\n\t\tt.Skip(\"short\")\n\t}\n}\n\nfunc TestBad(t *testing.T) { t.Error(\"bad\") }\n",
	})
	profile := filepath.Join(t.TempDir(), "cover.out")
	req := TestRequest{Patterns: []string{"./..."}, Short: true, Timeout: time.Minute, CoverProfile: profile, Flags: []string{"-skip=TestNothing"}}
	var actions []string
	exit, err := Go{Dir: dir}.Test(context.Background(), req, func(e TestEvent) {
		if e.Test != "" && e.Action != "output" {
			actions = append(actions, e.Test+" "+e.Action)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if exit.Code != 1 {
		t.Errorf("exit code %d, want 1 for a failing test (stderr %q)", exit.Code, exit.Stderr)
	}
	want := []string{"TestOne run", "TestOne skip", "TestBad run", "TestBad fail"}
	if !slices.Equal(actions, want) {
		t.Errorf("events %q, want %q", actions, want)
	}
	if data, err := os.ReadFile(profile); err != nil || !strings.Contains(string(data), "example.com/t/a/a.go:") {
		t.Errorf("coverage profile: %q, %v", data, err)
	}
	args := strings.Join(req.Args(), " ")
	if args != "test -json -count=1 -cover -short -timeout=1m0s -coverprofile="+profile+" -skip=TestNothing ./..." {
		t.Errorf("args %q", args)
	}
}

// TestTestStopsItsProcesses: when the context ends, the go command, the
// test binary and a process the test started are all stopped.
func TestTestStopsItsProcesses(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.mod": "module example.com/t\n\ngo 1.22\n",
		"h/h_test.go": `package h

import (
	"fmt"
	"os/exec"
	"testing"
	"time"
)

func TestHang(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("child %d\n", cmd.Process.Pid)
	time.Sleep(time.Hour)
}
`,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	child := 0
	start := time.Now()
	exit, err := Go{Dir: dir}.Test(ctx, TestRequest{Patterns: []string{"./..."}}, func(e TestEvent) {
		if pid, ok := strings.CutPrefix(strings.TrimSpace(e.Output), "child "); ok {
			child, _ = strconv.Atoi(pid)
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if child == 0 {
		t.Fatalf("the test never started its child (exit %+v)", exit)
	}
	if exit.Code != -1 {
		t.Errorf("exit code %d, want -1 for a stopped run", exit.Code)
	}
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("stopping took until %s", d)
	}
	// The child is gone, or a zombie waiting for init to reap it.
	deadline := time.Now().Add(10 * time.Second)
	for alive(child) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(child) {
		syscall.Kill(child, syscall.SIGKILL)
		t.Errorf("the test's child %d outlived the run", child)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// TestDecodeTestEvents: lines that are not events, and lines too long to
// be test2json's, are skipped without losing the events around them.
func TestDecodeTestEvents(t *testing.T) {
	stream := `{"Action":"start","Package":"p"}
not json at all
{"Action":"run","Package":"p","Test":"TestA"}
` + `{"Action":"output","Package":"p","Output":"` + strings.Repeat("x", maxEventLine) + `"}
{broken
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}
{"Action":"pass","Package":"p"}`
	var got []string
	DecodeTestEvents(strings.NewReader(stream), func(e TestEvent) { got = append(got, e.Action+" "+e.Test) })
	if want := []string{"start ", "run TestA", "pass TestA", "pass "}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestRaceSupport(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		env  []string
		ok   bool
		want string
	}{
		{[]string{"CGO_ENABLED=0"}, false, "cgo is off"},
		{[]string{"GOOS=linux", "GOARCH=mips64"}, false, "does not run on linux/mips64"},
		{[]string{"CGO_ENABLED=1", "CC=/nonexistent/cc"}, false, "not on PATH"},
	} {
		ok, why, err := Go{Dir: t.TempDir(), Env: tc.env}.RaceSupport(ctx)
		if err != nil || ok != tc.ok || !strings.Contains(why, tc.want) {
			t.Errorf("%v: %v, %q, %v; want %v, %q", tc.env, ok, why, err, tc.ok, tc.want)
		}
	}
}
