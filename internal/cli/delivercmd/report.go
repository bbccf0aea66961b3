package delivercmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/deliver/report"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/opevidence"
	"hegui.dev/hegui/internal/oscal"
)

// reportOptions are the choices of `hegui report`.
type reportOptions struct {
	Delivery   string   // the delivery directory
	Frameworks []string // ids or aliases; none means all
	Format     string   // one of reportFormats
	Output     string   // "" for standard output; the directory for oscal
	Evidence   []string // operator evidence files (hegui tlscheck --json)
}

// reportFormats are the formats of hegui report: report.Rerender's, and
// oscal, a directory of OSCAL documents.
var reportFormats = slices.Concat(report.Formats, []string{"oscal"})

// NewReportCmd makes `hegui report`.
func NewReportCmd(env *cmdutil.Env) *cobra.Command {
	var opts reportOptions
	cmd := &cobra.Command{
		Use:   "report DELIVERY",
		Short: "Render a delivery's report again: compliance matrix, HTML, JSON, Markdown, SARIF or OSCAL",
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
for merge requests and tickets), sarif (the vulnerability and
static-analysis logs as one SARIF 2.1.0 log) and oscal (OSCAL 1.1.3
documents, for compliance tools, written into the directory -o names):

  component-definition.json  the delivered software as a component: for each
                             framework, the vendor part of every control with
                             its implementation-status, and the operator part
                             as the operator's responsibility
  assessment-results.json    the vendor's evidence (not an assessment of the
                             operator's system): an observation per evidence
                             rule citing its files with SHA-256 and SM3, a
                             finding per control
  catalogs/ID.json           hegui's catalogs in OSCAL (SSDF points at NIST's)

The OSCAL documents are deterministic: rendering the same delivery again
gives the same bytes. Report does not verify the signatures; run "hegui
verify" for that.

The operator can attach evidence about the deployed system with --evidence:
documents written by "hegui tlscheck HOST:PORT --json", one per endpoint.
Report judges each by the gbt22239-l3 TLS profile from what the check saw,
as of the check (not from the verdict the file carries), lists it with its
SHA-256 and SM3, and shows it beside the operator part of the 等保 controls
about data in transit (8.1.2.2 a and b, 8.1.4.1 c, 8.1.4.7 a, 8.1.4.8 a).
The operator part stays to complete: an endpoint check does not list the
channels a control is about.`,
		Example: `  hegui report dist/app_v1.2.3 --framework 等保 --framework 密评 -o dengbao.html
  hegui report dist/app_v1.2.3 --format md > REPORT.md
  hegui report dist/app_v1.2.3 --format sarif -o app.sarif
  hegui report dist/app_v1.2.3 --format oscal -o oscal/
  hegui report dist/app_v1.2.3 --format oscal --framework 等保 --framework 密评 -o oscal-dengbao/
  hegui tlscheck api.internal:443 --json > tls-api.json
  hegui report dist/app_v1.2.3 --framework 等保 --evidence tls-api.json -o dengbao.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Delivery = args[0]
			return runReport(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Frameworks, "framework", nil, "framework `ID` or alias to include (repeatable; default: all)")
	cmd.Flags().StringVar(&opts.Format, "format", "html", "html, json, md, sarif or oscal")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to `FILE` (default: standard output); for oscal, the directory")
	cmd.Flags().StringArrayVar(&opts.Evidence, "evidence", nil, "attach the operator's evidence `FILE` (hegui tlscheck --json; repeatable)")
	return cmd
}

// runReport renders the delivery's report again.
func runReport(ctx context.Context, env *cmdutil.Env, opts reportOptions) error {
	if !slices.Contains(reportFormats, opts.Format) {
		return cmdutil.Usagef("--format %q: want %s", opts.Format, strings.Join(reportFormats, ", "))
	}
	if opts.Format == "oscal" && (opts.Output == "" || opts.Output == "-") {
		return cmdutil.Usagef("--format oscal writes several documents: name their directory with -o DIR")
	}
	if opts.Format == "sarif" && len(opts.Evidence) > 0 {
		return cmdutil.Usagef("--evidence goes into the html, json, md and oscal formats; sarif holds the delivery's own logs")
	}
	cats, err := compliance.Catalogs()
	if err != nil {
		return err
	}
	if cats, err = compliance.Select(cats, opts.Frameworks); err != nil {
		return cmdutil.UsageError{Err: err}
	}
	operator, err := readEvidence(ctx, opts.Evidence)
	if err != nil {
		return err
	}
	d, err := format.OpenDelivery(ctx, opts.Delivery)
	if err != nil {
		return err
	}
	defer d.Close()
	if opts.Format == "oscal" {
		return writeOSCAL(ctx, env, d, cats, operator, opts.Output)
	}
	data, err := report.Rerender(ctx, d, cats, operator, opts.Format)
	if err != nil {
		return err
	}
	return env.Emit(opts.Output, data)
}

// writeOSCAL writes the delivery's OSCAL documents into dir, replacing
// those a previous run wrote, and lists them on standard output: the
// command's result, for a script to pass on.
func writeOSCAL(ctx context.Context, env *cmdutil.Env, d *format.DeliveryReader, cats []*compliance.Catalog, operator []format.OperatorEvidence, dir string) error {
	r, err := report.Reread(ctx, d, cats, operator)
	if err != nil {
		return err
	}
	files, err := oscal.Render(oscal.Input{Report: r, Manifest: d.Manifest, ManifestEntry: d.ManifestEntry, Catalogs: cats})
	if err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := cmdutil.WriteOutput(path, f.Data, 0o644, true); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, path)
	}
	return nil
}

// readEvidence reads and judges the operator's evidence files, in the
// order given; the same document given twice is shown once.
func readEvidence(ctx context.Context, files []string) ([]format.OperatorEvidence, error) {
	var out []format.OperatorEvidence
	seen := map[string]bool{}
	for _, f := range files {
		e, err := opevidence.Read(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("operator evidence: %w", err)
		}
		if !seen[e.SHA256] {
			seen[e.SHA256] = true
			out = append(out, e)
		}
	}
	return out, nil
}
