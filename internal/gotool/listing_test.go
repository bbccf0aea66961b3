package gotool

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/peertest"
)

// listingModule writes a module with two programs (the root and
// cmd/tool), a library, a cgo package, and a dependency replaced by a
// local module, and returns its directory.
func listingModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":           "module example.com/q\n\ngo 1.26.0\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n",
		"main.go":          "package main\n\nimport _ \"example.com/q/lib\"\n\nfunc main() {}\n",
		"cmd/tool/main.go": "package main\n\nimport (\n\t_ \"example.com/dep\"\n\t_ \"example.com/q/cgo\"\n)\n\nfunc main() {}\n",
		"lib/lib.go":       "package lib\n\nimport _ \"strings\"\n",
		"cgo/cgo.go":       "package cgo\n\n// int one(void) { return 1; }\nimport \"C\"\n\nvar One = C.one()\n",
		"cgo/nocgo.go":     "//go:build !cgo\n\npackage cgo\n\nvar One = 1\n",
		"dep/go.mod":       "module example.com/dep\n\ngo 1.26.0\n",
		"dep/dep.go":       "package dep\n\nimport _ \"net/http\"\n",
		"nomain/x_test.go": "package main\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestModuleListingAnswersAsTheGoCommand: one listing gives what
// MainModule, MainPackages and LinkedModules give, for each environment.
func TestModuleListingAnswersAsTheGoCommand(t *testing.T) {
	dir := listingModule(t)
	ctx := context.Background()
	for _, env := range [][]string{nil, {"CGO_ENABLED=0"}, {"CGO_ENABLED=1"}, {"GOOS=windows", "GOARCH=arm64"}} {
		g := Go{Dir: filepath.Join(dir, "cmd", "tool")}.With(env...)
		l, err := g.ListModule(ctx, []string{"./..."}, nil)
		if err != nil {
			t.Fatal(err)
		}
		mod, err := g.MainModule(ctx)
		if err != nil || !reflect.DeepEqual(l.Module, mod) || l.Go.Dir != dir {
			t.Errorf("%v: module %+v at %s, MainModule %+v (%v)", env, l.Module, l.Go.Dir, mod, err)
		}
		mains, err := l.MainPackages(ctx)
		want, err2 := l.Go.MainPackages(ctx)
		for i := range mains {
			mains[i].Module = nil // Go.MainPackages does not ask for it
		}
		if err != nil || err2 != nil || !reflect.DeepEqual(mains, want) || len(mains) != 2 {
			t.Errorf("%v: main packages %+v, go list %+v", env, mains, want)
		}
		for _, pkg := range []string{".", "./cmd/tool", "example.com/q/lib", "example.com/q/cgo"} {
			got, err := l.LinkedModules(ctx, pkg, nil)
			want, err2 := l.Go.LinkedModules(ctx, pkg, nil)
			if err != nil || err2 != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%v: modules linked into %s: %+v, go list -deps %+v (%v, %v)", env, pkg, got, want, err, err2)
			}
		}
	}
}

// TestModuleListingRunsOneGoCommand counts the go commands: one listing
// from a directory below the module root, one more for each question it
// can not answer, and one go env for all the values asked once read.
func TestModuleListingRunsOneGoCommand(t *testing.T) {
	dir := listingModule(t)
	ctx := context.Background()
	runs := peertest.LogRuns(t, "go")
	g := Go{Dir: filepath.Join(dir, "cmd", "tool")}

	l, err := g.ListModule(ctx, []string{"./..."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.MainPackages(ctx); err != nil {
		t.Fatal(err)
	}
	if mods, err := l.LinkedModules(ctx, "./cmd/tool", nil); err != nil || len(mods) != 2 {
		t.Fatalf("linked %+v, %v", mods, err)
	}
	if got := runs(); len(got) != 1 || !strings.HasPrefix(got[0], "go list -deps ") {
		t.Errorf("listing, main packages, linked modules: %q, want one go list -deps", got)
	}

	// Other tags than the listing's: the go command is asked.
	if _, err := l.LinkedModules(ctx, "./cmd/tool", []string{"netgo"}); err != nil {
		t.Fatal(err)
	}
	if got := runs(); len(got) != 1 {
		t.Errorf("linked modules with other tags: %q, want one go list", got)
	}

	// A go.work below the module root: the go command says where the
	// module is.
	os.WriteFile(filepath.Join(dir, "cmd", "go.work"), []byte("go 1.26.0\n\nuse ..\n"), 0o644)
	l, err = g.ListModule(ctx, []string{"./cmd/tool"}, nil)
	if err != nil || l.Module.Dir != dir {
		t.Fatalf("with a go.work: %+v, %v", l, err)
	}
	if got := runs(); len(got) != 2 || !strings.HasPrefix(got[0], "go list -m") {
		t.Errorf("with a go.work below the module: %q, want go list -m, then go list -deps", got)
	}
	os.Remove(filepath.Join(dir, "cmd", "go.work"))

	g, err = l.Go.ReadEnvVars(ctx, "GOROOT", "GOVERSION")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := g.EnvVars(ctx, "GOVERSION")
	b, _ := g.EnvVars(ctx, "GOROOT", "GOVERSION")
	if got := runs(); len(got) != 1 || a["GOVERSION"] == "" || b["GOROOT"] == "" || len(a) != 1 {
		t.Errorf("go env runs %q for %v and %v, want one", got, a, b)
	}
	g.EnvVars(ctx, "GOPATH")
	g.With("GOOS=plan9").EnvVars(ctx, "GOVERSION")
	if got := runs(); len(got) != 2 {
		t.Errorf("a value not read, and another environment: %q, want two go env", got)
	}
}

// TestModuleListingFailsAsTheGoCommand: when go list -deps fails, the
// questions fail as Go's do, with the go command's own message.
func TestModuleListingFailsAsTheGoCommand(t *testing.T) {
	dir := listingModule(t)
	ctx := context.Background()
	g := Go{Dir: dir}
	l, err := g.ListModule(ctx, []string{"./nope"}, nil)
	if err != nil {
		t.Fatalf("a failing listing fails the module: %v", err)
	}
	_, err = l.LinkedModules(ctx, "./nope", nil)
	_, want := g.LinkedModules(ctx, "./nope", nil)
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("linked modules of a missing package: %v, want %v", err, want)
	}
	if _, err := (Go{Dir: t.TempDir()}).ListModule(ctx, []string{"./..."}, nil); err == nil || !strings.Contains(err.Error(), "not inside a Go module") {
		t.Errorf("outside a module: %v", err)
	}
	if _, err := (Go{Dir: filepath.Join(dir, "missing")}).ListModule(ctx, []string{"./..."}, nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing directory: %v", err)
	}
}
