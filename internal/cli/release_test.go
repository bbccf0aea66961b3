package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseCommands runs hegui release as an operator would on the
// checked-in sample delivery (its binaries are not runnable, so no
// service runs: internal/release's tests run real ones).
func TestReleaseCommands(t *testing.T) {
	r := newRunner(t)
	sample, err := filepath.Abs("../../testdata/delivery")
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(sample, "trusted.pub")
	root := r.path("srv")

	r.fails(2, []string{"give --root DIR"}, "release", "install", filepath.Join(sample, "valid"), "--pub", pub)
	r.fails(2, []string{"what the delivery must be signed by"}, "release", "install", filepath.Join(sample, "valid"), "--root", root)
	r.fails(2, []string{"signal: needs pidfile"}, "release", "install", filepath.Join(sample, "valid"), "--root", root, "--pub", pub, "--signal", "HUP")
	r.fails(1, []string{"does not verify (files, checksums)", "nothing was installed"},
		"release", "install", filepath.Join(sample, "file-removed"), "--root", root, "--pub", pub, "--platform", "linux/amd64")
	r.fails(1, []string{"no binary for linux/riscv64 (it has linux/amd64, linux/arm64)"},
		"release", "install", filepath.Join(sample, "valid"), "--root", root, "--pub", pub, "--platform", "linux/riscv64")

	// The trusted key named in release.yaml, relative to the root.
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(pub)
	r.write("srv/release.pub", data)
	r.write("srv/release.yaml", []byte("pub: [release.pub]\nkeep: 3\n"))
	res := r.ok("release", "install", filepath.Join(sample, "valid"), "--root", root, "--platform", "linux/amd64", "--json")
	var out struct {
		OK       bool   `json:"ok"`
		Version  string `json:"version"`
		Current  string `json:"current"`
		Switched bool   `json:"switched"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || !out.OK || out.Version != "v1.2.3" || out.Current != "v1.2.3" || !out.Switched {
		t.Fatalf("install --json: %v %s", err, res.stdout)
	}
	for _, want := range []string{"verified app v1.2.3", "copied 3 files", "switched current: none -> v1.2.3", "no restart configured", "no health check configured"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("install says %q, want %q", res.stderr, want)
		}
	}
	if target, _ := os.Readlink(filepath.Join(root, "current")); target != filepath.Join("releases", "v1.2.3") {
		t.Fatalf("current -> %q", target)
	}
	if _, err := os.Stat(filepath.Join(root, "current", "bin", "app")); err != nil {
		t.Fatal(err)
	}

	env := r.env
	env["HEGUI_RELEASE_ROOT"] = root
	res = r.ok("release", "list")
	if !strings.HasPrefix(res.stdout, "* v1.2.3 ") || !strings.Contains(res.stdout, "0123456789ab  linux/amd64") {
		t.Fatalf("list: %q", res.stdout)
	}
	res = r.ok("release", "status", "--no-health")
	if !strings.Contains(res.stdout, "current   app v1.2.3") || !strings.Contains(res.stdout, "files     3 files as installed") {
		t.Fatalf("status: %q", res.stdout)
	}
	r.fails(1, []string{"nothing to roll back to"}, "release", "rollback")

	// A byte of the installed binary changed: status says which file.
	bin := filepath.Join(root, "releases", "v1.2.3", "bin", "app")
	b, _ := os.ReadFile(bin)
	b[10] ^= 1
	os.WriteFile(bin, b, 0o755)
	r.fails(1, []string{"bin/app was changed after it was installed"}, "release", "status", "--no-health")

	r.ok("release", "unit", "app", "-o", r.path("app.service"))
	if unit := string(r.read("app.service")); !strings.Contains(unit, "ExecStart="+filepath.Join(root, "current", "bin", "app")) || !strings.Contains(unit, "NoNewPrivileges=yes") {
		t.Fatalf("unit:\n%s", unit)
	}
	r.fails(2, []string{"dedicated, unprivileged account"}, "release", "unit", "app", "--user", "root")
	r.fails(2, []string{"give --keep N"}, "release", "prune")
}
