package kit

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/modlist"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
)

// Signer is a key that signs a kit, with its certificate chain if it has
// one.
type Signer struct {
	Key   crypto.Signer
	Role  string // "primary" or "co-signer"
	Chain []*smx509.Certificate
}

// BuildOptions say what goes into a kit.
type BuildOptions struct {
	// Go are the Go versions whose toolchains the kit carries (go1.22.5).
	Go []string
	// Platforms are the GOOS/GOARCH pairs of the toolchains; none means
	// this machine's.
	Platforms []string
	// Modules are the module versions the kit carries.
	Modules []modlist.Item
	// VulnDB, if set, is an offline vulnerability database directory to
	// carry.
	VulnDB string
	// Hegui, if set, is the hegui binary to carry, and HeguiVersion its
	// version.
	Hegui, HeguiVersion string
	// Prebuild are project directories to build (go build ./...) with
	// each of the kit's toolchains for this platform, so that the kit
	// carries their build cache and the first build after an install
	// compiles nothing it has not compiled before.
	Prebuild []string
	// Compression is the archive's; empty means Zstd.
	Compression Compression
	// Signers sign the manifest; the first is the primary.
	Signers []Signer
	// Getenv reads the environment the go command runs in (GOPROXY,
	// GOSUMDB, GONOSUMDB, GOPRIVATE...); nil means os.Getenv.
	Getenv func(string) string
	// WorkDir is where the kit is put together; it must be on a file
	// system with room for the kit twice. Empty means os.TempDir().
	WorkDir string
	// Progress receives a line at each step and as modules arrive.
	Progress func(format string, args ...any)
	// Now is the signing time; zero means time.Now.
	Now time.Time
}

// BuildSummary says what a kit holds.
type BuildSummary struct {
	Toolchains int
	Modules    int
	Zips       int
	Files      int
	Bytes      int64 // the files' sizes, before compression
}

// Build puts a kit together and writes it, compressed, to w. Toolchains
// and modules are fetched through GOPROXY into the go command's download
// layout under WorkDir, each checked against the checksum database
// (fetchAll); the checksum database's lookups are then proven again
// against its newest tree head, so that the go command can check them
// offline in any order (completeSumDB); projects to prebuild are built
// into a build cache; then every file is hashed, the manifest signed and
// the archive written.
func Build(ctx context.Context, w io.Writer, o BuildOptions) (*BuildSummary, error) {
	if len(o.Signers) == 0 {
		return nil, errors.New("a kit must be signed: give a key")
	}
	if len(o.Go) == 0 && len(o.Modules) == 0 {
		return nil, errors.New("nothing to put in the kit: name Go versions or modules")
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []string{HostPlatform()}
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	work, err := os.MkdirTemp(o.WorkDir, "hegui-kit-*")
	if err != nil {
		return nil, err
	}
	defer removeAll(work)
	if work, err = filepath.Abs(work); err != nil {
		return nil, err
	}
	root := filepath.Join(work, "kit")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	b := &builder{o: o, root: root}

	// What to download: module zips whole, go.mod-only versions their
	// .info and .mod; toolchains are fetched apart (fetchToolchains).
	var toolchains []Toolchain
	for _, v := range o.Go {
		gv, err := NormalizeGoVersion(v)
		if err != nil {
			return nil, err
		}
		for _, p := range o.Platforms {
			t := Toolchain{Version: gv, Platform: p, Zip: ToolchainZipPath(gv, p)}
			if err := module.Check(ToolchainModule, t.ModuleVersion()); err != nil {
				return nil, fmt.Errorf("platform %q: %v", p, err)
			}
			if slices.ContainsFunc(toolchains, func(x Toolchain) bool { return x.Version == gv && x.Platform == p }) {
				continue
			}
			toolchains = append(toolchains, t)
		}
	}
	var mods []Module
	for _, it := range modlist.Merge(o.Modules) {
		mods = append(mods, Module{Path: it.Module, Version: it.Version, Zip: !it.ModOnly})
	}
	o.Progress("fetching %d toolchain(s) and %d module version(s) through GOPROXY=%s", len(toolchains), len(mods), cmp.Or(o.Getenv("GOPROXY"), "(the go command's default)"))
	var items []fetchItem
	for i := range toolchains {
		t := &toolchains[i]
		items = append(items, fetchItem{mv: module.Version{Path: ToolchainModule, Version: t.ModuleVersion()}, zip: true, zipHash: &t.Hash})
	}
	for _, md := range mods {
		items = append(items, fetchItem{mv: module.Version{Path: md.Path, Version: md.Version}, zip: md.Zip})
	}
	if err := b.fetchAll(ctx, items); err != nil {
		return nil, err
	}
	if err := b.completeSumDB(ctx); err != nil {
		return nil, err
	}
	if err := b.prebuild(ctx, work, toolchains); err != nil {
		return nil, err
	}
	if o.VulnDB != "" {
		o.Progress("copying the vulnerability database %s", o.VulnDB)
		if err := copyTree(ctx, o.VulnDB, filepath.Join(root, VulnDBDir)); err != nil {
			return nil, fmt.Errorf("vulnerability database: %w", err)
		}
	}
	if o.Hegui != "" {
		if err := copyFile(o.Hegui, filepath.Join(root, filepath.FromSlash(HeguiBinary)), 0o755); err != nil {
			return nil, fmt.Errorf("hegui binary: %w", err)
		}
	}
	paths, err := b.payload()
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		Schema: Schema, Signed: now.UTC().Truncate(time.Second),
		Toolchains: toolchains, Modules: mods, Env: b.kitEnv(), VulnDB: o.VulnDB != "",
		BuildCache: len(o.Prebuild) > 0,
	}
	if o.Hegui != "" {
		m.Hegui = cmp.Or(o.HeguiVersion, "unknown")
	}
	if vs := m.Versions(); len(vs) > 0 {
		m.Default = vs[len(vs)-1]
	}
	if err := pack(ctx, w, o.Compression, root, paths, m, o.Signers, o.Progress); err != nil {
		return nil, err
	}
	sum := &BuildSummary{Toolchains: len(toolchains), Modules: len(mods), Files: len(m.Files)}
	for _, f := range m.Files {
		sum.Bytes += f.Size
	}
	for _, md := range mods {
		if md.Zip {
			sum.Zips++
		}
	}
	return sum, nil
}

// pack finishes a kit whose payload files (paths, relative to root) are
// in place: it writes the signers' public material, hashes every file into
// m.Files, signs the manifest with every signer and writes the archive.
func pack(ctx context.Context, w io.Writer, compression Compression, root string, paths []string, m *Manifest, signers []Signer, progress func(string, ...any)) error {
	signerPaths, err := writeSigners(root, signers)
	if err != nil {
		return err
	}
	paths = append(slices.Clone(paths), signerPaths...)
	progress("hashing %d files (SHA-256 and SM3)", len(paths))
	m.Files, err = format.HashPaths(ctx, paths, func(rel string) (format.Opened, error) {
		return os.Open(filepath.Join(root, filepath.FromSlash(rel)))
	})
	if err != nil {
		return err
	}
	m.Signers = nil
	for _, s := range signers {
		id, _ := keys.ID(s.Key.Public())
		alg, _ := keys.AlgorithmOf(s.Key.Public())
		e := format.SignerEntry{KeyID: id, Algorithm: string(alg), Role: s.Role, PublicKey: format.SignerPublicKeyPath(id)}
		if len(s.Chain) > 0 {
			e.Chain = format.SignerChainPath(id)
		}
		m.Signers = append(m.Signers, e)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	manifest = append(manifest, '\n')
	var ks []crypto.Signer
	for _, s := range signers {
		ks = append(ks, s.Key)
	}
	env, err := envelope.Sign(ctx, PayloadType, manifest, ks...)
	if err != nil {
		return fmt.Errorf("sign the manifest: %w", err)
	}
	envData, err := envelope.Marshal(env)
	if err != nil {
		return err
	}
	progress("writing the archive")
	return writeArchive(ctx, w, compression, root, m, manifest, envData)
}

// builder is one Build's state.
type builder struct {
	o    BuildOptions
	root string // the kit's files
	// sumdbURL is the checksum database's URL when GOSUMDB gives one.
	sumdbURL string
}

// kitEnv is what activate sets of the go command's checksum settings.
func (b *builder) kitEnv() map[string]string {
	env := map[string]string{"GOSUMDB": cmp.Or(b.o.Getenv("GOSUMDB"), "sum.golang.org")}
	for _, k := range []string{"GONOSUMDB", "GOPRIVATE", "GONOSUMCHECK"} {
		if v := b.o.Getenv(k); v != "" {
			env[k] = v
		}
	}
	return env
}

// writeSigners puts each signer's public key and chain where the manifest
// names them and returns their paths.
func writeSigners(root string, signers []Signer) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(root, SignersDir), 0o755); err != nil {
		return nil, err
	}
	var paths []string
	seen := map[string]bool{}
	for _, s := range signers {
		id, err := keys.ID(s.Key.Public())
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, fmt.Errorf("key %s is given twice", keys.ShortID(id))
		}
		seen[id] = true
		pub, err := keys.MarshalPublicKeyPEM(s.Key.Public())
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(format.SignerPublicKeyPath(id))), pub, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, format.SignerPublicKeyPath(id))
		if len(s.Chain) > 0 {
			if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(format.SignerChainPath(id))), pki.EncodeCertificates(s.Chain...), 0o644); err != nil {
				return nil, err
			}
			paths = append(paths, format.SignerChainPath(id))
		}
	}
	return paths, nil
}

// payload lists the files the kit carries, relative to its root: the go
// command's download cache without its lock files and temporary files,
// the checksum database's tree head, and what else was copied in. The
// modules the go command extracted while downloading are left out: it
// extracts them again from the zips when they are needed.
func (b *builder) payload() ([]string, error) {
	var paths []string
	extracted := filepath.Join(b.root, GoPathDir, "pkg", "mod")
	download := filepath.Join(b.root, filepath.FromSlash(DownloadDir))
	err := filepath.WalkDir(b.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			// Under pkg/mod only cache/download is kept.
			if filepath.Dir(p) == extracted && p != filepath.Join(extracted, "cache") {
				return filepath.SkipDir
			}
			if filepath.Dir(p) == filepath.Join(extracted, "cache") && p != download {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(b.root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.HasSuffix(rel, ".lock") || strings.HasSuffix(rel, ".partial") || strings.Contains(path.Base(rel), ".tmp") {
			return nil
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", rel)
		}
		if err := format.CheckPath(rel); err != nil {
			return err
		}
		paths = append(paths, rel)
		return nil
	})
	return paths, err
}

// writeArchive writes the kit: the manifest, its envelope, the signers'
// files, then every other file, in the manifest's order, each with fixed
// ownership and times so that the same files make the same archive.
func writeArchive(ctx context.Context, w io.Writer, compression Compression, root string, m *Manifest, manifest, envData []byte) error {
	gz, err := compressor(w, compression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	mtime := m.Signed
	put := func(name string, mode int64, size int64, r io.Reader) error {
		hdr := &tar.Header{Name: name, Mode: mode, Size: size, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := put(ManifestFile, 0o644, int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return err
	}
	if err := put(EnvelopeFile, 0o644, int64(len(envData)), bytes.NewReader(envData)); err != nil {
		return err
	}
	files := slices.Clone(m.Files)
	// Signers first: a reader checks the signatures before it reads on.
	// Toolchains next, then module zips: install unpacks each as soon as
	// it is checked, while the rest streams in.
	zips := map[string]int{}
	for _, t := range m.Toolchains {
		zips[t.Zip] = 1
	}
	for _, md := range m.Modules {
		if p, err := md.ZipPath(); err == nil && md.Zip {
			zips[p] = 2
		}
	}
	rank := func(p string) int {
		if strings.HasPrefix(p, SignersDir+"/") {
			return 0
		}
		if r, ok := zips[p]; ok {
			return r
		}
		return 3
	}
	slices.SortStableFunc(files, func(a, b format.FileEntry) int {
		return cmp.Compare(rank(a.Path), rank(b.Path))
	})
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		mode := int64(0o644)
		if f.Path == HeguiBinary {
			mode = 0o755
		}
		fh, err := os.Open(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			return err
		}
		err = put(f.Path, mode, f.Size, io.LimitReader(fh, f.Size))
		fh.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// removeAll removes a directory the go command wrote into, whose module
// directories it may have made read-only.
func removeAll(dir string) {
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyTree copies the regular files under src to dst; anything else (a
// link, a device) is an error.
func copyTree(ctx context.Context, src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case e.IsDir():
			return os.MkdirAll(target, 0o755)
		case e.Type().IsRegular():
			return copyFile(p, target, 0o644)
		}
		return fmt.Errorf("%s is not a regular file or directory", p)
	})
}
