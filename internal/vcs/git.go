// Package vcs reads what a delivery needs from git: the commit, its time (the
// delivery's SOURCE_DATE_EPOCH), whether the work tree is clean, and the
// release tag, following the go command's rule that a module in a
// subdirectory is tagged "subdir/vX.Y.Z".
package vcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Info describes the state of the repository holding a module.
type Info struct {
	Root       string    // the work tree's top directory
	Commit     string    // HEAD, full hex
	CommitTime time.Time // committer time of HEAD
	Dirty      bool      // uncommitted changes or untracked files
	// Changes are git status's lines for them ("M main.go", "?? dist/").
	Changes   []string
	Tag       string // the release tag at HEAD (without the module prefix), or ""
	LatestTag string // the newest release tag reachable from HEAD, or ""
	TagPrefix string // "sub/dir/" for a module in a subdirectory
	RemoteURL string // the origin remote, if any
}

// ErrNotRepository means the directory is not in a git work tree.
var ErrNotRepository = errors.New("not a git repository")

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", errors.New("git is not installed")
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Read inspects the repository containing moduleDir.
func Read(ctx context.Context, moduleDir string) (*Info, error) {
	root, err := git(ctx, moduleDir, "rev-parse", "--show-toplevel")
	if err != nil {
		if strings.Contains(err.Error(), "not a git repository") {
			return nil, ErrNotRepository
		}
		return nil, err
	}
	info := &Info{Root: root}
	if info.Commit, err = git(ctx, moduleDir, "rev-parse", "HEAD"); err != nil {
		return nil, fmt.Errorf("the repository has no commit yet: %w", err)
	}
	ct, err := git(ctx, moduleDir, "log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return nil, err
	}
	secs, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("commit time %q: %w", ct, err)
	}
	info.CommitTime = time.Unix(secs, 0).UTC()
	status, err := git(ctx, moduleDir, "status", "--porcelain")
	if err != nil {
		return nil, err
	}
	info.Dirty = status != ""
	for _, line := range strings.Split(status, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			info.Changes = append(info.Changes, line)
		}
	}

	absModule, _ := filepath.Abs(moduleDir)
	realRoot, _ := filepath.EvalSymlinks(root)
	realModule, _ := filepath.EvalSymlinks(absModule)
	if rel, err := filepath.Rel(realRoot, realModule); err == nil && rel != "." {
		info.TagPrefix = filepath.ToSlash(rel) + "/"
	}
	tags, err := git(ctx, moduleDir, "tag", "--points-at", "HEAD")
	if err != nil {
		return nil, err
	}
	info.Tag = newestRelease(strings.Fields(tags), info.TagPrefix)
	if described, err := git(ctx, moduleDir, "describe", "--tags", "--abbrev=0", "--match", info.TagPrefix+"v[0-9]*", "HEAD"); err == nil {
		info.LatestTag = newestRelease([]string{described}, info.TagPrefix)
	}
	info.RemoteURL, _ = git(ctx, moduleDir, "remote", "get-url", "origin")
	return info, nil
}

// newestRelease picks the highest semantic version among tags carrying the
// prefix, and returns it without the prefix.
func newestRelease(tags []string, prefix string) string {
	best := ""
	for _, t := range tags {
		v, ok := strings.CutPrefix(t, prefix)
		if !ok || !semver.IsValid(v) || semver.Build(v) != "" {
			continue
		}
		if best == "" || semver.Compare(v, best) > 0 {
			best = v
		}
	}
	return best
}

// PseudoVersion is the Go pseudo-version of HEAD relative to the latest
// release tag, with "+dirty" when the work tree has changes. It sorts after
// the latest release and before the next one.
func (i *Info) PseudoVersion() string {
	major := ""
	if i.LatestTag != "" {
		major = semver.Major(i.LatestTag)
		if major == "v0" || major == "v1" {
			major = ""
		}
	}
	v := module.PseudoVersion(major, i.LatestTag, i.CommitTime, i.Commit[:12])
	if i.Dirty {
		v += "+dirty"
	}
	return v
}

// ChangesText lists the first max changes for a message: "M main.go,
// ?? notes.txt and 3 more".
func ChangesText(changes []string, max int) string {
	if len(changes) <= max {
		return strings.Join(changes, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(changes[:max], ", "), len(changes)-max)
}
