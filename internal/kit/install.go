package kit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/trust"
)

// InstallOptions say how to install a kit.
type InstallOptions struct {
	// Anchors are whom the kit must be signed by.
	Anchors trust.Anchors
	// Platform is the GOOS/GOARCH whose toolchains are unpacked; empty
	// means this machine's.
	Platform string
	// ZipsOnly leaves the module zips for the go command to extract when
	// a build first reads them. By default Install extracts every module
	// zip as the go command would, into the module cache, while the rest
	// of the kit streams in: the first build then starts at once.
	ZipsOnly bool
	// Progress receives a line at each step.
	Progress func(format string, args ...any)
}

// Installed describes an installed kit.
type Installed struct {
	Dir      string
	Manifest *Manifest
	Trust    string
	// Versions are the Go versions unpacked, oldest first.
	Versions []string
	// Extracted counts the module zips extracted into the module cache.
	Extracted int
}

// stagingDir is where Install unpacks a kit inside the target directory
// before moving it into place.
const stagingDir = ".hegui-kit-staging"

// installedEntries are the names a kit's directory holds: an interrupted
// install that left only these behind may be cleaned up.
var installedEntries = []string{ManifestFile, EnvelopeFile, SignersDir, GoPathDir, VulnDBDir, BuildCacheDir, "bin", ToolchainsDir, stagingDir, ActivateFile, ActivateFishFile}

// Install verifies a kit whole and then unpacks it into dir, which must
// not exist or be empty. open is called twice: once to verify the whole
// kit, writing nothing; once to unpack it, checking every file again as it
// is written (a kit that changed between the two readings is refused and
// what was unpacked removed). Toolchains are unpacked as GOROOTs and, unless
// o.ZipsOnly, module zips extracted into the module cache as the go command
// would, while the kit streams in. Nothing is written outside dir.
func Install(ctx context.Context, open func() (io.ReadCloser, error), dir string, o InstallOptions) (*Installed, error) {
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	platform := o.Platform
	if platform == "" {
		platform = HostPlatform()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := checkTarget(abs); err != nil {
		return nil, err
	}

	o.Progress("verifying the kit (nothing is written until it verifies)")
	v, err := verifyFrom(ctx, open, o.Anchors, readOptions{})
	if err != nil {
		return nil, err
	}
	m := v.Manifest
	var toolchains []Toolchain
	for _, version := range m.Versions() {
		if t, ok := m.ToolchainFor(version, platform); ok {
			toolchains = append(toolchains, t)
		}
	}
	if len(m.Toolchains) > 0 && len(toolchains) == 0 {
		var have []string
		for _, t := range m.Toolchains {
			if !slices.Contains(have, t.Platform) {
				have = append(have, t.Platform)
			}
		}
		return nil, fmt.Errorf("the kit has no toolchain for %s (it has %s): build it with --platform %s", platform, strings.Join(have, ", "), platform)
	}
	o.Progress("verified: %d files, signed by %s", v.Files, v.Trust)

	created := false
	if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		created = true
	}
	staging := filepath.Join(abs, stagingDir)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			removeAll(staging)
			if created {
				os.Remove(abs)
			}
		}
	}()
	var modules []Module
	if !o.ZipsOnly {
		for _, md := range m.Modules {
			if md.Zip {
				modules = append(modules, md)
			}
		}
	}
	if len(modules) > 0 {
		o.Progress("unpacking into %s, extracting %d modules into its module cache", abs, len(modules))
	} else {
		o.Progress("unpacking into %s", abs)
	}
	// The zips are unpacked as soon as each is written and checked, while
	// the rest of the kit streams in; a failure stops the rest.
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	unpack, err := newUnpacker(uctx, staging, toolchains, modules, o.Progress)
	if err != nil {
		return nil, err
	}
	v2, err := verifyFrom(ctx, open, o.Anchors, readOptions{
		again: true,
		visit: func(f format.FileEntry, content io.Reader) error {
			return writeFile(staging, f, content)
		},
		checked: unpack.checked,
	})
	if err != nil {
		cancel()
	}
	if uerr := unpack.wait(); err == nil && uerr != nil {
		return nil, uerr
	}
	if err != nil {
		return nil, fmt.Errorf("unpacking: %w (the kit changed since it was verified? nothing was installed)", err)
	}
	if !slices.Equal(v2.ManifestData, v.ManifestData) {
		return nil, errors.New("the kit changed between its verification and its unpacking: nothing was installed")
	}
	for name, data := range map[string][]byte{ManifestFile: v.ManifestData, EnvelopeFile: v.EnvelopeData} {
		if err := os.WriteFile(filepath.Join(staging, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	// Into place: every entry but the activation scripts, then those,
	// which mark the install complete.
	entries, err := os.ReadDir(staging)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Name() == ActivateFile || e.Name() == ActivateFishFile {
			continue
		}
		if err := os.Rename(filepath.Join(staging, e.Name()), filepath.Join(abs, e.Name())); err != nil {
			return nil, err
		}
	}
	var versions []string
	for _, t := range toolchains {
		versions = append(versions, t.Version)
	}
	if err := writeActivation(abs, m, versions); err != nil {
		return nil, err
	}
	removeAll(staging)
	ok = true
	return &Installed{Dir: abs, Manifest: m, Trust: v.Trust, Versions: versions, Extracted: len(modules)}, nil
}

// checkTarget accepts a directory that does not exist or is empty, and
// cleans up what an interrupted install left in one.
func checkTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	interrupted := false
	for _, e := range entries {
		if !slices.Contains(installedEntries, e.Name()) || e.Name() == ActivateFile {
			return fmt.Errorf("%s is not empty: install a kit into a new or empty directory", dir)
		}
		interrupted = interrupted || e.Name() == stagingDir
	}
	if !interrupted {
		return fmt.Errorf("%s is not empty: install a kit into a new or empty directory", dir)
	}
	// An install stopped before it finished: no activate script, a
	// staging directory. What it left is removed.
	for _, e := range entries {
		removeAll(filepath.Join(dir, e.Name()))
	}
	return nil
}

func verifyFrom(ctx context.Context, open func() (io.ReadCloser, error), anchors trust.Anchors, o readOptions) (*Verified, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return verify(ctx, r, anchors, o)
}

// writeFile writes one of the kit's files under root.
func writeFile(root string, f format.FileEntry, content io.Reader) error {
	p := filepath.Join(root, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if f.Path == HeguiBinary {
		mode = 0o755
	}
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, content); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// unpacker unzips the kit's zips while the rest of the kit streams in,
// each once it is written and checked: each toolchain's module zip into
// go/VERSION, as the go command unpacks a toolchain it downloads, and each
// module zip into the module cache, as the go command extracts a module
// (x/mod/zip's checks included in both). At most one zip per CPU at a
// time.
type unpacker struct {
	ctx      context.Context
	jobs     map[string]func() error // by the zip's path in the kit
	progress func(string, ...any)
	sem      chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	errs     []error
	started  int
}

func newUnpacker(ctx context.Context, root string, toolchains []Toolchain, modules []Module, progress func(string, ...any)) (*unpacker, error) {
	u := &unpacker{ctx: ctx, jobs: map[string]func() error{}, progress: progress, sem: make(chan struct{}, runtime.NumCPU())}
	for _, t := range toolchains {
		u.jobs[t.Zip] = func() error {
			u.progress("unpacking Go %s (%s)", strings.TrimPrefix(t.Version, "go"), t.Platform)
			return unpackToolchain(ctx, t, filepath.Join(root, filepath.FromSlash(t.Zip)), filepath.Join(root, ToolchainsDir, t.Version))
		}
	}
	for _, md := range modules {
		zip, err := md.ZipPath()
		if err != nil {
			return nil, err
		}
		dir, err := md.ExtractedDir()
		if err != nil {
			return nil, err
		}
		u.jobs[zip] = func() error {
			mv := module.Version{Path: md.Path, Version: md.Version}
			if err := modzip.Unzip(filepath.Join(root, filepath.FromSlash(dir)), mv, filepath.Join(root, filepath.FromSlash(zip))); err != nil {
				return fmt.Errorf("extracting %s: %w", mv, err)
			}
			return nil
		}
	}
	return u, nil
}

// checked starts unzipping f if it is one of the zips to unpack.
func (u *unpacker) checked(f format.FileEntry) {
	job, ok := u.jobs[f.Path]
	if !ok {
		return
	}
	u.started++
	u.wg.Go(func() {
		u.sem <- struct{}{}
		defer func() { <-u.sem }()
		err := u.ctx.Err()
		if err == nil {
			err = job()
		}
		if err != nil {
			u.mu.Lock()
			u.errs = append(u.errs, err)
			u.mu.Unlock()
		}
	})
}

// wait waits for the unzipping and says whether every zip was unpacked.
func (u *unpacker) wait() error {
	u.wg.Wait()
	if err := errors.Join(u.errs...); err != nil {
		return err
	}
	if u.started != len(u.jobs) {
		return errors.New("a zip of the kit was not unpacked")
	}
	return nil
}

// unpackToolchain unzips toolchain t's module zip into goroot.
func unpackToolchain(ctx context.Context, t Toolchain, zip, goroot string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mv := module.Version{Path: ToolchainModule, Version: t.ModuleVersion()}
	if err := modzip.Unzip(goroot, mv, zip); err != nil {
		return fmt.Errorf("unpacking Go %s: %w", t.Version, err)
	}
	for _, d := range []string{"bin", "pkg/tool"} {
		if err := allowExec(filepath.Join(goroot, filepath.FromSlash(d))); err != nil {
			return err
		}
	}
	return nil
}

// allowExec makes the files under dir executable, as the go command does
// for the toolchains it unpacks.
func allowExec(dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, info.Mode()&0o777|0o111)
	})
}

// InstalledVersions lists the Go versions unpacked in an installed kit's
// directory, oldest first.
func InstalledVersions(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, ToolchainsDir))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(filepath.Join(dir, ManifestFile)); serr != nil {
			return nil, fmt.Errorf("%s is not an installed kit (it has no %s)", dir, ManifestFile)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, ToolchainsDir, e.Name(), "bin", "go")); err == nil {
			if v, err := NormalizeGoVersion(e.Name()); err == nil && v == e.Name() {
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, CompareGoVersions)
	return out, nil
}
