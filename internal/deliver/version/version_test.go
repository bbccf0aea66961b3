package version

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/deliver/deliverytest"
)

// git runs git in dir with a fixed identity and dates.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2026-11-01T08:00:00Z", "GIT_COMMITTER_DATE=2026-11-01T08:00:00Z", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestVersion names a delivery from the tag on HEAD, refuses an untagged
// or dirty tree without --snapshot, and gives a snapshot a pseudo-version.
func TestVersion(t *testing.T) {
	d := deliverytest.New(t)
	dir := d.ModuleDir
	deliverytest.WriteFiles(t, dir, map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n"})
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "first")

	run := func(snapshot bool) error {
		d.Options.Snapshot = snapshot
		d.Version.Version, d.Version.Tag, d.Version.Snapshot = "", "", false
		return (Stage{}).Run(context.Background(), d)
	}
	if err := run(false); err == nil || !strings.Contains(err.Error(), "no release tag") {
		t.Errorf("untagged: %v", err)
	}
	if err := run(true); err != nil || !strings.HasPrefix(d.Version.Version, "v0.0.0-20261101080000-") || !d.Version.Snapshot {
		t.Errorf("snapshot: %v, version %q", err, d.Version.Version)
	}
	git(t, dir, "tag", "v1.4.0")
	if err := run(false); err != nil || d.Version.Version != "v1.4.0" || d.Version.Tag != "v1.4.0" {
		t.Errorf("tagged: %v, version %+v", err, d.Version)
	}
	if d.FinalDir != filepath.Join(d.OutputDir, "app_v1.4.0") {
		t.Errorf("final directory %s", d.FinalDir)
	}
	deliverytest.WriteFiles(t, dir, map[string]string{"main.go": "package main\n"})
	if err := run(false); err == nil || !strings.Contains(err.Error(), "uncommitted changes") {
		t.Errorf("dirty: %v", err)
	}
}
