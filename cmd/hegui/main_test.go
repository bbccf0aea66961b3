package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// build compiles hegui into dir with extra environment and flags.
func build(t *testing.T, dir string, env []string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(dir, "hegui")
	args := append([]string{"build", "-o", bin}, flags...)
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type run struct {
	code           int
	stdout, stderr string
	maxRSSKiB      int64
}

func runHegui(t *testing.T, bin, dir string, env []string, args ...string) run {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatal(err)
	}
	r := run{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKiB = ru.Maxrss // kilobytes on Linux
	}
	return r
}

// TestStreamingMemory signs and verifies a 4 GiB file with an SM2 key and
// checks that the process grows no more than 16 MiB past what the same
// command needs for a one-byte file: the file is streamed, never held.
// The baseline is measured, not assumed: most of it is the binary's own
// pages and what its packages build at start (gosec's password-strength
// tables alone are 18 MB), which moves with what hegui links. The file is
// sparse, so the test costs CPU (SM3 over 4 GiB, twice) but no disk.
func TestStreamingMemory(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir, nil)
	big := filepath.Join(dir, "big.img")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "small.img"), []byte{0}, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runHegui(t, bin, dir, nil, "key", "generate", "--no-password", "--out", "k.key"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	const growthKiB, capKiB = 16 << 10, 128 << 10
	peak := func(runs int, args ...string) int64 {
		t.Helper()
		var most int64
		for range runs {
			r := runHegui(t, bin, dir, nil, args...)
			if r.code != 0 {
				t.Fatalf("%v: %s", args, r.stderr)
			}
			if r.maxRSSKiB == 0 {
				t.Fatal("no peak RSS reported")
			}
			most = max(most, r.maxRSSKiB)
		}
		return most
	}
	for _, cmd := range [][]string{{"sign", "--key", "k.key"}, {"verify-blob", "--pub", "k.pub"}} {
		if cmd[0] == "verify-blob" {
			// The small file's signature, for the baseline.
			if r := runHegui(t, bin, dir, nil, "sign", "--key", "k.key", "small.img"); r.code != 0 {
				t.Fatal(r.stderr)
			}
		}
		// The baseline is the largest of three: GC timing moves a peak by a
		// few MB, and the 16 MiB allowance covers that.
		base := peak(3, append(cmd, "small.img")...)
		if cmd[0] == "verify-blob" {
			if r := runHegui(t, bin, dir, nil, "sign", "--key", "k.key", "big.img"); r.code != 0 {
				t.Fatal(r.stderr)
			}
		}
		got := peak(1, append(cmd, "big.img")...)
		t.Logf("%s: peak RSS %d KiB for 1 byte, %d KiB for 4 GiB", cmd[0], base, got)
		if got-base > growthKiB || got > capKiB {
			t.Errorf("%s of 4 GiB: peak RSS %d KiB, %d KiB past one byte's; want at most %d KiB more and %d KiB in all", cmd[0], got, got-base, growthKiB, capKiB)
		}
	}
}

// TestStaticBuild: the default release build (CGO_ENABLED=0) is a static
// binary, says it has no PKCS#11 support, and refuses pkcs11: keys with a
// message that names the binary to use instead.
func TestStaticBuild(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir, []string{"CGO_ENABLED=0"}, "-trimpath")
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("static build has program header %v", p.Type)
		}
	}
	var v struct{ PKCS11, CGO bool }
	r := runHegui(t, bin, dir, nil, "version", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.PKCS11 || v.CGO {
		t.Errorf("version --json: %s (%v)", r.stdout, err)
	}
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	r = runHegui(t, bin, dir, nil, "sign", "--key", "pkcs11:token=t;object=o", "f")
	if r.code != 1 || !strings.Contains(r.stderr, "hegui-pkcs11") {
		t.Errorf("pkcs11 key in a static build: exit %d, %q", r.code, r.stderr)
	}
}

// TestVersionFromBuildInfo: a VCS-stamped build reports the commit it was
// built from and the commit time as its build time.
func TestVersionFromBuildInfo(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("this test needs the hegui git checkout: %v", err)
	}
	dir := t.TempDir()
	bin := build(t, dir, nil, "-buildvcs=true")
	var v struct{ Version, Commit, BuildTime, GoVersion string }
	r := runHegui(t, bin, dir, nil, "version", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v.Commit != strings.TrimSpace(string(head)) || v.BuildTime == "" || !strings.HasPrefix(v.GoVersion, "go1.") || v.Version == "" {
		t.Errorf("version %+v, HEAD %s", v, head)
	}
	if text := runHegui(t, bin, dir, nil, "version").stdout; !strings.Contains(text, v.Commit) {
		t.Errorf("version text does not show the commit:\n%s", text)
	}
}

// TestStopOnSignals: the first signal cancels the command's context; a
// second one, or the first left unanswered for the grace period, ends the
// process with the shell's status for the signal.
func TestStopOnSignals(t *testing.T) {
	type stop struct {
		sig os.Signal
		why string
	}
	start := func(grace time.Duration) (chan<- os.Signal, context.Context, <-chan stop) {
		signals := make(chan os.Signal, 2)
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan stop, 1)
		go stopOnSignals(signals, cancel, grace, func(s os.Signal, why string) { stopped <- stop{s, why} })
		return signals, ctx, stopped
	}

	signals, ctx, stopped := start(time.Hour)
	signals <- os.Interrupt
	<-ctx.Done()
	select {
	case s := <-stopped:
		t.Fatalf("stopped by the first signal alone: %v", s)
	case <-time.After(100 * time.Millisecond):
	}
	signals <- syscall.SIGTERM
	if s := <-stopped; s.sig != syscall.SIGTERM || !strings.Contains(s.why, "second signal") {
		t.Errorf("second signal: stopped by %v (%s)", s.sig, s.why)
	}

	signals, ctx, stopped = start(50 * time.Millisecond)
	signals <- syscall.SIGTERM
	<-ctx.Done()
	if s := <-stopped; s.sig != syscall.SIGTERM || !strings.Contains(s.why, "did not stop within") {
		t.Errorf("grace period: stopped by %v (%s)", s.sig, s.why)
	}

	if a, b := signalExitCode(os.Interrupt), signalExitCode(syscall.SIGTERM); a != 130 || b != 143 {
		t.Errorf("exit codes %d and %d, want 130 and 143", a, b)
	}
}

// boundedRun runs hegui, killing it (and failing the test) when it runs for
// more than limit or grows past 256 MiB, so that a regression cannot hang
// the test or fill the machine's memory. signal, if set, is sent after
// delay, and again after delay if again is set.
type boundedRun struct {
	args   []string
	stdin  *os.File
	signal syscall.Signal
	again  bool
	delay  time.Duration
	limit  time.Duration
}

func (b boundedRun) run(t *testing.T, bin, dir string) run {
	t.Helper()
	cmd := exec.Command(bin, b.args...)
	cmd.Dir = dir
	cmd.Stdin = b.stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	deadline := time.After(b.limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var signalAt <-chan time.Time
	if b.signal != 0 {
		signalAt = time.After(b.delay)
	}
	for {
		select {
		case <-done:
			return run{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
		case <-signalAt:
			cmd.Process.Signal(b.signal)
			signalAt = nil
			if b.again {
				b.again = false
				signalAt = time.After(b.delay)
			}
		case <-tick.C:
			if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
				var rss int64
				for _, line := range strings.Split(string(status), "\n") {
					if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
						fmt.Sscan(v, &rss)
					}
				}
				if rss > 256<<10 {
					cmd.Process.Kill()
					<-done
					t.Fatalf("hegui %s: killed at %d KiB of memory", strings.Join(b.args, " "), rss)
				}
			}
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatalf("hegui %s: killed after %v\n%s", strings.Join(b.args, " "), b.limit, stderr.String())
		}
	}
}

// TestHostileInputsEndQuickly: a device or a named pipe named as an input
// is refused at once with a message that says what it is, instead of being
// read until memory runs out or forever; a password file that is a device
// is read only up to its limit.
func TestHostileInputsEndQuickly(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir, nil)
	if r := runHegui(t, bin, dir, nil, "key", "generate", "--no-password", "--out", "k.key"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "data"), []byte("data"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sign", "--key", "/dev/zero", "data"}, "/dev/zero is a character device, not a regular file"},
		{[]string{"sign", "--key", "fifo", "data"}, "fifo is a named pipe (FIFO), not a regular file"},
		{[]string{"sign", "--key", "k.key", "/dev/zero", "-o", "z.sig"}, "give - and redirect it to standard input"},
		{[]string{"sbom", "fifo"}, "fifo is a named pipe (FIFO), not a regular file"},
		{[]string{"verify-blob", "--pub", "/dev/zero", "data"}, "/dev/zero is a character device"},
		{[]string{"key", "generate", "--out", "new.key", "--password-file", "/dev/zero"}, "/dev/zero is larger than 1 MiB"},
	} {
		r := boundedRun{args: c.args, limit: 20 * time.Second}.run(t, bin, dir)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("hegui %s: exit %d, %q; want exit 1 and %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.key")); err == nil {
		t.Error("key generate wrote a key with a refused password")
	}
}

// TestSignalsEndAStuckCommand: hegui reading a standard input nobody
// writes cannot see its context end; SIGINT twice, or SIGTERM and the grace
// period, still end it with 130 or 143. A command that can stop does so at
// the first signal, and leaves nothing behind: key generate interrupted
// while it stretches the password writes no key.
func TestSignalsEndAStuckCommand(t *testing.T) {
	dir := t.TempDir()
	bin := build(t, dir, nil)
	stdin, hold, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	defer hold.Close()

	r := boundedRun{args: []string{"digest"}, stdin: stdin, signal: syscall.SIGINT, again: true, delay: time.Second, limit: time.Minute}.run(t, bin, dir)
	if r.code != 130 || !strings.Contains(r.stderr, "hegui: stopped by SIGINT: second signal") {
		t.Errorf("SIGINT twice: exit %d, %q", r.code, r.stderr)
	}
	r = boundedRun{args: []string{"digest"}, stdin: stdin, signal: syscall.SIGTERM, delay: time.Second, limit: time.Minute}.run(t, bin, dir)
	if r.code != 143 || !strings.Contains(r.stderr, "hegui: stopped by SIGTERM: the command did not stop within 5s") {
		t.Errorf("SIGTERM: exit %d, %q", r.code, r.stderr)
	}

	os.WriteFile(filepath.Join(dir, "pw"), []byte("password\n"), 0o600)
	r = boundedRun{args: []string{"key", "generate", "--out", "slow.key", "--password-file", "pw", "--kdf-iterations", "10000000"},
		signal: syscall.SIGTERM, delay: time.Second, limit: time.Minute}.run(t, bin, dir)
	if r.code != 1 || !strings.Contains(r.stderr, "context canceled") || strings.Contains(r.stderr, "stopped by") {
		t.Errorf("key generate interrupted: exit %d, %q", r.code, r.stderr)
	}
	for _, name := range []string{"slow.key", "slow.pub"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("interrupted key generate left %s", name)
		}
	}
}
