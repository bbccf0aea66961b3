package vulnscan

import (
	"testing"
	"time"

	"hegui.dev/hegui/internal/format/formattest"
	"hegui.dev/hegui/internal/golden"
)

// TestOpenVEXGolden writes the OpenVEX document of the sample scan: an
// affected statement with the fix for the called finding, the accepted
// one with the supplier's reason, and not_affected for the imported one.
func TestOpenVEXGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	doc := formattest.Vulns(t0)
	data, err := OpenVEX(doc, VEXOptions{
		Author: "Example Corp", Product: "pkg:golang/example.com/app@v1.2.3", Time: t0,
		Binaries: []VEXBinary{{Name: "bin/linux_amd64/app", SHA256: "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "sample.openvex.json.golden", data)
}
