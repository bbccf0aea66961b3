package verify_test

import (
	"context"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/deliver/image"
	"hegui.dev/hegui/internal/verify"
)

// TestImage: a delivery with an image verifies, and an image that holds
// another binary than the delivery's fails the image check even when the
// manifest is signed again with the right key (only that check can tell).
func TestImage(t *testing.T) {
	d := sampleDelivery(t)
	d.Config.Image.Enabled = true
	d.Config.Image.CACertificates = "none"
	if err := (image.Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	sign(t, d)
	res := run(t, d)
	if !res.Passed || !detailOf(res, "image", "runs the delivery's binary on linux/amd64, linux/arm64 as user 65532:65532; 6 attachments") {
		t.Fatalf("%+v", res.Items)
	}

	// The image rebuilt around another amd64 binary, the manifest signed again.
	os.RemoveAll(d.Path(image.Dir))
	real := d.Binaries[0].Path
	other := filepath.Join(t.TempDir(), "other")
	data, _ := os.ReadFile(d.Path(real))
	os.WriteFile(other, append(data, 0), 0o755)
	os.Rename(d.Path(real), other+".real")
	os.Rename(other, d.Path(real))
	if err := (image.Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	os.Rename(other+".real", d.Path(real))
	sign(t, d)
	res = run(t, d)
	if got := res.Failed(); len(got) != 1 || got[0] != "image" || !detailOf(res, "image", "is not the delivery's binary") {
		t.Fatalf("failed %q: %+v", got, res.Items)
	}
}

func run(t *testing.T, d *delivery.Delivery) *verify.Result {
	t.Helper()
	res, err := verify.Run(context.Background(), verify.Options{Dir: d.Dir, Keys: []crypto.PublicKey{deliverytest.SM2Key(t).Public()}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func detailOf(res *verify.Result, name, want string) bool {
	for _, it := range res.Items {
		if it.Name == name {
			return strings.Contains(it.Detail, want)
		}
	}
	return false
}
