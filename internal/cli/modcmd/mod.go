// Package modcmd is `hegui mod`: checks on a module's dependencies from
// the client side (modverify).
package modcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/internal/modverify"
)

// NewModCmd makes `hegui mod` and its subcommands.
func NewModCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mod",
		Short: "Check a module's dependencies",
		Args:  cobra.NoArgs,
		RunE:  cmdutil.ShowHelp,
	}
	cmd.AddCommand(newVerifyCmd(env))
	return cmd
}

// VerifyOptions are the choices of `hegui mod verify`.
type VerifyOptions struct {
	// Dir is the module whose go.sum is checked.
	Dir string
	// Proxy is the module proxy (--proxy; default the first URL of GOPROXY).
	Proxy string
	// Internal are the internal module patterns (--internal; default
	// GONOSUMDB, else GOPRIVATE).
	Internal string
	// Publishers are the trusted publishers' public key files (--publisher).
	Publishers []string
	// LogKeys is the audit log's verifier keys file (--log-keys).
	LogKeys string
	// SumDB is the checksum database key (--sumdb; default GOSUMDB).
	SumDB string
}

// TokenEnv is the variable holding a token for a proxy that asks for one.
const TokenEnv = "HEGUI_PROXY_TOKEN"

func newVerifyCmd(env *cmdutil.Env) *cobra.Command {
	var opts VerifyOptions
	cmd := &cobra.Command{
		Use:   "verify [DIR] --publisher KEY --log-keys FILE",
		Short: "Check every line of go.sum: public ones against the checksum database, internal ones signed and logged",
		Long: `Verify checks every line of DIR's go.sum (default: the current directory),
as a gate in CI:

  - a public module's line must be the checksum database's (read through the
    proxy's /sumdb/ endpoint and verified against the database's signed tree);
  - an internal module's line (one matching --internal, by default GONOSUMDB
    or GOPRIVATE as the go command reads them) must be a version published
    with hegui proxy publish: signed by one of the --publisher keys, and its
    module.publish event proven in the audit log whose keys --log-keys names.

The proxy is --proxy, or the first URL in GOPROXY; a proxy that asks for a
token gets $` + TokenEnv + ` as a bearer token. Every line that fails is named
with the reason, and the command exits 1.`,
		Example: `  hegui mod verify --publisher release.pub --log-keys log.pub
  GOPROXY=https://goproxy.intra GONOSUMDB=corp.example.com hegui mod verify ./service --publisher release.pub --log-keys log.pub`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = cmdutil.DirArg(args)
			return RunVerify(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Proxy, "proxy", "", "the module proxy `URL` (default: the first URL in GOPROXY)")
	f.StringVar(&opts.Internal, "internal", "", "internal module `PATTERNS`, GOPRIVATE syntax (default: GONOSUMDB, else GOPRIVATE)")
	f.StringArrayVar(&opts.Publishers, "publisher", nil, "a trusted publisher's public key `FILE` (repeatable)")
	f.StringVar(&opts.LogKeys, "log-keys", "", "the audit log's verifier keys `FILE` (log.pub)")
	f.StringVar(&opts.SumDB, "sumdb", "", "the checksum database's verifier `KEY` (default: GOSUMDB, else sum.golang.org's)")
	return cmd
}

// RunVerify runs `hegui mod verify`.
func RunVerify(ctx context.Context, env *cmdutil.Env, o VerifyOptions) error {
	g, err := cmdutil.GoFor(o.Dir, "")
	if err != nil {
		return err
	}
	// The environment first, then go env (which also reads go's own
	// configuration file, where go env -w puts these).
	vars, err := g.EnvVars(ctx, "GOPROXY", "GONOSUMDB", "GOPRIVATE", "GOSUMDB")
	if err != nil {
		return err
	}
	for name := range vars {
		if v := env.Getenv(name); v != "" {
			vars[name] = v
		}
	}
	proxy := o.Proxy
	if proxy == "" {
		if proxy, err = modproxy.ParseUpstream(vars["GOPROXY"]); err != nil {
			return cmdutil.Usagef("no module proxy: %v; give --proxy", err)
		}
	}
	internal := cmp.Or(o.Internal, vars["GONOSUMDB"], vars["GOPRIVATE"])
	sumdbKey := o.SumDB
	if sumdbKey == "" {
		if sumdbKey, _, err = modverify.ParseGOSUMDB(vars["GOSUMDB"]); err != nil {
			return err
		}
	}
	var trust modsign.Trust
	if len(o.Publishers) > 0 || o.LogKeys != "" {
		if trust, err = modsign.LoadTrust(o.Publishers, o.LogKeys); err != nil {
			return cmdutil.UsageError{Err: err}
		}
	}
	sumFile := filepath.Join(o.Dir, "go.sum")
	data, err := inputfile.Read(ctx, sumFile, inputfile.DocumentLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s has no go.sum: run go mod tidy (or go mod download) there first", o.Dir)
	}
	if err != nil {
		return err
	}
	lines, err := modverify.ParseGoSum(data)
	if err != nil {
		return fmt.Errorf("%s: %w", sumFile, err)
	}
	env.Infof("checking %d lines of %s through %s (internal: %s)", len(lines), sumFile, proxy, cmp.Or(internal, "none"))
	res, err := modverify.Check(ctx, lines, modverify.Options{
		Proxy: proxy, Token: env.Getenv(TokenEnv), Internal: internal, SumDB: sumdbKey, Trust: trust,
	})
	if err != nil {
		return err
	}
	for _, f := range res.Failures {
		fmt.Fprintf(env.Stdout, "FAIL %s:%d %s %s: %v\n", sumFile, f.Line.N, f.Line.Module, f.Line.Version, f.Err)
	}
	summary := fmt.Sprintf("%d public lines match the checksum database; %d internal lines are signed publications", res.Public, res.Internal)
	if len(res.Publishers) > 0 {
		summary += " (publisher key " + strings.Join(res.Publishers, ", ") + ")"
	}
	fmt.Fprintln(env.Stdout, summary)
	if n := len(res.Failures); n > 0 {
		return errors.New(plural(n, "line") + " of go.sum did not verify")
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
