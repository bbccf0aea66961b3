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
	"slices"
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

// git runs git in dir and returns its standard output, trimmed. A failure
// carries git's standard error; the output is returned with it, since some
// commands print part of their answer before they fail.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", errors.New("git is not installed")
		}
		return strings.TrimSpace(stdout.String()), fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Read inspects the repository containing moduleDir.
//
// It asks git as few questions as it can, since every delivery and SBOM
// starts here: the work tree's top and HEAD (one rev-parse), HEAD's time and
// tags (one log), the changes (status), the latest release tag (describe,
// skipped when HEAD carries exactly one tag describe could match, which is
// then its answer) and the origin remote.
func Read(ctx context.Context, moduleDir string) (*Info, error) {
	out, err := git(ctx, moduleDir, "rev-parse", "--show-toplevel", "HEAD")
	if err != nil {
		switch {
		case strings.Contains(err.Error(), "not a git repository"):
			return nil, ErrNotRepository
		case out != "": // the top was printed, HEAD was not
			return nil, fmt.Errorf("the repository has no commit yet: %w", err)
		}
		return nil, err
	}
	// The top directory's name could hold a newline; a commit hash can not.
	nl := strings.LastIndexByte(out, '\n')
	if nl < 0 {
		return nil, fmt.Errorf("git rev-parse --show-toplevel HEAD printed %q, not a directory and a commit", out)
	}
	info := &Info{Root: out[:nl], Commit: out[nl+1:]}

	// %D lists HEAD's tags as "tag: v1.2.3, tag: sub/v0.4.0", annotated
	// ones included; a ref name holds no spaces, so ", " only separates.
	// The options override configuration that would change the output
	// (log.showSignature, log.decorate=full, colour).
	out, err = git(ctx, moduleDir, "log", "-1", "--no-show-signature", "--no-color", "--decorate=short", "--decorate-refs=refs/tags", "--format=%ct%n%D", info.Commit)
	if err != nil {
		return nil, err
	}
	ct, decorations, _ := strings.Cut(out, "\n")
	secs, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("commit time %q: %w", ct, err)
	}
	info.CommitTime = time.Unix(secs, 0).UTC()
	var tags []string
	for _, d := range strings.Split(decorations, ", ") {
		if tag, ok := strings.CutPrefix(d, "tag: "); ok {
			tags = append(tags, tag)
		}
	}

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
	realRoot, _ := filepath.EvalSymlinks(info.Root)
	realModule, _ := filepath.EvalSymlinks(absModule)
	if rel, err := filepath.Rel(realRoot, realModule); err == nil && rel != "." {
		info.TagPrefix = filepath.ToSlash(rel) + "/"
	}
	// In git tag's order (by name), for newestRelease's choice between
	// equal versions such as v1.1 and v1.1.0.
	slices.Sort(tags)
	info.Tag = newestRelease(tags, info.TagPrefix)
	info.LatestTag = latestAtHead(tags, info.TagPrefix)
	if info.LatestTag == "" {
		if described, err := git(ctx, moduleDir, "describe", "--tags", "--abbrev=0", "--match", info.TagPrefix+"v[0-9]*", info.Commit); err == nil {
			info.LatestTag = newestRelease([]string{described}, info.TagPrefix)
		}
	}
	info.RemoteURL, _ = git(ctx, moduleDir, "remote", "get-url", "origin")
	return info, nil
}

// latestAtHead is what `git describe --tags --abbrev=0 --match
// PREFIXv[0-9]*` would name as the latest release, when HEAD's own tags
// settle it: exactly one of them matches the pattern (describe prefers a
// tag at HEAD to any older one), and it is a release. Otherwise it returns
// "" and describe has to walk the history. A prefix holding glob
// characters is left to describe.
func latestAtHead(tags []string, prefix string) string {
	if strings.ContainsAny(prefix, "*?[\\") {
		return ""
	}
	var match string
	for _, t := range tags {
		rest, ok := strings.CutPrefix(t, prefix+"v")
		if !ok || rest == "" || rest[0] < '0' || rest[0] > '9' {
			continue
		}
		if match != "" {
			return "" // describe picks among several by its own rules
		}
		match = t
	}
	return newestRelease([]string{match}, prefix)
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
