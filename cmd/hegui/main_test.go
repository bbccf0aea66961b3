package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
// checks that the process never grows past 64 MiB: the file is streamed,
// never held. The file is sparse, so the test costs CPU (SM3 over 4 GiB,
// twice) but no disk.
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
	if r := runHegui(t, bin, dir, nil, "key", "generate", "--no-password", "--out", "k.key"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	const limitKiB = 64 << 10
	for _, args := range [][]string{
		{"sign", "--key", "k.key", "big.img"},
		{"verify-blob", "--pub", "k.pub", "big.img"},
	} {
		r := runHegui(t, bin, dir, nil, args...)
		if r.code != 0 {
			t.Fatalf("%v: %s", args, r.stderr)
		}
		t.Logf("%s: peak RSS %d KiB", args[0], r.maxRSSKiB)
		if r.maxRSSKiB == 0 || r.maxRSSKiB > limitKiB {
			t.Errorf("%s of 4 GiB: peak RSS %d KiB, want at most %d KiB", args[0], r.maxRSSKiB, limitKiB)
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
