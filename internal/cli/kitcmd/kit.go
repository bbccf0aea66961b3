// Package kitcmd is `hegui kit`: offline Go environment kits (internal/kit)
// built on a connected machine, carried as one signed file, verified and
// installed anywhere without root or network.
package kitcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/kit"
	"hegui.dev/hegui/internal/trust"
	"hegui.dev/hegui/internal/vulndb"
	"hegui.dev/hegui/pki"
)

// NewKitCmd makes `hegui kit` and its subcommands.
func NewKitCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kit",
		Short: "Build, verify and install offline Go environment kits",
		Long: `A kit is one signed file that rebuilds a known-good Go environment on a
machine with no network: Go toolchains (the golang.org/toolchain module zips
the go command itself downloads), a module cache with the checksum
database's lookups and tiles for every module, and optionally the offline
vulnerability database and hegui itself.

  hegui kit build    on a connected machine (or beside the offline proxy)
  hegui kit verify   check a kit offline: signatures and every file
  hegui kit install  verify, then unpack into one directory, no root
  source DIR/activate, hegui kit use VERSION, deactivate

See docs/kit.md.`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	cmd.AddCommand(newBuildCmd(env), newVerifyCmd(env), newInstallCmd(env), newUseCmd(env), newDoctorCmd(env))
	return cmd
}

// BuildOptions are the choices of `hegui kit build`.
type BuildOptions struct {
	// Go are the Go versions (--go, comma-separated or repeated).
	Go []string
	// Modules name the modules: go.sum, go.mod, module lists or module
	// directories (--modules).
	Modules []string
	// Platforms are the toolchains' GOOS/GOARCH (--platform).
	Platforms []string
	// VulnDB is the vulnerability database to carry (--vulndb; "" none).
	VulnDB string
	// WithHegui carries this hegui binary (--with-hegui).
	WithHegui bool
	// Prebuild are projects to build into the kit's build cache
	// (--prebuild).
	Prebuild []string
	// Key signs the kit (--key); Cert is its certificate chain (--cert).
	Key  *cmdutil.KeyRef
	Cert string
	// CoSigners also sign (--co-signer).
	CoSigners []string
	// Out is the kit file (--out); Force overwrites it.
	Out   string
	Force bool
	// Compression overrides what --out's name says (--compression).
	Compression string
}

// vulndbDefault is the value --vulndb takes alone: the default database.
const vulndbDefault = "default"

func newBuildCmd(env *cmdutil.Env) *cobra.Command {
	var opts BuildOptions
	cmd := &cobra.Command{
		Use:   "build --go VERSIONS [--modules go.sum|DIR|LIST]... --key KEY --out KIT.tar.zst",
		Short: "Put Go toolchains and modules into one signed kit",
		Long: `Build fetches Go toolchains and modules the way the go command does (through
GOPROXY, every file checked against the checksum database) and writes them,
with the checksum database's lookups and tiles, into one signed kit file.

--go names Go versions (1.22.5 or go1.22.5, comma-separated or repeated);
--platform the GOOS/GOARCH of their toolchains (default this machine's).
--modules names the modules: a go.sum (a "/go.mod" line alone carries just
that go.mod, as the go command needs), a go.mod, a module directory (its
go.sum), or a list of MODULE@VERSION lines or "go list -m all" output.
The environment's GOPROXY, GOSUMDB, GONOSUMDB and GOPRIVATE are used as the
go command would; point GOPROXY at a hegui proxy to build from it.

The manifest lists every file with its size, SHA-256 and SM3 and is signed
with --key (SM2 by default for keys hegui makes) and each --co-signer; --cert
adds the key's certificate chain, so that a kit verifies against a trust root.

--prebuild DIR builds the project in DIR (go build ./...) with each toolchain
for this platform, offline from the kit's modules, and carries the build
cache: the first build after an install then compiles nothing it has seen
(restic: seconds instead of minutes on two cores). The cache is made with
-trimpath, which activate then sets, so that it holds wherever the kit is
installed.`,
		Example: `  hegui kit build --go 1.22.5,1.26.8 --modules . --key keyring:release --out go-env.tar.zst
  hegui kit build --go 1.26.8 --modules . --prebuild . --key keyring:release --out go-env.tar.zst
  hegui kit build --go 1.26.8 --platform linux/amd64,linux/arm64,linux/loong64 \
      --modules go.sum --modules tools.txt --vulndb --with-hegui \
      --key release.key --cert release-chain.pem --out go-env.tar.zst
  GOPROXY=http://goproxy.intra:8081 hegui kit build --go 1.26.8 --modules go.sum --key k.key --out kit.tar.zst`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunBuild(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Go, "go", nil, "Go `VERSIONS` whose toolchains the kit carries (1.22.5,1.26.8)")
	f.StringArrayVar(&opts.Modules, "modules", nil, "modules to carry: a go.sum, go.mod, module `DIR` or list (repeatable)")
	f.StringSliceVar(&opts.Platforms, "platform", nil, "toolchain `GOOS/GOARCH` pairs (default this machine's)")
	f.StringVar(&opts.VulnDB, "vulndb", "", "carry the offline vulnerability database (alone: $HEGUI_VULNDB or the default one; or `DIR`)")
	f.Lookup("vulndb").NoOptDefVal = vulndbDefault
	f.BoolVar(&opts.WithHegui, "with-hegui", false, "carry this hegui binary too (bin/hegui)")
	f.StringArrayVar(&opts.Prebuild, "prebuild", nil, "build the project in `DIR` with each toolchain and carry the build cache, so the first build after an install compiles nothing (repeatable)")
	opts.Key = cmdutil.AddKeyFlag(cmd, env, "key", "sign the kit with this key")
	f.StringVar(&opts.Cert, "cert", "", "the certificate chain of --key (PEM `FILE`, leaf first)")
	f.StringArrayVar(&opts.CoSigners, "co-signer", nil, "also sign with this `KEY` (repeatable; read with --key's password source)")
	f.StringVarP(&opts.Out, "out", "o", "", "write the kit to `FILE` (.tar.zst, or .tar.gz)")
	f.StringVar(&opts.Compression, "compression", "", "zstd or gzip (default: what --out's name says)")
	f.BoolVar(&opts.Force, "force", false, "overwrite an existing --out")
	return cmd
}

// RunBuild runs `hegui kit build`.
func RunBuild(ctx context.Context, env *cmdutil.Env, o BuildOptions) error {
	if o.Out == "" {
		return cmdutil.Usagef("--out is required: the kit file to write")
	}
	if err := o.Key.Required("key"); err != nil {
		return err
	}
	if len(o.Go) == 0 && len(o.Modules) == 0 {
		return cmdutil.Usagef("name Go versions (--go) or modules (--modules): an empty kit is no use")
	}
	compression := kit.Compression(o.Compression)
	switch compression {
	case kit.Zstd, kit.Gzip:
	case "":
		c, err := kit.CompressionFor(o.Out)
		if err != nil {
			return cmdutil.Usagef("--out %v, or give --compression", err)
		}
		compression = c
	default:
		return cmdutil.Usagef("--compression %q: want zstd or gzip", o.Compression)
	}
	for _, v := range o.Go {
		if _, err := kit.NormalizeGoVersion(v); err != nil {
			return cmdutil.Usagef("--go: %v", err)
		}
	}
	for _, p := range o.Platforms {
		if os, arch, ok := strings.Cut(p, "/"); !ok || os == "" || arch == "" || strings.Contains(arch, "/") {
			return cmdutil.Usagef("--platform %q: want GOOS/GOARCH, such as linux/amd64", p)
		}
	}
	bo := kit.BuildOptions{Go: o.Go, Platforms: o.Platforms, Compression: compression, Getenv: env.Getenv, Progress: env.Infof}
	for _, dir := range o.Prebuild {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
			return cmdutil.Usagef("--prebuild %s: not a module directory (no go.mod)", dir)
		}
		bo.Prebuild = append(bo.Prebuild, abs)
	}
	if len(o.Modules) > 0 {
		items, err := cmdutil.ReadModuleLists(ctx, env, o.Modules)
		if err != nil {
			return err
		}
		bo.Modules = items
	}
	if o.VulnDB != "" {
		dir := o.VulnDB
		if dir == vulndbDefault {
			dir = vulndb.DefaultPath(env.Getenv)
		}
		info, err := vulndb.OpenIndex(dir)
		if err != nil {
			return err
		}
		bo.VulnDB = info.Path
	}
	if o.WithHegui {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		bo.Hegui, bo.HeguiVersion = exe, cmdutil.Version().Version
	}
	primary, err := o.Key.OpenSigner(ctx)
	if err != nil {
		return err
	}
	defer primary.Close()
	s := kit.Signer{Key: primary.Signer, Role: "primary"}
	if o.Cert != "" {
		data, err := inputfile.Read(ctx, o.Cert, inputfile.KeyLimit)
		if err != nil {
			return err
		}
		if s.Chain, err = pki.ParseCertificates(data); err != nil {
			return fmt.Errorf("--cert %s: %w", o.Cert, err)
		}
	}
	bo.Signers = append(bo.Signers, s)
	for _, ref := range o.CoSigners {
		k := &cmdutil.KeyRef{Env: env, Ref: ref, Password: o.Key.Password}
		co, err := k.OpenSigner(ctx)
		if err != nil {
			return fmt.Errorf("--co-signer %s: %w", ref, err)
		}
		defer co.Close()
		bo.Signers = append(bo.Signers, kit.Signer{Key: co.Signer, Role: "co-signer"})
	}

	out, err := atomicfile.CreateOutput(o.Out, 0o644, !o.Force)
	if err != nil {
		return cmdutil.OutputError(o.Out, err)
	}
	defer out.Abort()
	// The kit is put together beside it (the room it needs is there),
	// unless that is not a directory hegui may write in.
	bo.WorkDir = filepath.Dir(o.Out)
	if probe, err := os.MkdirTemp(bo.WorkDir, ".hegui-kit-probe-*"); err != nil {
		bo.WorkDir = ""
	} else {
		os.Remove(probe)
	}
	sum, err := kit.Build(ctx, out, bo)
	if err != nil {
		return err
	}
	if err := out.Commit(); err != nil {
		return cmdutil.OutputError(o.Out, err)
	}
	env.Infof("wrote %s: %d toolchain(s), %d module versions (%d zips), %d files, %s before compression, signed by %s key %s",
		o.Out, sum.Toolchains, sum.Modules, sum.Zips, sum.Files, human.Bytes(sum.Bytes), primary.Alg, primary.ID[:16])
	return nil
}

// trustFlags are --trust-root and --pub.
type trustFlags struct {
	Roots, Pubs []string
}

func (t *trustFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&t.Roots, "trust-root", nil, "trusted root CA certificates `FILE` (PEM; repeatable)")
	cmd.Flags().StringSliceVar(&t.Pubs, "pub", nil, "trusted public key `FILE` (repeatable)")
}

func (t *trustFlags) load() (trust.Anchors, error) {
	if len(t.Roots) == 0 && len(t.Pubs) == 0 {
		return trust.Anchors{}, cmdutil.Usagef("give --trust-root CA.pem or --pub KEY: what the kit must be signed by")
	}
	return cmdutil.LoadAnchors(t.Roots, t.Pubs)
}

// openKit opens a kit file for reading, refusing what is not a regular
// file (a FIFO would be read once, and install reads twice).
func openKit(name string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, _, err := inputfile.Open(name)
		var nr *inputfile.NotRegularError
		if errors.As(err, &nr) {
			return nil, fmt.Errorf("%w: a kit must be a regular file", err)
		}
		return f, err
	}
}
