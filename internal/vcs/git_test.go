package vcs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repo makes a git repository with one commit and returns its directory.
func repo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run(t, dir, "init", "-q")
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "go.mod"), []byte("module example.com/x/sub\n"), 0o644)
	run(t, dir, "add", ".")
	run(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first", "--date", "2026-01-02T03:04:05Z")
	return dir
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestTagsAndPseudoVersions(t *testing.T) {
	ctx := context.Background()
	dir := repo(t)
	info, err := Read(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Tag != "" || info.Dirty || info.CommitTime.Format("2006-01-02T15:04:05Z") != "2026-01-02T03:04:05Z" {
		t.Errorf("info %+v", info)
	}
	if v := info.PseudoVersion(); v != "v0.0.0-20260102030405-"+info.Commit[:12] {
		t.Errorf("pseudo-version %s", v)
	}

	run(t, dir, "tag", "v1.2.3")
	run(t, dir, "tag", "not-a-version")
	run(t, dir, "tag", "sub/v0.4.0")
	info, _ = Read(ctx, dir)
	if info.Tag != "v1.2.3" {
		t.Errorf("tag %q", info.Tag)
	}
	sub, _ := Read(ctx, filepath.Join(dir, "sub"))
	if sub.Tag != "v0.4.0" || sub.TagPrefix != "sub/" {
		t.Errorf("submodule tag %q prefix %q", sub.Tag, sub.TagPrefix)
	}

	os.WriteFile(filepath.Join(dir, "new.txt"), []byte("x"), 0o644)
	run(t, dir, "add", "new.txt")
	run(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "second")
	os.WriteFile(filepath.Join(dir, "untracked"), []byte("x"), 0o644)
	info, _ = Read(ctx, dir)
	if info.Tag != "" || info.LatestTag != "v1.2.3" || !info.Dirty {
		t.Errorf("after a commit: %+v", info)
	}
	if v := info.PseudoVersion(); !strings.HasPrefix(v, "v1.2.4-0.20260102030405-") || !strings.HasSuffix(v, "+dirty") {
		t.Errorf("pseudo-version %s", v)
	}
}

func TestNotARepository(t *testing.T) {
	if _, err := Read(context.Background(), t.TempDir()); !errors.Is(err, ErrNotRepository) {
		t.Errorf("err = %v", err)
	}
}
