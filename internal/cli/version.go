package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
)

func newVersionCmd(env *cmdutil.Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print hegui's version, commit, build time and Go version",
		Long: `Version reads the binary's own build information. hegui builds are
reproducible, so the build time is the time of the commit built (the VCS
stamp), not the clock time of the build.`,
		Example: "  hegui version\n  hegui version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := cmdutil.Version()
			if asJSON {
				return env.PrintJSON(v)
			}
			fmt.Fprintf(env.Stdout, "hegui %s\n", v.Version)
			commit := v.Commit
			switch {
			case commit == "":
				commit = "unknown (built without VCS stamping)"
			case v.Modified:
				commit += " (with uncommitted changes)"
			}
			fmt.Fprintf(env.Stdout, "  commit:  %s\n", commit)
			if v.BuildTime != "" {
				fmt.Fprintf(env.Stdout, "  built:   %s (commit time)\n", v.BuildTime)
			}
			fmt.Fprintf(env.Stdout, "  go:      %s %s\n", v.GoVersion, v.Platform)
			pkcs11 := "not available (built with CGO_ENABLED=0; use hegui-pkcs11)"
			if v.PKCS11 {
				pkcs11 = "available"
			}
			fmt.Fprintf(env.Stdout, "  pkcs11:  %s\n", pkcs11)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
