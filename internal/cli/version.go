package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/pkcs11key"
)

// versionInfo is what the binary knows about itself from its build info.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	BuildTime string `json:"buildTime,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	CGO       bool   `json:"cgo"`
	PKCS11    bool   `json:"pkcs11"`
}

func readVersion() versionInfo {
	v := versionInfo{Version: "(unknown)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, PKCS11: pkcs11key.Available}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Version = info.Main.Version
	v.GoVersion = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.BuildTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "CGO_ENABLED":
			v.CGO = s.Value == "1"
		}
	}
	return v
}

func newVersionCmd(env *Env) *cobra.Command {
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
			v := readVersion()
			if asJSON {
				return env.printJSON(v)
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
