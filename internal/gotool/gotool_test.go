package gotool

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"A=1", "B=2", "GOFLAGS=-x"}, []string{"B=3", "GOFLAGS=", "C=4"})
	if strings.Join(got, " ") != "A=1 B=3 GOFLAGS= C=4" {
		t.Errorf("MergeEnv = %v", got)
	}
}

func TestGoSum(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.sum"), []byte("golang.org/x/text v0.31.0 h1:aaa=\ngolang.org/x/text v0.31.0/go.mod h1:bbb=\n\nbroken line\n"), 0o644)
	sums, err := GoSum(dir)
	if err != nil || len(sums) != 1 || sums["golang.org/x/text@v0.31.0"] != "h1:aaa=" {
		t.Errorf("GoSum = %v, %v", sums, err)
	}
	if sums, err := GoSum(t.TempDir()); err != nil || len(sums) != 0 {
		t.Errorf("missing go.sum: %v, %v", sums, err)
	}
}

func TestModuleQueries(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/q\n\ngo 1.26.0\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "cmd", "tool"), 0o755)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cmd", "tool", "main.go"), []byte("package main\n\nimport _ \"example.com/q/lib\"\n\nfunc main() {}\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib", "lib.go"), []byte("package lib\n"), 0o644)
	g := Go{Dir: filepath.Join(dir, "lib")}
	ctx := context.Background()
	m, err := g.MainModule(ctx)
	if err != nil || m.Path != "example.com/q" || !m.Main {
		t.Fatalf("MainModule = %+v, %v", m, err)
	}
	g.Dir = dir
	mains, err := g.MainPackages(ctx)
	if err != nil || len(mains) != 2 {
		t.Fatalf("MainPackages = %+v, %v", mains, err)
	}
	mods, err := g.LinkedModules(ctx, "./cmd/tool", nil)
	if err != nil || len(mods) != 1 || mods[0].Path != "example.com/q" {
		t.Errorf("LinkedModules = %+v, %v", mods, err)
	}
	if _, err := (Go{Dir: t.TempDir()}).MainModule(ctx); err == nil {
		t.Error("a directory without go.mod has a main module")
	}
	if _, err := g.Run(ctx, "build", "./nope"); err == nil || !strings.Contains(err.Error(), "go build ./nope") {
		t.Errorf("failing command: %v", err)
	}
}

// TestMainModuleNamesAMissingDirectory: the go command's own error for a
// missing directory is a chdir failure; hegui says what is wrong.
func TestMainModuleNamesAMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "go.mod")
	os.WriteFile(file, []byte("module m\n"), 0o644)
	for path, want := range map[string]string{filepath.Join(dir, "missing"): "does not exist", file: "is not a directory"} {
		_, err := Go{Dir: path}.MainModule(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "chdir") {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}

// TestMainPackagesSkipsTestOnlyMain: golang.org/x/vuln keeps an
// all_test.go declaring package main at its root; that is not a program.
func TestMainPackagesSkipsTestOnlyMain(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("all_test.go", "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n")
	write("cmd/app/main.go", "package main\n\nfunc main() {}\n")
	pkgs, err := Go{Dir: dir}.MainPackages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].ImportPath != "example.com/m/cmd/app" {
		t.Errorf("main packages %+v, want only example.com/m/cmd/app", pkgs)
	}
}
