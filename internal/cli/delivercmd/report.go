package delivercmd

import (
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/deliver/report"
	"hegui.dev/hegui/internal/format"
)

// reportOptions are the choices of `hegui report`.
type reportOptions struct {
	Delivery   string   // the delivery directory
	Frameworks []string // ids or aliases; none means all
	Format     string   // one of report.Formats
	Output     string   // "" for standard output
}

// NewReportCmd makes `hegui report`.
func NewReportCmd(env *cmdutil.Env) *cobra.Command {
	var opts reportOptions
	cmd := &cobra.Command{
		Use:   "report DELIVERY",
		Short: "Render a delivery's report again: compliance matrix, HTML, JSON, Markdown or SARIF",
		Long: `Report reads a delivery's report.json (after checking it against the
delivery's manifest.json) and renders it again, deciding the compliance
matrix anew with this hegui's catalogs for the frameworks you choose:

  gbt22239-2019-l3  (等保, dengbao)  GB/T 22239-2019 level 3
  gbt39786-2021-l3  (密评, miping)   GB/T 39786-2021 level 3
  nist-ssdf-1.1     (ssdf)           NIST SP 800-218
  slsa-1.0-build    (slsa)           SLSA v1.0 build track
  gdpr                               EU GDPR
  pipl              (个保法)          PIPL

Formats: html (the self-contained page), json (report.json), md (Markdown,
for merge requests and tickets) and sarif (the vulnerability and
static-analysis logs as one SARIF 2.1.0 log). It does not verify the
signatures; run "hegui verify" for that.`,
		Example: `  hegui report dist/app_v1.2.3 --framework 等保 --framework 密评 -o dengbao.html
  hegui report dist/app_v1.2.3 --format md > REPORT.md
  hegui report dist/app_v1.2.3 --format sarif -o app.sarif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Delivery = args[0]
			return runReport(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Frameworks, "framework", nil, "framework `ID` or alias to include (repeatable; default: all)")
	cmd.Flags().StringVar(&opts.Format, "format", "html", "html, json, md or sarif")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to `FILE` (default: standard output)")
	return cmd
}

// runReport renders the delivery's report again.
func runReport(ctx context.Context, env *cmdutil.Env, opts reportOptions) error {
	if !slices.Contains(report.Formats, opts.Format) {
		return cmdutil.Usagef("--format %q: want %s", opts.Format, strings.Join(report.Formats, ", "))
	}
	cats, err := compliance.Catalogs()
	if err != nil {
		return err
	}
	if cats, err = compliance.Select(cats, opts.Frameworks); err != nil {
		return cmdutil.UsageError{Err: err}
	}
	d, err := format.OpenDelivery(ctx, opts.Delivery)
	if err != nil {
		return err
	}
	defer d.Close()
	data, err := report.Rerender(ctx, d, cats, opts.Format)
	if err != nil {
		return err
	}
	return env.Emit(opts.Output, data)
}
