package cbom

import (
	"context"
	"os"
	"testing"

	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
)

// TestCBOM writes the inventory of a delivery signed with SM2 and Ed25519
// whose binary links SHA-256 and gmsm's SM2, and compares it with the
// golden CycloneDX document.
func TestCBOM(t *testing.T) {
	d := deliverytest.New(t)
	deliverytest.AddSigner(t, d, deliverytest.Ed25519Key(), "co-signer")
	deliverytest.AddBinary(t, d, "app", "linux/amd64", []byte("amd64 binary"))
	d.Provenance = format.ProvenanceFile
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if d.Crypto == nil || len(d.Crypto.Keys) != 2 {
		t.Fatalf("inventory %+v", d.Crypto)
	}
	data, err := os.ReadFile(d.Path(format.CBOMFile))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "cbom.cdx.json.golden", data)
}
