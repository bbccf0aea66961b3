package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/sarif"
)

// Formats are what Rerender writes.
var Formats = []string{"html", "json", "md", "sarif"}

// Rerender reads the report of the delivery d again and writes it in
// outFormat (one of Formats), deciding the compliance matrix anew with
// cats, with the operator's evidence beside the operator parts that accept
// it. sarif is the delivery's vulnerability and static-analysis logs as
// one SARIF log.
func Rerender(ctx context.Context, d *format.DeliveryReader, cats []*compliance.Catalog, operator []format.OperatorEvidence, outFormat string) ([]byte, error) {
	if outFormat == "sarif" {
		if len(operator) > 0 {
			return nil, errors.New("the SARIF logs are the delivery's own: operator evidence goes into the html, json, md and oscal formats")
		}
		return mergedSARIF(ctx, d)
	}
	r, err := Reread(ctx, d, cats, operator)
	if err != nil {
		return nil, err
	}
	switch outFormat {
	case "json":
		out, err := json.MarshalIndent(r, "", "  ")
		return append(out, '\n'), err
	case "md":
		return Markdown(r), nil
	case "html":
		return HTML(r)
	}
	return nil, fmt.Errorf("format %q: want html, json, md or sarif", outFormat)
}

// Reread reads the report of the delivery d (checked against its
// manifest and the report schema) and decides its compliance matrix anew
// with cats, citing the files with the manifest's digests, and showing the
// operator's evidence beside the operator parts that accept it.
func Reread(ctx context.Context, d *format.DeliveryReader, cats []*compliance.Catalog, operator []format.OperatorEvidence) (*format.Report, error) {
	data, err := d.Read(ctx, format.ReportJSONFile)
	if err != nil {
		return nil, err
	}
	r, err := format.ReadReport(data)
	if err != nil {
		return nil, err
	}
	// A report.json written by hegui report --format json may carry
	// evidence an operator attached then; a delivery's never does, and
	// only what is attached now is shown.
	r.OperatorEvidence = operator
	r.Compliance = compliance.Evaluate(cats, Evidence(r, d.Digest))
	return r, nil
}

func mergedSARIF(ctx context.Context, d *format.DeliveryReader) ([]byte, error) {
	var logs [][]byte
	for _, name := range []string{format.VulnsSARIFFile, format.SASTSARIFFile} {
		if d.Digest(name) == "" {
			continue
		}
		data, err := d.Read(ctx, name)
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
