package proxycmd

import (
	"context"
	"crypto"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/modlist"
	"hegui.dev/hegui/internal/modproxy"
)

// ExportOptions are the choices of `hegui proxy export`.
type ExportOptions struct {
	// Dir is the proxy home.
	Dir string
	// Files name the module versions to export (as for warm); none means
	// every stored module.
	Files []string
	// Out is the bundle file (--out).
	Out string
	// Key signs the bundle (--key).
	Key *cmdutil.KeyRef
	// Force overwrites an existing --out.
	Force bool
}

func newExportCmd(env *cmdutil.Env) *cobra.Command {
	var opts ExportOptions
	cmd := &cobra.Command{
		Use:   "export DIR [FILE...] --out BUNDLE --key KEY",
		Short: "Write a signed bundle of stored modules to carry across an air gap",
		Long: `Export writes the modules stored in the proxy home DIR to a bundle, a tar file
signed with KEY (SM2 by default), for hegui proxy import on a proxy that cannot
reach this one. The FILEs (go.sum, go.mod or module lists, as for warm; - is
standard input) choose the module versions; without FILEs every stored module
is exported. The bundle carries each version's files and records, an internal
version's signature and audit-log proof, and the checksum database's lookups,
tiles and latest tree head, so that the importing proxy verifies every public
module against the checksum database offline.

A named version that is not stored whole is an error: warm it first.`,
		Example: `  hegui proxy warm /srv/goproxy go.sum
  hegui proxy export /srv/goproxy go.sum --out modules.bundle --key keyring:transfer`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir, opts.Files = args[0], args[1:]
			return RunExport(cmd.Context(), env, opts)
		},
	}
	opts.Key = cmdutil.AddKeyFlag(cmd, env, "key", "sign the bundle with this key")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the bundle to `FILE`")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing --out")
	return cmd
}

// RunExport runs `hegui proxy export`.
func RunExport(ctx context.Context, env *cmdutil.Env, o ExportOptions) error {
	if o.Out == "" {
		return cmdutil.Usagef("--out is required")
	}
	if err := o.Key.Required("key"); err != nil {
		return err
	}
	var items []modlist.Item
	if len(o.Files) > 0 {
		var err error
		if items, err = cmdutil.ReadModuleLists(ctx, env, o.Files); err != nil {
			return err
		}
	}
	p, err := openStored(ctx, env, o.Dir)
	if err != nil {
		return err
	}
	key, err := o.Key.OpenSigner(ctx)
	if err != nil {
		return err
	}
	defer key.Close()
	f, err := atomicfile.CreateOutput(o.Out, 0o644, !o.Force)
	if err != nil {
		return cmdutil.OutputError(o.Out, err)
	}
	defer f.Abort()
	sum, err := p.Export(ctx, f, items, []crypto.Signer{key.Signer}, env.Infof)
	if err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return cmdutil.OutputError(o.Out, err)
	}
	env.Infof("wrote %s: %d module versions, %d objects, %s, signed by key %s", o.Out, sum.Versions, sum.Objects, human.Bytes(sum.Bytes), key.ID)
	return nil
}

// ImportOptions are the choices of `hegui proxy import`.
type ImportOptions struct {
	// Dir is the proxy home.
	Dir string
	// Bundle is the bundle file.
	Bundle string
	// Pubs are the public key files of those whose bundles are trusted
	// (--pub).
	Pubs []string
}

func newImportCmd(env *cmdutil.Env) *cobra.Command {
	var opts ImportOptions
	cmd := &cobra.Command{
		Use:   "import DIR BUNDLE --pub KEY",
		Short: "Verify a bundle whole, then store its modules",
		Long: `Import reads a bundle written by hegui proxy export and stores its modules in
the proxy home DIR, which may be serving. Nothing is stored until the whole
bundle is verified:

  - its manifest is signed by one of the --pub keys;
  - every object is listed in the manifest, with its size, SHA-256 and SM3;
  - every public module's .mod and .zip hash is in the checksum database,
    proven offline by the bundle's own lookups and tiles against the
    database's key (proxy.yaml's sumdb, else $GOSUMDB, else sum.golang.org);
    every zip keeps to the module zip rules;
  - every internal version's publication is signed by a publisher this proxy
    trusts and proven in its audit log (proxy.yaml's internal section).

What DIR already holds is kept. A bundle that fails any check stores nothing.`,
		Example: `  hegui proxy import /srv/goproxy modules.bundle --pub transfer.pub`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir, opts.Bundle = args[0], args[1]
			return RunImport(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Pubs, "pub", nil, "trust bundles signed by this public key `FILE` (repeatable)")
	return cmd
}

// RunImport runs `hegui proxy import`.
func RunImport(ctx context.Context, env *cmdutil.Env, o ImportOptions) error {
	if len(o.Pubs) == 0 {
		return cmdutil.Usagef("--pub is required: the bundle is verified against the exporter's public key")
	}
	var trusted []crypto.PublicKey
	for _, file := range o.Pubs {
		pub, err := cmdutil.ReadPublicKeyFile(file)
		if err != nil {
			return err
		}
		trusted = append(trusted, pub)
	}
	// A regular file only: a FIFO or a device is refused, not waited on.
	in, _, err := inputfile.Open(o.Bundle)
	if err != nil {
		return err
	}
	defer in.Close()
	p, err := openStored(ctx, env, o.Dir)
	if err != nil {
		return err
	}
	sum, err := p.Import(ctx, in, trusted, env.Infof)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was stored)", o.Bundle, err)
	}
	env.Infof("imported %s into %s: %d module versions, %d objects (%s), %d new", o.Bundle, o.Dir, sum.Versions, sum.Objects, human.Bytes(sum.Bytes), sum.New)
	return nil
}

// openStored opens a proxy home for work on its store alone: no upstream
// is contacted.
func openStored(ctx context.Context, env *cmdutil.Env, dir string) (*modproxy.Proxy, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, cmdutil.Usagef("%s is not a proxy home", dir)
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, _, err := modproxy.Open(ctx, dir, modproxy.HomeOptions{Offline: true, Getenv: env.Getenv, Log: logger})
	return p, err
}
