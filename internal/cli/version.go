package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
)

// VersionOptions are the choices of `hegui version`.
type VersionOptions struct {
	// JSON prints the build information as JSON (--json).
	JSON bool
}

func newVersionCmd(env *cmdutil.Env) *cobra.Command {
	var opts VersionOptions
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print hegui's version, commit, build time and Go version",
		Long: `Version reads the binary's own build information. hegui builds are
reproducible, so the build time is the time of the commit built (the VCS
stamp), not the clock time of the build.`,
		Example: "  hegui version\n  hegui version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunVersion(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return cmd
}

// RunVersion prints the running binary's build information (see
// cmdutil.Version) on stdout.
func RunVersion(ctx context.Context, env *cmdutil.Env, o VersionOptions) error {
	v := cmdutil.Version()
	if o.JSON {
		return env.PrintJSON(v)
	}
	writeVersion(env.Stdout, v)
	return nil
}

// writeVersion prints v for a person, one item a line.
func writeVersion(w io.Writer, v cmdutil.VersionInfo) {
	fmt.Fprintf(w, "hegui %s\n", v.Version)
	commit := v.Commit
	switch {
	case commit == "":
		commit = "unknown (built without VCS stamping)"
	case v.Modified:
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "  commit:  %s\n", commit)
	if v.BuildTime != "" {
		fmt.Fprintf(w, "  built:   %s (commit time)\n", v.BuildTime)
	}
	fmt.Fprintf(w, "  go:      %s %s\n", v.GoVersion, v.Platform)
	pkcs11 := "not available (built with CGO_ENABLED=0; use hegui-pkcs11)"
	if v.PKCS11 {
		pkcs11 = "available"
	}
	fmt.Fprintf(w, "  pkcs11:  %s\n", pkcs11)
}
