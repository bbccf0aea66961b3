package scancmd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/sast"
)

// VetOptions are the choices of `hegui vet`.
type VetOptions struct {
	Args      []string // [DIR] [PACKAGES...]
	Format    string   // text, json or sarif
	Output    string   // "" for standard output
	Target    string   // GOOS/GOARCH, "" for this machine
	Analyzers string   // all, vet or security
	FailOn    string   // low, medium, high or none
	Tags      []string
	Exclude   []string
	Tests     bool
}

// NewVetCmd makes `hegui vet`.
func NewVetCmd(env *cmdutil.Env) *cobra.Command {
	var opts VetOptions
	cmd := &cobra.Command{
		Use:   "vet [DIR] [PACKAGES...]",
		Short: "Run go vet's analyzers and gosec's security rules, with CWE ids",
		Long: `Vet analyses a Go module (default: the current directory, PACKAGES default
./...) with go vet's analyzers and gosec's security rules and analyzers, in
one process over one load of the packages. Findings carry CWE ids where a
weakness fits.

Suppressions Go developers already write are honoured and reported, with
their reason, instead of being dropped:
  x := md5.Sum(b) // #nosec G401 -- checksum for a legacy protocol
  //nolint:gosec // the path comes from the operator's configuration

Output: a list (default), or --format json (sast.json) or sarif (SARIF
2.1.0). Exit status 1 when an unsuppressed finding reaches --fail-on
(default low: any finding).`,
		Example: `  hegui vet
  hegui vet ./service ./internal/... --format sarif -o sast.sarif
  hegui vet --analyzers security --exclude G104 --fail-on high`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			return RunVet(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output: text, json or sarif")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the output to `FILE` (default: standard output)")
	cmd.Flags().StringVar(&opts.Target, "target", "", "analyse the files built for `GOOS/GOARCH` (default: this machine's)")
	cmd.Flags().StringVar(&opts.Analyzers, "analyzers", "all", "all, vet (go vet's analyzers) or security (gosec)")
	cmd.Flags().StringSliceVar(&opts.Exclude, "exclude", nil, "rules not to run: gosec ids (G104) or vet analyzer names (printf)")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", "low", "exit 1 when an unsuppressed finding has this severity or more: low, medium, high, none")
	cmd.Flags().StringSliceVar(&opts.Tags, "tags", nil, "build `TAGS`")
	cmd.Flags().BoolVar(&opts.Tests, "tests", false, "include test files")
	return cmd
}

// RunVet analyses the module and prints or writes the findings; an error
// when an unsuppressed finding reaches FailOn.
func RunVet(ctx context.Context, env *cmdutil.Env, o VetOptions) error {
	if !cmdutil.OneOf(o.Format, "text", "json", "sarif") {
		return cmdutil.Usagef("--format %q: want text, json or sarif", o.Format)
	}
	if !cmdutil.OneOf(o.Analyzers, "all", "vet", "security") {
		return cmdutil.Usagef("--analyzers %q: want all, vet or security", o.Analyzers)
	}
	if !cmdutil.OneOf(o.FailOn, "low", "medium", "high", "none") {
		return cmdutil.Usagef("--fail-on %q: want low, medium, high or none", o.FailOn)
	}
	dir, pkgs := splitDirArgs(o.Args)
	g, mod, err := cmdutil.ModuleIn(ctx, dir, o.Target)
	if err != nil {
		return err
	}
	req := &sast.Request{Dir: mod.Dir, Env: g.Env, Tags: o.Tags, Tests: o.Tests, Analyzers: o.Analyzers, Exclude: o.Exclude}
	for _, p := range pkgs {
		req.Patterns = append(req.Patterns, packagePattern(dir, mod.Dir, p))
	}
	if !env.Quiet {
		req.Progress = func(f string, a ...any) { env.Infof("  "+f, a...) }
	}
	doc, err := sast.Analyze(ctx, req)
	if err != nil {
		return err
	}
	for _, e := range doc.Errors {
		env.Infof("warning: %s", e)
	}
	var data []byte
	switch o.Format {
	case "json":
		data, err = doc.JSON()
	case "sarif":
		data, err = sast.SARIF(doc, cmdutil.Version().Version)
	default:
		var b strings.Builder
		writeVetText(&b, doc)
		data = []byte(b.String())
	}
	if err != nil {
		return err
	}
	if err := env.Emit(o.Output, data); err != nil {
		return err
	}
	if o.FailOn == "none" {
		return nil
	}
	n := 0
	for _, f := range doc.Findings {
		if f.Suppression == nil && format.SASTSeverityRank(f.Severity) >= format.SASTSeverityRank(o.FailOn) {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%d unsuppressed findings of severity %s or more", n, o.FailOn)
	}
	return nil
}

// writeVetText lists findings, unsuppressed first, most severe first.
func writeVetText(w io.Writer, doc *format.SASTDocument) {
	fmt.Fprintf(w, "%d packages, %d files: %d findings, %d suppressed.\n", doc.Packages, doc.Files, doc.Summary.Total, doc.Summary.Suppressed)
	for _, f := range doc.Findings {
		cwe := ""
		if f.CWE != 0 {
			cwe = fmt.Sprintf(" CWE-%d", f.CWE)
		}
		fmt.Fprintf(w, "%s: [%s %s%s, %s] %s\n", f.Where(), f.Tool, f.Rule, cwe, f.Severity, f.Message)
		if s := f.Suppression; s != nil {
			reason := s.Justification
			if reason == "" {
				reason = "no reason given"
			}
			fmt.Fprintf(w, "    suppressed by %s: %s\n", s.Directive, reason)
		}
	}
}
