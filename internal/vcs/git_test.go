package vcs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
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

// TestTagsAsGitReportsThem: the tags at HEAD and the latest release, read
// from HEAD's decorations where they settle it, are what git tag
// --points-at and git describe say, for plain, annotated, several and
// prefixed tags.
func TestTagsAsGitReportsThem(t *testing.T) {
	ctx := context.Background()
	dir := repo(t)
	commit := func() {
		os.WriteFile(filepath.Join(dir, "f.txt"), []byte(time.Now().String()), 0o644)
		run(t, dir, "add", "f.txt")
		run(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "next")
	}
	steps := []struct {
		name string
		do   func()
	}{
		{"no tag", func() {}},
		{"one tag", func() { run(t, dir, "tag", "v1.0.0") }},
		{"a later commit", commit},
		{"a tag that is no release", func() { run(t, dir, "tag", "v1.1") }},
		{"an annotated tag", func() {
			run(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "tag", "-a", "-m", "r", "v1.1.0")
		}},
		{"two releases", func() { run(t, dir, "tag", "v1.2.0") }},
		{"a build-metadata tag", func() { commit(); run(t, dir, "tag", "v1.3.0+meta") }},
		{"a subdirectory's tag", func() { commit(); run(t, dir, "tag", "sub/v0.5.0") }},
		{"a prerelease", func() { commit(); run(t, dir, "tag", "v2.0.0-rc.1"); run(t, dir, "tag", "sub/v0.6.0-rc.1") }},
	}
	for _, s := range steps {
		s.do()
		for _, moduleDir := range []string{dir, filepath.Join(dir, "sub")} {
			info, err := Read(ctx, moduleDir)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			prefix := info.TagPrefix
			wantTag := newestRelease(strings.Fields(run(t, moduleDir, "tag", "--points-at", "HEAD")), prefix)
			wantLatest := ""
			if out, err := exec.Command("git", "-C", moduleDir, "describe", "--tags", "--abbrev=0", "--match", prefix+"v[0-9]*", "HEAD").Output(); err == nil {
				wantLatest = newestRelease([]string{strings.TrimSpace(string(out))}, prefix)
			}
			if info.Tag != wantTag || info.LatestTag != wantLatest {
				t.Errorf("%s, %q: tag %q, latest %q; git says %q, %q", s.name, prefix, info.Tag, info.LatestTag, wantTag, wantLatest)
			}
		}
	}
}

func TestNoCommitYet(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, "init", "-q")
	if _, err := Read(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "no commit yet") {
		t.Errorf("err = %v", err)
	}
}

// TestReadRunsFewGitCommands counts the git processes Read starts: four
// when HEAD's release tag settles the latest release, five when git
// describe has to find it.
func TestReadRunsFewGitCommands(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the logging script is a shell script")
	}
	dir := repo(t)
	real, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	bin := t.TempDir()
	log := filepath.Join(bin, "runs.log")
	script := fmt.Sprintf("#!/bin/sh\necho \"git $*\" >> '%s'\nexec '%s' \"$@\"\n", log, real)
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	runs := func() []string {
		data, _ := os.ReadFile(log)
		os.Remove(log)
		return strings.FieldsFunc(string(data), func(r rune) bool { return r == '\n' })
	}
	for _, c := range []struct {
		tag  string
		want int
	}{{"", 5}, {"v1.0.0", 4}} {
		if c.tag != "" {
			run(t, dir, "tag", c.tag)
		}
		runs()
		if _, err := Read(context.Background(), dir); err != nil {
			t.Fatal(err)
		}
		if got := runs(); len(got) != c.want {
			t.Errorf("HEAD tagged %q: %d git commands, want %d: %q", c.tag, len(got), c.want, got)
		}
	}
}

// TestReadIgnoresLogConfiguration: configuration that changes what git log
// prints does not change what Read reads from it.
func TestReadIgnoresLogConfiguration(t *testing.T) {
	dir := repo(t)
	run(t, dir, "tag", "v1.2.3")
	for i, kv := range [][2]string{{"log.decorate", "full"}, {"log.showSignature", "true"}, {"color.ui", "always"}} {
		t.Setenv(fmt.Sprintf("GIT_CONFIG_KEY_%d", i), kv[0])
		t.Setenv(fmt.Sprintf("GIT_CONFIG_VALUE_%d", i), kv[1])
	}
	t.Setenv("GIT_CONFIG_COUNT", "3")
	info, err := Read(context.Background(), dir)
	if err != nil || info.Tag != "v1.2.3" || info.LatestTag != "v1.2.3" {
		t.Errorf("with log configuration: %+v, %v", info, err)
	}
}
