package report

import (
	"encoding/json"
	"testing"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/format"
)

// FuzzRender feeds report.json-shaped input to what "hegui report" does
// with a delivery's report.json: read it (schema check included), evaluate
// the compliance matrix, render HTML and Markdown. Any input must give
// output or an error, never a panic.
func FuzzRender(f *testing.F) {
	r := sample()
	normalize(r)
	seed, _ := json.Marshal(r)
	f.Add(seed)
	f.Add([]byte(`{"vulnerabilities":{"scan":{"findings":[null,{"paths":[[]]}]}},"staticAnalysis":{"scan":{"findings":[null]}}}`))
	f.Add([]byte(`{"binaries":[null],"signers":[null],"licenses":{"modules":[null]},"cryptography":{"binaries":[{}]}}`))
	cats, err := compliance.Catalogs()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := format.ReadReport(data)
		if err != nil {
			return
		}
		r.Compliance = compliance.Evaluate(cats, Evidence(r, func(string) string { return "" }))
		if _, err := HTML(r); err != nil {
			return
		}
		Markdown(r)
	})
}
