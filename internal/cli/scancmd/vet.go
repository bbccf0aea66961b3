package scancmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/sast"
)

func NewVetCmd(env *cmdutil.Env) *cobra.Command {
	var outFormat, output, target, analyzers, failOn string
	var tags, exclude []string
	var tests bool
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
			if !cmdutil.OneOf(outFormat, "text", "json", "sarif") {
				return cmdutil.Usagef("--format %q: want text, json or sarif", outFormat)
			}
			if !cmdutil.OneOf(analyzers, "all", "vet", "security") {
				return cmdutil.Usagef("--analyzers %q: want all, vet or security", analyzers)
			}
			if !cmdutil.OneOf(failOn, "low", "medium", "high", "none") {
				return cmdutil.Usagef("--fail-on %q: want low, medium, high or none", failOn)
			}
			dir, pkgs := splitDirArgs(args)
			g, mod, err := cmdutil.ModuleIn(cmd.Context(), dir, target)
			if err != nil {
				return err
			}
			req := &sast.Request{Dir: mod.Dir, Env: g.Env, Tags: tags, Tests: tests, Analyzers: analyzers, Exclude: exclude}
			for _, p := range pkgs {
				req.Patterns = append(req.Patterns, packagePattern(dir, mod.Dir, p))
			}
			if !env.Quiet {
				req.Progress = func(f string, a ...any) { env.Infof("  "+f, a...) }
			}
			doc, err := sast.Analyze(cmd.Context(), req)
			if err != nil {
				return err
			}
			for _, e := range doc.Errors {
				env.Infof("warning: %s", e)
			}
			var data []byte
			switch outFormat {
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
			if err := env.Emit(output, data); err != nil {
				return err
			}
			if failOn == "none" {
				return nil
			}
			n := 0
			for _, f := range doc.Findings {
				if f.Suppression == nil && format.SASTSeverityRank(f.Severity) >= format.SASTSeverityRank(failOn) {
					n++
				}
			}
			if n > 0 {
				return fmt.Errorf("%d unsuppressed findings of severity %s or more", n, failOn)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&outFormat, "format", "text", "output: text, json or sarif")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the output to `FILE` (default: standard output)")
	cmd.Flags().StringVar(&target, "target", "", "analyse the files built for `GOOS/GOARCH` (default: this machine's)")
	cmd.Flags().StringVar(&analyzers, "analyzers", "all", "all, vet (go vet's analyzers) or security (gosec)")
	cmd.Flags().StringSliceVar(&exclude, "exclude", nil, "rules not to run: gosec ids (G104) or vet analyzer names (printf)")
	cmd.Flags().StringVar(&failOn, "fail-on", "low", "exit 1 when an unsuppressed finding has this severity or more: low, medium, high, none")
	cmd.Flags().StringSliceVar(&tags, "tags", nil, "build `TAGS`")
	cmd.Flags().BoolVar(&tests, "tests", false, "include test files")
	return cmd
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
