// Package delivercmd is `hegui deliver`, `init`, `verify` and `report`: the
// main job and its checks (packages deliver, verify and report do the work).
package delivercmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver"
	"hegui.dev/hegui/internal/deliver/build"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
)

// DeliverOptions are the choices of `hegui deliver`.
type DeliverOptions struct {
	Dir         string // the module, "." by default
	Config      string // hegui.yaml to use instead of the module's
	Output      string // where deliveries go instead of hegui.yaml's output
	Run         delivery.Options
	PolicyMode  string // enforce or warn, "" for hegui.yaml's
	AuditLog    string // a transparency log's URL, "" for hegui.yaml's
	AuditLogPub string // its verifier keys
	JSON        bool
	// Password is where the signing key's password comes from.
	Password *cmdutil.PasswordSource
}

// NewDeliverCmd makes `hegui deliver`.
func NewDeliverCmd(env *cmdutil.Env) *cobra.Command {
	var opts DeliverOptions
	cmd := &cobra.Command{
		Use:   "deliver [DIR]",
		Short: "Build, check, sign and document a Go module as a verifiable delivery",
		Long: `Deliver turns the Go module in DIR (default: the current directory) into a
delivery directory that customers and auditors can verify offline with
"hegui verify". The stages run in this order:

  ` + deliver.StageNames() + `

It builds every main package for every target (default linux/amd64,
linux/arm64 and linux/loong64) reproducibly, builds each a second time to
prove it, checks hardening, writes SPDX and CycloneDX SBOMs, finds licences,
scans for known vulnerabilities against the offline database ("hegui
vulndb") and runs go vet's and gosec's analyzers, records signed
in-toto/SLSA provenance, applies the policy of hegui.yaml, signs a manifest
of every file (SM2 by default) and writes report.html and report.json with a
compliance matrix for 等保2.0, 密评, SSDF, SLSA, GDPR and PIPL.

A policy violation fails the delivery (exit 1) and is listed with what to do
about it; --policy-mode warn reports violations without failing.

Configuration comes from hegui.yaml in the module root (see "hegui init");
without one, defaults apply and, if no key is configured, the delivery is
signed with a development key from the keyring, with a loud warning.

The version is the git tag at HEAD (a module in a subdirectory uses
"subdir/vX.Y.Z" tags). Untagged or uncommitted work needs --snapshot and gets
a Go pseudo-version.`,
		Example: `  hegui deliver --snapshot                    # work in progress, development key
  hegui deliver                               # a tagged release, keys from hegui.yaml
  hegui deliver ./service --output /srv/deliveries --password-file release.pass
  hegui deliver --snapshot --policy-mode warn # see every violation without failing
  hegui deliver --snapshot --json | jq -r .report
  HEGUI_LOG_TOKEN=... hegui deliver --audit-log https://audit.example.cn --audit-log-pub log.pub`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = cmdutil.DirArg(args)
			return RunDeliver(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Config, "config", "", "configuration `FILE` (default: hegui.yaml in the module root, else built-in defaults)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write deliveries under `DIR` (default: output in hegui.yaml, else dist)")
	cmd.Flags().BoolVar(&opts.Run.Snapshot, "snapshot", false, "deliver untagged or uncommitted work under a pseudo-version")
	cmd.Flags().BoolVar(&opts.Run.Force, "force", false, "replace an existing delivery of the same version")
	cmd.Flags().BoolVar(&opts.Run.KeepFailed, "keep-failed", false, "keep the staging directory of a failed delivery for inspection")
	cmd.Flags().BoolVar(&opts.Run.SkipReproduce, "skip-reproduce", false, "do not build twice to check reproducibility (reported as skipped)")
	cmd.Flags().IntVar(&opts.Run.Parallel, "parallel", runtime.NumCPU(), "builds to run at once")
	cmd.Flags().StringVar(&opts.PolicyMode, "policy-mode", "", "enforce: violations fail the delivery; warn: report them only (default: policy.mode in hegui.yaml, else enforce)")
	cmd.Flags().StringVar(&opts.AuditLog, "audit-log", "", "record the delivery in the transparency log at `URL` (default: audit-log.url in hegui.yaml)")
	cmd.Flags().StringVar(&opts.AuditLogPub, "audit-log-pub", "", "the audit log's verifier keys `FILE` (log.pub)")
	opts.Password = cmdutil.AddPasswordFlag(cmd, env, "the signing key")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// RunDeliver makes a delivery of the module in o.Dir and says where it is.
func RunDeliver(ctx context.Context, env *cmdutil.Env, o DeliverOptions) error {
	if o.Password == nil {
		o.Password = &cmdutil.PasswordSource{Env: env, EnvName: cmdutil.EnvKeyPassword, Prompt: "Password for the signing key: "}
	}
	if o.Run.Parallel < 0 {
		return cmdutil.Usagef("--parallel must be positive")
	}
	d, err := deliver.Prepare(ctx, o.Dir, o.Config)
	if err != nil {
		return err
	}
	if o.Output != "" {
		if d.OutputDir, err = filepath.Abs(o.Output); err != nil {
			return err
		}
	}
	switch o.PolicyMode {
	case "":
	case config.Enforce, config.WarnMode:
		d.Config.Policy.Mode = o.PolicyMode
	default:
		return cmdutil.Usagef("--policy-mode %q: want enforce or warn", o.PolicyMode)
	}
	if o.AuditLog != "" {
		if o.AuditLogPub == "" {
			return cmdutil.Usagef("--audit-log needs --audit-log-pub FILE: the log's log.pub")
		}
		d.Config.AuditLog.URL = o.AuditLog
	}
	if o.AuditLogPub != "" {
		if d.Config.AuditLog.PublicKeys, err = filepath.Abs(o.AuditLogPub); err != nil {
			return err
		}
	}
	d.Options = o.Run
	d.Log = &deliverLog{env: env}
	d.KeyringDir = env.KeyringDir
	d.HeguiVersion = cmdutil.Version().Version
	d.Getenv = env.Getenv
	d.OpenKey = func(req delivery.KeyRequest) (*delivery.OpenedKey, error) {
		return openDeliveryKey(ctx, env, req, o.Password)
	}
	if err := deliver.Run(ctx, d); err != nil {
		return err
	}
	res := Result{
		Directory: d.FinalDir, Version: d.Version.Version, Report: filepath.Join(d.FinalDir, format.ReportHTMLFile),
		Archive: d.Archive, Binaries: len(d.Binaries), Warnings: d.Warnings,
		DevelopmentKey: d.Primary() != nil && d.Primary().Development,
	}
	if o.JSON {
		return env.PrintJSON(res)
	}
	fmt.Fprintf(env.Stdout, "Delivered %s %s to %s\n", d.Name, d.Version.Version, relPath(d.FinalDir))
	fmt.Fprintf(env.Stdout, "  report:  %s\n", relPath(res.Report))
	if d.Archive != "" {
		fmt.Fprintf(env.Stdout, "  archive: %s\n", relPath(d.Archive))
	}
	fmt.Fprintf(env.Stdout, "  verify:  hegui verify %s %s\n", relPath(d.FinalDir), verifyHint(d))
	if res.DevelopmentKey {
		fmt.Fprintf(env.Stderr, "WARNING: signed with a DEVELOPMENT key; configure signing.key in hegui.yaml for releases\n")
	}
	return nil
}

// Result is what `hegui deliver --json` prints.
type Result struct {
	Directory      string   `json:"directory"`
	Version        string   `json:"version"`
	Report         string   `json:"report"`
	Archive        string   `json:"archive,omitempty"`
	Binaries       int      `json:"binaries"`
	DevelopmentKey bool     `json:"developmentKey"`
	Warnings       []string `json:"warnings"`
}

func verifyHint(d *delivery.Delivery) string {
	if p := d.Primary(); p != nil && len(p.Chain) > 0 {
		return "--trust-root ROOT.pem"
	}
	// Never the copy of the key inside the delivery: a forgery re-signed
	// with another key carries that key too, and would verify with it.
	return "--pub KEY.pub   (key " + d.Primary().KeyID[:16] + " as you got it from the signer, which `hegui key export KEY --public` writes; never the copy inside the delivery)"
}

// relPath shortens a path relative to the working directory when it is below it.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// openDeliveryKey opens a signing key for deliver. A configured password
// file or variable for the key wins over --password-file.
func openDeliveryKey(ctx context.Context, e *cmdutil.Env, req delivery.KeyRequest, fallback *cmdutil.PasswordSource) (*delivery.OpenedKey, error) {
	pw := fallback
	if req.PasswordFile != "" || req.PasswordEnv != "" {
		pw = &cmdutil.PasswordSource{Env: e, Cmd: fallback.Cmd, File: req.PasswordFile, EnvName: cmdutil.EnvKeyPassword, Prompt: "Password for " + req.Ref + ": "}
		if req.PasswordEnv != "" {
			pw.EnvName = req.PasswordEnv
		}
	}
	ref := &cmdutil.KeyRef{Env: e, Ref: req.Ref, Password: pw}
	k, err := ref.OpenSigner(ctx)
	if err != nil {
		return nil, err
	}
	return &delivery.OpenedKey{Signer: k.Signer, Label: k.Label, Close: k.Close}, nil
}

// deliverLog prints pipeline progress on stderr: a line per stage, steps
// indented, warnings marked. Builds run in parallel, so lines are locked.
type deliverLog struct {
	env *cmdutil.Env
	mu  sync.Mutex
}

func (l *deliverLog) Begin(stage string, index, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.env.Quiet {
		fmt.Fprintf(l.env.Stderr, "[%d/%d] %s\n", index, total, stage)
	}
}

func (l *deliverLog) Stepf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.env.Quiet {
		fmt.Fprintf(l.env.Stderr, "      %s\n", fmt.Sprintf(format, args...))
	}
}

func (l *deliverLog) Warnf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.env.Stderr, "  ! %s\n", fmt.Sprintf(format, args...))
}

// InitOptions are the choices of `hegui init`.
type InitOptions struct {
	Dir   string // the module, "." by default
	Force bool   // replace an existing hegui.yaml
}

// NewInitCmd makes `hegui init`.
func NewInitCmd(env *cmdutil.Env) *cobra.Command {
	var opts InitOptions
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a commented hegui.yaml for the module in DIR",
		Long: `Init writes hegui.yaml into the module root with every setting and its
default, and one build per main package found (the module root if it is a
main package, else the packages under cmd/, else all). Edit it, then run
"hegui deliver". The schema is described in docs/config.md.`,
		Example: "  hegui init\n  hegui init ./service && $EDITOR service/hegui.yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = cmdutil.DirArg(args)
			return RunInit(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing hegui.yaml")
	return cmd
}

// RunInit writes a commented hegui.yaml for the module in o.Dir, with a
// build per main package hegui would build by default.
func RunInit(ctx context.Context, env *cmdutil.Env, o InitOptions) error {
	g, mod, err := cmdutil.ModuleIn(ctx, o.Dir, "")
	if err != nil {
		return err
	}
	mains, err := build.Mains(ctx, g, mod.Dir)
	if err != nil {
		return err
	}
	if len(mains) == 0 {
		return fmt.Errorf("module %s has no main package: hegui delivers programs, and there is nothing here to build; run init in the module of a command (or add one, e.g. ./cmd/app)", mod.Path)
	}
	path := filepath.Join(mod.Dir, config.FileName)
	if err := cmdutil.WriteOutput(path, config.Template(deliver.DefaultName(mod.Path), mains), 0o644, o.Force); err != nil {
		return err
	}
	env.Infof("Wrote %s (%d build(s): %s)", relPath(path), len(mains), strings.Join(mains, ", "))
	return nil
}
