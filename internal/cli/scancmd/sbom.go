// Package scancmd is `hegui sbom`, `licenses`, `vuln`, `vulndb` and `vet`:
// the scans of a delivery run on their own (packages sbom, license, vuln,
// vulndb and sast do the work).
package scancmd

import (
	"context"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/build"
	"hegui.dev/hegui/internal/deliver/license"
	"hegui.dev/hegui/internal/deliver/sbom"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/vcs"
)

// SBOMOptions are the choices of `hegui sbom`.
type SBOMOptions struct {
	Args   []string // a module directory or a binary
	Format string   // spdx or cyclonedx
	Output string   // "" for standard output
	Target string   // for a module: GOOS/GOARCH
	Main   string   // for a module: the main package
	Tags   []string // for a module: build tags
}

// NewSBOMCmd makes `hegui sbom`.
func NewSBOMCmd(env *cmdutil.Env) *cobra.Command {
	var opts SBOMOptions
	cmd := &cobra.Command{
		Use:   "sbom BINARY|DIR",
		Short: "Write an SPDX 2.3 or CycloneDX 1.6 SBOM for a Go binary or module",
		Long: `Sbom describes what a Go binary links: the modules in its build information,
with purls, go.sum hashes, replacements and licences (read from the module
cache, offline), the standard library, and the binary's SHA-256 and SM3. It
works on binaries built elsewhere.

For a module directory it lists the modules the main package would link for
--target (default: this machine's), from "go list -deps" and go.sum, with the
module graph's dependency relationships.`,
		Example: `  hegui sbom ./app > app.spdx.json
  hegui sbom --format cyclonedx -o app.cdx.json /usr/local/bin/app
  hegui sbom . --target linux/arm64 --main ./cmd/server`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			return RunSBOM(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "spdx", "spdx (SPDX 2.3 JSON) or cyclonedx (CycloneDX 1.6 JSON)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to `FILE` instead of standard output")
	cmd.Flags().StringVar(&opts.Target, "target", "", "for a module: GOOS/GOARCH to resolve the build for (default: this machine)")
	cmd.Flags().StringVar(&opts.Main, "main", "", "for a module: the main package (default: the one hegui deliver builds)")
	cmd.Flags().StringSliceVar(&opts.Tags, "tags", nil, "for a module: build tags")
	return cmd
}

// RunSBOM writes the SBOM of a module's main package or of a binary.
func RunSBOM(ctx context.Context, env *cmdutil.Env, o SBOMOptions) error {
	write := sbom.SPDX
	switch strings.ToLower(o.Format) {
	case "spdx", "spdx-json":
	case "cyclonedx", "cdx", "cyclonedx-json":
		write = sbom.CycloneDX
	default:
		return cmdutil.Usagef("--format %q: want spdx or cyclonedx", o.Format)
	}
	fi, err := os.Stat(o.Args[0])
	if err != nil {
		return err
	}
	var in sbom.Input
	if fi.IsDir() {
		in, err = sourceInput(ctx, o.Args[0], o.Target, o.Main, o.Tags)
	} else {
		if o.Target != "" || o.Main != "" || len(o.Tags) > 0 {
			return cmdutil.Usagef("--target, --main and --tags apply to a module directory, not a binary")
		}
		in, err = binaryInput(ctx, o.Args[0])
	}
	if err != nil {
		return err
	}
	in.Tool = "hegui-" + cmdutil.Version().Version
	data, err := write(in)
	if err != nil {
		return err
	}
	return env.Emit(o.Output, data)
}

// binaryInput describes a binary from its embedded build information. The
// binary must be a regular file: a named pipe or a device is refused
// before anything is read from it.
func binaryInput(ctx context.Context, path string) (sbom.Input, error) {
	f, fi, err := inputfile.Open(path)
	if err != nil {
		return sbom.Input{}, err
	}
	defer f.Close()
	info, err := buildinfo.Read(f)
	if err != nil {
		return sbom.Input{}, fmt.Errorf("%s: not a Go binary with build information: %w", path, err)
	}
	sums, _, err := digest.Sum(ctx, io.NewSectionReader(f, 0, fi.Size()), digest.SHA256, digest.SM3)
	if err != nil {
		return sbom.Input{}, err
	}
	in := sbom.Input{File: filepath.Base(path), SHA256: hex.EncodeToString(sums[0]), SM3: hex.EncodeToString(sums[1]), Info: info, Version: info.Main.Version, Created: time.Now().UTC()}
	for _, s := range info.Settings {
		switch s.Key {
		case "GOOS":
			in.Target = s.Value + in.Target
		case "GOARCH":
			in.Target += "/" + s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				in.Created = t
			}
		}
	}
	wd, _ := os.Getwd()
	g := gotool.Go{Dir: wd}
	mods, err := license.ModulesOf(ctx, g, info)
	if err != nil {
		return in, err
	}
	in.Licenses, err = licenseMap(ctx, g, wd, mods, nil)
	return in, err
}

// sourceInput describes what a module's main package links for a target.
// One go list gives the module, its main packages and what the main package
// links, and one go env what the build information and the standard
// library's licence need (see docs/PERFORMANCE.md).
func sourceInput(ctx context.Context, dir, target, mainPkg string, tags []string) (sbom.Input, error) {
	g, err := cmdutil.GoFor(dir, target)
	if err != nil {
		return sbom.Input{}, err
	}
	// Without --main, the main package is chosen among the module's
	// programs as hegui deliver chooses it: from go list ./... without tags.
	patterns, listTags := []string{mainPkg}, tags
	if mainPkg == "" {
		patterns, listTags = []string{"./..."}, nil
	}
	listing, err := g.ListModule(ctx, patterns, listTags)
	if err != nil {
		return sbom.Input{}, err
	}
	g, mod := listing.Go, listing.Module
	if mainPkg == "" {
		if mainPkg, err = defaultMain(ctx, listing); err != nil {
			return sbom.Input{}, err
		}
	}
	version, created := "(devel)", time.Now().UTC()
	if info, err := vcs.Read(ctx, mod.Dir); err == nil {
		version, created = info.PseudoVersion(), info.CommitTime
		if info.Tag != "" && !info.Dirty {
			version = info.Tag
		}
	} else if !errors.Is(err, vcs.ErrNotRepository) {
		return sbom.Input{}, err
	}
	mods, pkgs, err := listing.Linked(ctx, mainPkg, tags)
	if err != nil {
		return sbom.Input{}, err
	}
	// The build information needs GOVERSION, the standard library's
	// licence GOROOT and GOVERSION: one go env for both.
	if g, err = g.ReadEnvVars(ctx, "GOROOT", "GOVERSION"); err != nil {
		return sbom.Input{}, err
	}
	info, err := sbom.FromSource(ctx, g, mainPkg, mods, version)
	if err != nil {
		return sbom.Input{}, err
	}
	graph, err := g.ModGraph(ctx)
	if err != nil {
		return sbom.Input{}, err
	}
	lic, err := licenseMap(ctx, g, mod.Dir, mods, pkgs)
	if err != nil {
		return sbom.Input{}, err
	}
	return sbom.Input{Version: version, Info: info, Graph: graph, Licenses: lic, Created: created, Target: target}, nil
}

// defaultMain is the main package hegui deliver builds when hegui.yaml names
// none (build.Builds), from the listing's programs: "." when the module
// root is one, else the one under cmd/, else the only one.
func defaultMain(ctx context.Context, listing *gotool.ModuleListing) (string, error) {
	mains, err := build.Mains(ctx, listing, listing.Module.Dir)
	if err != nil {
		return "", err
	}
	switch len(mains) {
	case 0:
		return "", fmt.Errorf("module %s has no main package to build; name one in hegui.yaml (builds: - main: ./cmd/app)", listing.Module.Path)
	case 1:
		return mains[0], nil
	}
	return "", cmdutil.Usagef("the module has several main packages (%s); choose one with --main", strings.Join(mains, ", "))
}

// licenseMap is license.ModulesLinked by module path; pkgs may be nil when
// the packages linked are not known (a binary's build information).
func licenseMap(ctx context.Context, g gotool.Go, moduleDir string, mods []gotool.Module, pkgs []string) (map[string]*format.ModuleLicense, error) {
	results, err := license.ModulesLinked(ctx, g, moduleDir, mods, pkgs)
	if err != nil {
		return nil, err
	}
	m := map[string]*format.ModuleLicense{}
	for _, r := range results {
		m[r.Module] = r
	}
	return m, nil
}

// LicensesOptions are the choices of `hegui licenses`.
type LicensesOptions struct {
	Args   []string // [DIR]
	Target string   // GOOS/GOARCH whose files decide the imports
	Tags   []string
	Check  bool   // apply the licence policy of hegui.yaml
	Config string // hegui.yaml for Check
	JSON   bool
}

// NewLicensesCmd makes `hegui licenses`.
func NewLicensesCmd(env *cmdutil.Env) *cobra.Command {
	var opts LicensesOptions
	cmd := &cobra.Command{
		Use:   "licenses [DIR]",
		Short: "List the licences of the modules a Go module links",
		Long: `Licenses finds the licence files of every module linked into any package of
the module in DIR (for --target, default this machine), from the module cache
or vendor directory, without network access, and classifies them with
google/licensecheck. It reports the declared licences (per file, with how much
of the text matched), the concluded licence, NOTICE files and unrecognised
licence texts. --check applies the licence policy of hegui.yaml and exits 1
on a violation.`,
		Example: `  hegui licenses
  hegui licenses ./service --json | jq '.[] | select(.concluded == "NOASSERTION")'
  hegui licenses --check`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			return RunLicenses(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Target, "target", "", "GOOS/GOARCH whose files decide the imports (default: this machine)")
	cmd.Flags().StringSliceVar(&opts.Tags, "tags", nil, "build tags")
	cmd.Flags().BoolVar(&opts.Check, "check", false, "apply the licence policy of hegui.yaml; exit 1 on a violation")
	cmd.Flags().StringVar(&opts.Config, "config", "", "configuration `FILE` for --check (default: hegui.yaml in the module root)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the findings as JSON")
	return cmd
}

// RunLicenses lists the licences of the modules linked into the module's
// packages (./...); with Check, an error on a policy violation.
func RunLicenses(ctx context.Context, env *cmdutil.Env, o LicensesOptions) error {
	g, err := cmdutil.GoFor(cmdutil.DirArg(o.Args), o.Target)
	if err != nil {
		return err
	}
	listing, err := g.ListModule(ctx, []string{"./..."}, o.Tags)
	if err != nil {
		return err
	}
	g, mod := listing.Go, listing.Module
	mods, pkgs, err := listing.Linked(ctx, "./...", o.Tags)
	if err != nil {
		return err
	}
	results, err := license.ModulesLinked(ctx, g, mod.Dir, mods, pkgs)
	if err != nil {
		return err
	}
	var violations []format.Violation
	if o.Check {
		cfg, _, err := config.Find(mod.Dir, o.Config)
		if err != nil {
			return err
		}
		violations = license.Evaluate(cfg.Policy.Licenses, results)
	}
	if o.JSON {
		if err := env.PrintJSON(results); err != nil {
			return err
		}
	} else {
		printLicenses(env, results, violations)
	}
	if len(violations) > 0 {
		return fmt.Errorf("%d module(s) break the licence policy, starting with %s", len(violations), violations[0].Subject)
	}
	return nil
}

func printLicenses(env *cmdutil.Env, results []*format.ModuleLicense, violations []format.Violation) {
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "MODULE\tVERSION\tLICENCE\tEVIDENCE\tNOTICES")
	for _, r := range results {
		var evidence []string
		for _, m := range r.Declared {
			evidence = append(evidence, fmt.Sprintf("%s %s (%.0f%%)", m.File, m.ID, m.Confidence))
		}
		for _, u := range r.Unknown {
			evidence = append(evidence, u+" unrecognised")
		}
		if len(evidence) == 0 {
			evidence = []string{"no licence file (" + r.Source + ")"}
		}
		notices := strings.Join(r.Notices, ", ")
		if notices == "" {
			notices = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Module, r.Version, r.Concluded, strings.Join(evidence, "; "), notices)
	}
	w.Flush()
	for _, v := range violations {
		fmt.Fprintf(env.Stdout, "POLICY: %s; %s\n", v.Message, v.Remedy)
	}
}
