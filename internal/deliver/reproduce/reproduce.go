// Package reproduce is the stage that checks reproducibility instead of
// assuming it: every binary is built a second time from a copy of the source
// at another path, with a fresh module cache filled from the first one and
// a separate build cache, and the two SHA-256 digests are compared. A
// difference is reported with the offset and, for ELF files, the section
// where the binaries first differ.
package reproduce

import (
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/deliver/build"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/human"
)

// Stage fills Binary.Reproducible.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "reproduce" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	skip := func(reason string) error {
		for _, b := range d.Binaries {
			b.Reproducible = &format.Reproducibility{Status: format.NotReproduced, Reason: reason}
		}
		return delivery.Skip(reason)
	}
	switch {
	case !d.Config.Reproducibility.Enabled():
		return skip("reproducibility.check is false in hegui.yaml")
	case d.Options.SkipReproduce:
		return skip("--skip-reproduce was given")
	}
	tmp, err := os.MkdirTemp("", "hegui-reproduce-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	moduleCopy, err := copySource(ctx, d, filepath.Join(tmp, "src", "second"))
	if err != nil {
		if errors.Is(err, errCannotCopy) {
			d.Warn("reproducibility not checked: %v", err)
			return skip(err.Error())
		}
		return err
	}
	env, err := secondEnv(ctx, d, tmp)
	if err != nil {
		return err
	}
	for _, b := range d.Binaries {
		if err := ctx.Err(); err != nil {
			return err
		}
		second := filepath.Join(tmp, "out", filepath.FromSlash(b.Path))
		args, buildEnv, err := b.Recipe.Command(build.Toolchain(d, b.GoVersion), second)
		if err != nil {
			return fmt.Errorf("%s: %w", b.Path, err)
		}
		g := gotool.Go{Dir: moduleCopy, Env: append(buildEnv, env...)}
		if _, err := g.Run(ctx, args...); err != nil {
			b.Reproducible = &format.Reproducibility{Status: format.SecondBuildFailed, Reason: "the second build failed: " + human.OneLine(err.Error())}
			d.Warn("%s for %s: the second build, from a copy of the source, failed: %s", b.Path, b.Target, human.OneLine(err.Error()))
			continue
		}
		b.Reproducible, err = compare(ctx, d.Path(b.Path), second, b.SHA256)
		if err != nil {
			return err
		}
		if b.Reproducible.Status == format.Identical {
			d.Log.Stepf("%s: identical (%s…)", b.Path, b.SHA256[:16])
		} else {
			d.Warn("%s is not reproducible: %s", b.Path, b.Reproducible.Difference)
		}
	}
	return nil
}

// secondEnv is the environment of the second build: its own module cache,
// filled from the first module cache (no network), and its own build cache.
func secondEnv(ctx context.Context, d *delivery.Delivery, tmp string) ([]string, error) {
	vars, err := d.Go.EnvVars(ctx, "GOMODCACHE")
	if err != nil {
		return nil, err
	}
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		cacheDir = filepath.Join(tmp, "cache")
	}
	return []string{
		"GOMODCACHE=" + filepath.Join(tmp, "modcache"),
		"GOPROXY=file://" + filepath.ToSlash(filepath.Join(vars["GOMODCACHE"], "cache", "download")),
		"GOSUMDB=off", "GOPRIVATE=", "GONOPROXY=", "GONOSUMDB=",
		"GOFLAGS=-modcacherw",
		"GOCACHE=" + filepath.Join(cacheDir, "hegui", "reproduce-gocache"),
	}, nil
}

var errCannotCopy = errors.New("cannot copy the source")

// copySource makes a second copy of the source and returns the module
// directory inside it. In git, the copy is a clone of HEAD plus the
// uncommitted changes, so the VCS stamp in the binary comes out the same.
func copySource(ctx context.Context, d *delivery.Delivery, dst string) (string, error) {
	root := d.ModuleDir
	if d.Version.VCS {
		out, err := exec.CommandContext(ctx, "git", "-C", d.ModuleDir, "rev-parse", "--show-toplevel").Output()
		if err != nil {
			return "", fmt.Errorf("git rev-parse: %w", err)
		}
		root = strings.TrimSpace(string(out))
	}
	if err := checkReplaces(d.ModuleDir, root); err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, d.ModuleDir)
	if err != nil {
		return "", err
	}
	if d.Version.VCS {
		err = cloneWithChanges(ctx, root, dst, d.Version.Commit)
	} else {
		err = copyTree(root, dst, filepath.Join(d.ModuleDir, d.Config.Output))
	}
	if err != nil {
		return "", fmt.Errorf("copy the source for the second build: %w", err)
	}
	return filepath.Join(dst, rel), nil
}

// checkReplaces refuses local replace directives pointing outside the tree
// being copied: the copy would not contain their targets.
func checkReplaces(moduleDir, root string) error {
	data, err := os.ReadFile(filepath.Join(moduleDir, "go.mod"))
	if err != nil {
		return err
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return err
	}
	for _, r := range f.Replace {
		if !modfile.IsDirectoryPath(r.New.Path) {
			continue
		}
		target := r.New.Path
		if !filepath.IsAbs(target) {
			target = filepath.Join(moduleDir, target)
		}
		if rel, err := filepath.Rel(root, target); err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("%w: go.mod replaces %s with %s, outside %s", errCannotCopy, r.Old.Path, r.New.Path, root)
		}
	}
	return nil
}

func git(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
	return nil
}

// cloneWithChanges clones root at commit into dst, sharing its objects,
// then copies over every file git reports as changed or untracked, and
// removes the ones deleted.
func cloneWithChanges(ctx context.Context, root, dst, commit string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := git(ctx, filepath.Dir(dst), "clone", "--quiet", "--shared", "--no-checkout", root, dst); err != nil {
		return err
	}
	if err := git(ctx, dst, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "git", "status", "--porcelain=v1", "-z", "--untracked-files=all")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git status: %w", err)
	}
	entries := strings.Split(string(out), "\x00")
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if len(e) < 4 {
			continue
		}
		status, name := e[:2], e[3:]
		if status[0] == 'R' || status[0] == 'C' {
			i++ // the next entry is the source path of a rename or copy
		}
		src, target := filepath.Join(root, name), filepath.Join(dst, name)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			os.Remove(target)
			continue
		}
		if err != nil {
			return err
		}
		if err := copyFile(src, target, fi.Mode()); err != nil {
			return err
		}
	}
	return nil
}

// copyTree copies a directory tree, leaving out skip (the delivery output).
func copyTree(src, dst, skip string) error {
	return filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (p == skip || e.Name() == ".git") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		return copyFile(p, filepath.Join(dst, rel), fi.Mode())
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	if mode&os.ModeSymlink != 0 {
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		os.Remove(dst)
		return os.Symlink(link, dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// compare checks the second build against the first.
func compare(ctx context.Context, first, second, firstSHA256 string) (*format.Reproducibility, error) {
	f, err := os.Open(second)
	if err != nil {
		return nil, err
	}
	sums, _, err := digest.Sum(ctx, f, digest.SHA256)
	f.Close()
	if err != nil {
		return nil, err
	}
	r := &format.Reproducibility{SecondSHA256: fmt.Sprintf("%x", sums[0])}
	if r.SecondSHA256 == firstSHA256 {
		r.Status = format.Identical
		return r, nil
	}
	r.Status = format.Different
	r.Difference, err = Difference(first, second)
	return r, err
}

// Difference says where two files first differ: the size of each, the
// offset of the first differing byte, and the ELF section holding it.
func Difference(a, b string) (string, error) {
	fa, err := os.Open(a)
	if err != nil {
		return "", err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return "", err
	}
	defer fb.Close()
	sa, _ := fa.Stat()
	sb, _ := fb.Stat()
	ra, rb := bufio.NewReaderSize(fa, 1<<20), bufio.NewReaderSize(fb, 1<<20)
	var off int64
	for {
		x, errA := ra.ReadByte()
		y, errB := rb.ReadByte()
		if errA != nil || errB != nil {
			break
		}
		if x != y {
			break
		}
		off++
	}
	where := fmt.Sprintf("sizes %d and %d bytes; first difference at offset %#x", sa.Size(), sb.Size(), off)
	if ef, err := elf.Open(a); err == nil {
		defer ef.Close()
		for _, s := range ef.Sections {
			if s.Type != elf.SHT_NOBITS && uint64(off) >= s.Offset && uint64(off) < s.Offset+s.FileSize {
				return where + " in section " + s.Name, nil
			}
		}
		return where + " (outside any section: ELF headers)", nil
	}
	return where, nil
}
