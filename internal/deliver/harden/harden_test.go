package harden

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

// buildProgram compiles a one-file program with the given environment and
// flags and returns the binary's path.
func buildProgram(t *testing.T, src string, env []string, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/prog\n\ngo 1.26.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644)
	bin := filepath.Join(dir, "prog")
	cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func checks(h *format.Hardening) map[string]format.Check {
	m := map[string]format.Check{}
	for _, c := range h.Checks {
		m[c.Name] = c
	}
	return m
}

const hello = "package main\n\nfunc main() { println(\"hi\") }\n"

func TestStaticStrippedBinary(t *testing.T) {
	bin := buildProgram(t, hello, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}, "-trimpath", "-ldflags=-s -w")
	h, err := Inspect(bin, "2.28")
	if err != nil {
		t.Fatal(err)
	}
	c := checks(h)
	for name, want := range map[string]format.CheckStatus{"static": "pass", "stripped": "pass", "nx-stack": "pass", "pie": "n/a", "relro": "n/a", "bind-now": "n/a", "glibc": "n/a"} {
		if c[name].Status != want {
			t.Errorf("%s: %s (%s), want %s", name, c[name].Status, c[name].Detail, want)
		}
	}
}

func TestUnstrippedBinary(t *testing.T) {
	bin := buildProgram(t, hello, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"})
	h, _ := Inspect(bin, "2.28")
	if c := checks(h)["stripped"]; c.Status != "fail" || !strings.Contains(c.Detail, "-s") {
		t.Errorf("stripped: %+v", c)
	}
}

// TestCgoBinary: a cgo binary links the C library dynamically; Go's default
// external link is neither PIE nor BIND_NOW, and __libc_start_main@GLIBC_2.34
// (Debian 12's glibc) exceeds the 2.28 baseline, which the check names.
func TestCgoBinary(t *testing.T) {
	src := "package main\n\n// #include <stdio.h>\n// static void hi(void) { puts(\"hi\"); }\nimport \"C\"\n\nfunc main() { C.hi() }\n"
	bin := buildProgram(t, src, []string{"CGO_ENABLED=1"}, "-ldflags=-s -w")
	h, err := Inspect(bin, "2.28")
	if err != nil {
		t.Fatal(err)
	}
	c := checks(h)
	if !strings.Contains(c["static"].Detail, "libc.so.6") {
		t.Errorf("static: %+v", c["static"])
	}
	if c["relro"].Status != "pass" || c["pie"].Status != "fail" || c["bind-now"].Status != "fail" {
		t.Errorf("pie %+v relro %+v bind-now %+v", c["pie"], c["relro"], c["bind-now"])
	}
	if g := c["glibc"]; g.Status != "fail" || !strings.Contains(g.Detail, "@GLIBC_2.34") || !strings.Contains(g.Detail, "baseline 2.28") {
		t.Errorf("glibc: %+v", g)
	}
	if g, _ := Inspect(bin, "2.40"); checks(g)["glibc"].Status != "pass" {
		t.Errorf("glibc against 2.40: %+v", checks(g)["glibc"])
	}

	hardened := buildProgram(t, src, []string{"CGO_ENABLED=1"}, "-buildmode=pie", "-ldflags=-s -w -extldflags=-Wl,-z,relro,-z,now")
	h, _ = Inspect(hardened, "2.40")
	for name, check := range checks(h) {
		if check.Status == "fail" {
			t.Errorf("hardened binary fails %s: %s", name, check.Detail)
		}
	}
}

func TestNotELF(t *testing.T) {
	bin := buildProgram(t, hello, []string{"CGO_ENABLED=0", "GOOS=windows", "GOARCH=amd64"})
	h, err := Inspect(bin, "2.28")
	if err != nil || h.Format != "PE" || h.Checks[0].Status != "n/a" {
		t.Errorf("windows binary: %+v %v", h, err)
	}
	os.WriteFile(filepath.Join(t.TempDir(), "x"), []byte("not a binary"), 0o644)
	if _, err := Inspect(filepath.Join(t.TempDir(), "missing"), "2.28"); err == nil {
		t.Error("missing file inspected")
	}
}

func TestCompareModules(t *testing.T) {
	bin := buildProgram(t, hello, nil)
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	main := gotool.Module{Path: "example.com/prog", Main: true}
	if p := CompareModules(info, []gotool.Module{main}); len(p) != 0 {
		t.Errorf("identical: %v", p)
	}
	extra := gotool.Module{Path: "example.com/other", Version: "v1.0.0"}
	if p := CompareModules(info, []gotool.Module{main, extra}); len(p) != 1 || !strings.Contains(p[0], "missing from the binary") {
		t.Errorf("extra module in the source: %v", p)
	}
	if p := CompareModules(info, []gotool.Module{{Path: "example.com/else", Main: true}}); len(p) != 1 || !strings.Contains(p[0], "main module") {
		t.Errorf("other main module: %v", p)
	}
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"2.28", "2.34", true}, {"2.34", "2.28", false}, {"2.9", "2.10", true}, {"2.2.5", "2.3", true}, {"2.28", "2.28", false}} {
		if versionLess(c.a, c.b) != c.less {
			t.Errorf("versionLess(%s, %s) != %v", c.a, c.b, c.less)
		}
	}
}
