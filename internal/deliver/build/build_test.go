package build

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

func TestDefaultMains(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"./.", "./cmd/tool"}, []string{"."}},
		{[]string{"./cmd/a", "./cmd/b", "./examples/demo"}, []string{"./cmd/a", "./cmd/b"}},
		{[]string{"./tools/gen", "./examples/demo"}, []string{"./tools/gen", "./examples/demo"}},
		{nil, nil},
	}
	for _, c := range cases {
		if got := DefaultMains(c.in); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("DefaultMains(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestBinaryName(t *testing.T) {
	for _, c := range []struct{ main, binary, module, want string }{
		{".", "", "example.com/app", "app"},
		{".", "", "example.com/app/v2", "app"},
		{"./cmd/server", "", "example.com/app", "server"},
		{"./cmd/server", "srv", "example.com/app", "srv"},
	} {
		if got := BinaryName(config.Build{Main: c.main, Binary: c.binary}, c.module); got != c.want {
			t.Errorf("BinaryName(%s, %s) = %s, want %s", c.main, c.module, got, c.want)
		}
	}
}

func TestPlan(t *testing.T) {
	jobs, err := Plan([]config.Build{
		{Main: "./cmd/a", Targets: []string{"linux/amd64/v3", "windows/amd64"}},
		{Main: "./cmd/b", Targets: []string{"linux/loong64"}},
	}, "example.com/app")
	if err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, j := range jobs {
		outs = append(outs, j.Out)
	}
	if got := strings.Join(outs, " "); got != "bin/linux_amd64_v3/a bin/linux_loong64/b bin/windows_amd64/a.exe" {
		t.Errorf("outputs: %s", got)
	}
	if _, err := Plan([]config.Build{{Main: "./cmd/a", Targets: []string{"linux/amd64"}}, {Main: "./tools/a", Targets: []string{"linux/amd64"}}}, "m"); err == nil || !strings.Contains(err.Error(), "both write bin/linux_amd64/a") {
		t.Errorf("duplicate output: %v", err)
	}
	if _, err := Plan([]config.Build{{Main: ".", Targets: []string{"linux/amd64/v3/x"}}}, "m"); err == nil {
		t.Error("bad target accepted")
	}
}

func TestRecipe(t *testing.T) {
	d := &delivery.Delivery{
		Module:  &gotool.Module{Path: "example.com/app"},
		Version: format.Version{Version: "v1.2.3", Commit: "0123456789abcdef0123", ShortCommit: "0123456789ab", CommitTime: time.Unix(1700000000, 0), VCS: true},
	}
	job := Job{
		Build:  config.Build{Main: "cmd/app/", Ldflags: []string{"-s", "-X main.version={{.Version}}", "-X main.os={{.Os}}/{{.Arch}}", "-X main.date={{.Date}}"}, Tags: []string{"netgo"}, Env: []string{"CGO_ENABLED=1"}},
		Target: delivery.Target{OS: "linux", Arch: "arm64", Level: "v8.2"},
		Out:    "bin/linux_arm64_v8.2/app",
	}
	r, err := Recipe(d, job)
	if err != nil {
		t.Fatal(err)
	}
	args, env, err := r.Command(Toolchain(d, "go1.26.8"), job.Out)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{"build -trimpath -buildvcs=true", "-ldflags=-s -X main.version=v1.2.3 -X main.os=linux/arm64 -X main.date=2023-11-14T22:13:20Z -buildid=", "-tags=netgo", "-o bin/linux_arm64_v8.2/app ./cmd/app"} {
		if !strings.Contains(joined, want) {
			t.Errorf("args %q lack %q", joined, want)
		}
	}
	if got := strings.Join(env, " "); got != "GOOS=linux GOARCH=arm64 GOARM64=v8.2 CGO_ENABLED=1 GOFLAGS= GOEXPERIMENT= SOURCE_DATE_EPOCH=1700000000" {
		t.Errorf("env %q", got)
	}
	for _, bad := range []config.Build{
		{Main: ".", Ldflags: []string{"-X main.v={{.Nope}}"}},
		{Main: ".", Ldflags: []string{"-linkmode=external"}},
		{Main: ".", Ldflags: []string{"-s -extld=/bin/sh"}},
		{Main: ".", Env: []string{"CC=/bin/sh"}},
		{Main: ".", Env: []string{"GOFLAGS=-toolexec=/bin/sh"}},
		{Main: "../elsewhere"},
		{Main: "-toolexec=x"},
	} {
		job.Build = bad
		if _, err := Recipe(d, job); err == nil {
			t.Errorf("build %+v accepted", bad)
		}
	}
}

// TestRuntimePackages builds a service that logs through translog's slog
// handler, as a service using hegui's audit log would, and finds the
// runtime package from its source graph and build information; a binary
// that does not import it links none.
func TestRuntimePackages(t *testing.T) {
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":              "module example.com/service\n\ngo 1.26\n\nrequire hegui.dev/hegui v0.0.0\n\nreplace hegui.dev/hegui => " + repo + "\n",
		"go.sum":              string(sum),
		"cmd/audited/main.go": "package main\n\nimport (\n\t\"log/slog\"\n\n\t\"hegui.dev/hegui/translog\"\n)\n\nfunc main() {\n\th, _ := translog.NewHandler(nil, translog.HandlerOptions{})\n\tslog.New(h).Info(\"x\")\n}\n",
		"cmd/plain/main.go":   "package main\n\nfunc main() {}\n",
	}
	deliverytest.WriteFiles(t, dir, files)
	g := gotool.Go{Dir: dir, Env: []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "CGO_ENABLED=0"}}
	ctx := context.Background()
	for main, want := range map[string][]string{"./cmd/audited": {"hegui.dev/hegui/translog"}, "./cmd/plain": nil} {
		out := filepath.Join(t.TempDir(), "bin")
		if _, err := g.Run(ctx, "build", "-o", out, main); err != nil {
			t.Fatal(err)
		}
		_, pkgs, err := g.Linked(ctx, main, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := runtimePackages(out, pkgs); !slices.Equal(got, want) {
			t.Errorf("%s links runtime packages %q, want %q", main, got, want)
		}
	}
}
