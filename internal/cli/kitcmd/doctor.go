package kitcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/kit"
)

// DoctorOptions are the choices of `hegui kit doctor`.
type DoctorOptions struct {
	// Dir is the installed kit (--dir; default $HEGUI_KIT).
	Dir string
	// Module is a project whose go.sum the module cache is checked
	// against (--module).
	Module string
	Trust  trustFlags
	JSON   bool
}

func newDoctorCmd(env *cmdutil.Env) *cobra.Command {
	var opts DoctorOptions
	cmd := &cobra.Command{
		Use:   "doctor [--dir DIR] [--module PROJECT] [--pub KEY | --trust-root CA.pem]",
		Short: "Check this machine's Go environment against an installed kit",
		Long: `Doctor is the recovery drill: it checks the Go environment of the shell it
runs in against an installed kit and says what to fix.

  signature    the installed manifest is signed by --pub or a --trust-root
               signer (skipped without them)
  files        every file the kit installed is as signed
  toolchain    each unpacked GOROOT hashes, as go.sum hashes a module, to the
               signed toolchain zip's hash: no file changed, added or removed
  go command   the go on PATH is one of the kit's
  GOROOT, GOPROXY, GOSUMDB, GONOSUMDB, GOINSECURE, GOFLAGS, GOTOOLCHAIN,
  GOMODCACHE   what the go command will use (go env, so a go env file counts)
               is what the kit sets
  module cache with --module: every entry the project's go.sum names, the
               extracted directories included (which the go command does not
               check again once they are there)

Exit status: 0 when every check holds, 1 otherwise, 2 for usage errors.`,
		Example: `  source /opt/go-env/activate && hegui kit doctor
  hegui kit doctor --dir /opt/go-env --module . --pub release.pub --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunDoctor(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "the installed kit `DIR` (default $HEGUI_KIT, set by activate)")
	cmd.Flags().StringVar(&opts.Module, "module", "", "also check the module cache against the go.sum of the project in `DIR`")
	opts.Trust.add(cmd)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the findings as JSON")
	return cmd
}

// RunDoctor runs `hegui kit doctor`.
func RunDoctor(ctx context.Context, env *cmdutil.Env, o DoctorOptions) error {
	dir, err := installedDir(env, o.Dir)
	if err != nil {
		return err
	}
	do := kit.DoctorOptions{Dir: dir, Module: o.Module}
	if env.Environ != nil {
		do.Environ = env.Environ()
	}
	if len(o.Trust.Roots) > 0 || len(o.Trust.Pubs) > 0 {
		a, err := o.Trust.load()
		if err != nil {
			return err
		}
		do.Anchors = a
	}
	findings, err := kit.Doctor(ctx, do)
	if err != nil {
		return err
	}
	var failed []string
	for _, f := range findings {
		if !f.OK {
			failed = append(failed, f.Check)
		}
	}
	if o.JSON {
		if err := env.PrintJSON(findings); err != nil {
			return err
		}
	} else {
		for _, f := range findings {
			mark := "ok  "
			if !f.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(env.Stdout, "[%s] %-12s %s\n", mark, f.Check, f.Detail)
			if f.Fix != "" {
				fmt.Fprintf(env.Stdout, "       fix: %s\n", f.Fix)
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d check(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}
