package kitcmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/kit"
)

// VerifyOptions are the choices of `hegui kit verify`.
type VerifyOptions struct {
	Kit   string
	Trust trustFlags
	JSON  bool
}

func newVerifyCmd(env *cmdutil.Env) *cobra.Command {
	var opts VerifyOptions
	cmd := &cobra.Command{
		Use:   "verify KIT (--trust-root CA.pem | --pub KEY)",
		Short: "Check a kit offline: its signatures and every file",
		Long: `Verify reads a kit and checks, with no network:

  signature  manifest.json is the document signed in manifest.dsse.json, by a
             --pub key or by a signer whose certificate chains to a
             --trust-root and allowed code signing when the kit was signed;
             every other signature in it is valid too. Nothing else is read
             before this holds.
  files      every file has the size, SHA-256 and SM3 the manifest lists;
             none is missing, none was added. Every file that differs is named.

Exit status: 0 when the kit verifies, 1 otherwise, 2 for usage errors.`,
		Example: `  hegui kit verify go-env.tar.zst --pub release.pub
  hegui kit verify go-env.tar.zst --trust-root company-root.pem --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kit = args[0]
			return RunVerify(cmd.Context(), env, opts)
		},
	}
	opts.Trust.add(cmd)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print what the kit holds as JSON")
	return cmd
}

// verifyReport is `hegui kit verify --json`'s output.
type verifyReport struct {
	Kit        string            `json:"kit"`
	Verified   bool              `json:"verified"`
	Signed     string            `json:"signed"`
	Trust      string            `json:"trust"`
	Files      int               `json:"files"`
	Bytes      int64             `json:"bytes"`
	Toolchains []kit.Toolchain   `json:"toolchains"`
	Modules    int               `json:"modules"`
	VulnDB     bool              `json:"vulndb"`
	BuildCache bool              `json:"buildCache"`
	Hegui      string            `json:"hegui,omitempty"`
	Env        map[string]string `json:"env"`
}

// RunVerify runs `hegui kit verify`.
func RunVerify(ctx context.Context, env *cmdutil.Env, o VerifyOptions) error {
	anchors, err := o.Trust.load()
	if err != nil {
		return err
	}
	r, err := openKit(o.Kit)()
	if err != nil {
		return err
	}
	defer r.Close()
	v, err := kit.Verify(ctx, r, anchors, nil)
	if err != nil {
		return fmt.Errorf("%s does not verify: %w", o.Kit, err)
	}
	m := v.Manifest
	if o.JSON {
		return env.PrintJSON(verifyReport{
			Kit: o.Kit, Verified: true, Signed: m.Signed.Format("2006-01-02T15:04:05Z"), Trust: v.Trust,
			Files: v.Files, Bytes: v.Bytes, Toolchains: m.Toolchains, Modules: len(m.Modules),
			VulnDB: m.VulnDB, BuildCache: m.BuildCache, Hegui: m.Hegui, Env: m.Env,
		})
	}
	fmt.Fprintf(env.Stdout, "%s verifies: %d files (%s), signed %s\n", o.Kit, v.Files, human.Bytes(v.Bytes), m.Signed.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(env.Stdout, "  signature   %s\n", v.Trust)
	fmt.Fprintf(env.Stdout, "  toolchains  %s\n", describeToolchains(m))
	zips := 0
	for _, md := range m.Modules {
		if md.Zip {
			zips++
		}
	}
	fmt.Fprintf(env.Stdout, "  modules     %d versions (%d with their source), checksum database %s\n", len(m.Modules), zips, m.Env["GOSUMDB"])
	if m.BuildCache {
		fmt.Fprintf(env.Stdout, "  gocache     a build cache (made with -trimpath) for the projects prebuilt\n")
	}
	if m.VulnDB {
		fmt.Fprintf(env.Stdout, "  vulndb      the offline vulnerability database\n")
	}
	if m.Hegui != "" {
		fmt.Fprintf(env.Stdout, "  hegui       %s\n", m.Hegui)
	}
	return nil
}

func describeToolchains(m *kit.Manifest) string {
	if len(m.Toolchains) == 0 {
		return "none"
	}
	var parts []string
	for _, v := range m.Versions() {
		var plats []string
		for _, t := range m.Toolchains {
			if t.Version == v {
				plats = append(plats, t.Platform)
			}
		}
		s := strings.TrimPrefix(v, "go") + " (" + strings.Join(plats, ", ") + ")"
		if v == m.Default {
			s += " default"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// InstallOptions are the choices of `hegui kit install`.
type InstallOptions struct {
	Kit, Dir string
	Trust    trustFlags
	// Platform picks the toolchains to unpack (--platform).
	Platform string
	// ZipsOnly leaves module zips unextracted (--zips-only).
	ZipsOnly bool
}

func newInstallCmd(env *cmdutil.Env) *cobra.Command {
	var opts InstallOptions
	cmd := &cobra.Command{
		Use:   "install KIT DIR (--trust-root CA.pem | --pub KEY)",
		Short: "Verify a kit whole, then unpack it into DIR",
		Long: `Install verifies the whole kit (as hegui kit verify) before it writes
anything, then unpacks it into DIR, which must not exist or be empty: the
module cache (each module zip extracted as the go command extracts it, so
the first build starts at once), the checksum database's data, each
toolchain for this platform unpacked as a GOROOT under DIR/go/, and the
activation scripts. Every file is
checked again as it is written; a kit that changed in between is refused and
what was unpacked removed. No root is needed and nothing outside DIR is
written.

Then, in bash or zsh (activate.fish for fish):

  source DIR/activate            # the kit's newest Go, or: source DIR/activate 1.22.5
  hegui kit use 1.22.5           # switch this shell to another of the kit's Go versions
  deactivate                     # every variable back as it was`,
		Example: `  hegui kit install go-env.tar.zst /opt/go-env --pub release.pub
  source /opt/go-env/activate && go build ./...`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kit, opts.Dir = args[0], args[1]
			return RunInstall(cmd.Context(), env, opts)
		},
	}
	opts.Trust.add(cmd)
	cmd.Flags().StringVar(&opts.Platform, "platform", "", "unpack the toolchains for `GOOS/GOARCH` (default this machine's)")
	cmd.Flags().BoolVar(&opts.ZipsOnly, "zips-only", false, "leave the module zips for the go command to extract when a build first reads them (the install writes less when the kit holds modules that no build here reads)")
	return cmd
}

// RunInstall runs `hegui kit install`.
func RunInstall(ctx context.Context, env *cmdutil.Env, o InstallOptions) error {
	anchors, err := o.Trust.load()
	if err != nil {
		return err
	}
	in, err := kit.Install(ctx, openKit(o.Kit), o.Dir, kit.InstallOptions{Anchors: anchors, Platform: o.Platform, ZipsOnly: o.ZipsOnly, Progress: env.Infof})
	var fe *kit.FileError
	var ue *kit.UntrustedError
	if errors.As(err, &fe) || errors.As(err, &ue) {
		return fmt.Errorf("%s does not verify, nothing was installed: %w", o.Kit, err)
	}
	if err != nil && !strings.Contains(err.Error(), o.Kit) {
		return fmt.Errorf("%s: %w", o.Kit, err)
	}
	if err != nil {
		return err
	}
	extracted := ""
	if in.Extracted > 0 {
		extracted = fmt.Sprintf("; %d modules extracted", in.Extracted)
	}
	env.Infof("installed %s into %s: Go %s%s", o.Kit, in.Dir, strings.Join(trimGo(in.Versions), ", "), extracted)
	fmt.Fprintf(env.Stdout, "source %s\n", shellWord(filepath.Join(in.Dir, kit.ActivateFile)))
	return nil
}

func trimGo(versions []string) []string {
	out := make([]string, len(versions))
	for i, v := range versions {
		out[i] = strings.TrimPrefix(v, "go")
	}
	return out
}

// shellWord quotes s for a shell when it needs quoting.
func shellWord(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// UseOptions are the choices of `hegui kit use`.
type UseOptions struct {
	Version string
	// Dir is the installed kit (--dir; default $HEGUI_KIT).
	Dir string
}

func newUseCmd(env *cmdutil.Env) *cobra.Command {
	var opts UseOptions
	cmd := &cobra.Command{
		Use:   "use VERSION [--dir DIR]",
		Short: "Switch the shell to another of a kit's Go versions",
		Long: `In a shell where a kit is active (source DIR/activate), "hegui kit use
VERSION" switches that shell to the kit's Go VERSION: activate defines a
shell function that does it, since no program can change its parent shell's
environment. Run as a program, use checks that the kit has VERSION and prints
the line that switches, for eval:

  eval "$(hegui kit use 1.22.5 --dir /opt/go-env)"`,
		Example: `  hegui kit use 1.22.5
  eval "$(hegui kit use 1.26.8 --dir /opt/go-env)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Version = args[0]
			return RunUse(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "the installed kit `DIR` (default $HEGUI_KIT, set by activate)")
	return cmd
}

// RunUse runs `hegui kit use` as a program.
func RunUse(ctx context.Context, env *cmdutil.Env, o UseOptions) error {
	dir, err := installedDir(env, o.Dir)
	if err != nil {
		return err
	}
	v, err := kit.NormalizeGoVersion(o.Version)
	if err != nil {
		return cmdutil.Usagef("%v", err)
	}
	have, err := kit.InstalledVersions(dir)
	if err != nil {
		return err
	}
	found := false
	for _, h := range have {
		found = found || h == v
	}
	if !found {
		return fmt.Errorf("the kit in %s has no Go %s (it has %s)", dir, strings.TrimPrefix(v, "go"), strings.Join(trimGo(have), ", "))
	}
	fmt.Fprintf(env.Stdout, ". %s %s\n", shellWord(filepath.Join(dir, kit.ActivateFile)), v)
	return nil
}

// installedDir is the installed kit a command works on: --dir, else the
// active one ($HEGUI_KIT, which activate sets).
func installedDir(env *cmdutil.Env, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if dir := env.Getenv("HEGUI_KIT"); dir != "" {
		return dir, nil
	}
	return "", cmdutil.Usagef("no kit is active: give --dir DIR (where hegui kit install put it) or source DIR/activate first")
}
