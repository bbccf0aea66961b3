package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/deliver/report"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/sarif"
)

func newReportCmd(env *Env) *cobra.Command {
	var frameworks []string
	var outFormat, output string
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
			if !oneOf(outFormat, "html", "json", "md", "sarif") {
				return usagef("--format %q: want html, json, md or sarif", outFormat)
			}
			cats, err := compliance.Catalogs()
			if err != nil {
				return err
			}
			if cats, err = compliance.Select(cats, frameworks); err != nil {
				return usageError{err}
			}
			dir, err := inputfile.OpenDir(args[0])
			if err != nil {
				return err
			}
			defer dir.Close()
			ctx := cmd.Context()
			digests, err := deliveryDigests(ctx, dir)
			if err != nil {
				return err
			}
			var data []byte
			if outFormat == "sarif" {
				data, err = mergedSARIF(ctx, dir, digests)
			} else {
				data, err = rerender(ctx, dir, digests, cats, outFormat)
			}
			if err != nil {
				return err
			}
			return env.emit(output, data)
		},
	}
	cmd.Flags().StringSliceVar(&frameworks, "framework", nil, "framework `ID` or alias to include (repeatable; default: all)")
	cmd.Flags().StringVar(&outFormat, "format", "html", "html, json, md or sarif")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` (default: standard output)")
	return cmd
}

// deliveryDigests reads manifest.json: path → "sha256:HEX". The delivery
// came from elsewhere, so its files are read as inputfile.Dir reads them.
func deliveryDigests(ctx context.Context, dir *inputfile.Dir) (map[string]string, error) {
	data, err := dir.Read(ctx, format.ManifestFile, inputfile.DocumentLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a delivery: it has no %s", dir.Name(), format.ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	m, err := format.ParseManifest(data)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range m.Files {
		out[f.Path] = "sha256:" + f.SHA256
	}
	return out, nil
}

// readListed reads a file of the delivery, refusing one whose digest is
// not the manifest's.
func readListed(ctx context.Context, dir *inputfile.Dir, name string, digests map[string]string) ([]byte, error) {
	want, ok := digests[name]
	if !ok {
		return nil, fmt.Errorf("%s: the delivery's manifest does not list it", name)
	}
	data, err := dir.Read(ctx, name, inputfile.DocumentLimit)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if "sha256:"+hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("%s does not match the delivery's manifest: the delivery was altered (run hegui verify)", name)
	}
	return data, nil
}

func rerender(ctx context.Context, dir *inputfile.Dir, digests map[string]string, cats []*compliance.Catalog, outFormat string) ([]byte, error) {
	data, err := readListed(ctx, dir, format.ReportJSONFile, digests)
	if err != nil {
		return nil, err
	}
	r, err := format.ReadReport(data)
	if err != nil {
		return nil, err
	}
	r.Compliance = compliance.Evaluate(cats, report.Evidence(r, func(p string) string { return digests[p] }))
	switch outFormat {
	case "json":
		out, err := json.MarshalIndent(r, "", "  ")
		return append(out, '\n'), err
	case "md":
		return report.Markdown(r), nil
	}
	return report.HTML(r)
}

func mergedSARIF(ctx context.Context, dir *inputfile.Dir, digests map[string]string) ([]byte, error) {
	var logs [][]byte
	for _, name := range []string{format.VulnsSARIFFile, format.SASTSARIFFile} {
		if _, listed := digests[name]; !listed {
			continue
		}
		data, err := readListed(ctx, dir, name, digests)
		if err != nil {
			return nil, err
		}
		logs = append(logs, data)
	}
	if len(logs) == 0 {
		return nil, errors.New("the delivery has no SARIF logs (no vulnerability scan and no static analysis)")
	}
	return sarif.Merge(logs...)
}
