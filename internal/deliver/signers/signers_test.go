package signers

import (
	"context"
	"os"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/keys"
)

// TestDevelopmentKey: without signing.key the stage signs with the
// keyring's development key, creating it the first time, warns that the
// delivery proves nothing, and puts the public key where the manifest will
// name it.
func TestDevelopmentKey(t *testing.T) {
	ring := t.TempDir()
	var ids []string
	for range 2 {
		d := deliverytest.New(t)
		d.Signers, d.KeyringDir = nil, ring
		if err := (Stage{}).Run(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		p := d.Primary()
		if p == nil || !p.Development || p.Algorithm != keys.SM2 {
			t.Fatalf("primary %+v", p)
		}
		ids = append(ids, p.KeyID)
		if w := deliverytest.LogOf(d).Warnings; len(w) != 1 || !strings.Contains(w[0], "DEVELOPMENT KEY") {
			t.Errorf("warnings %q", w)
		}
		data, err := os.ReadFile(d.Path(format.SignerPublicKeyPath(p.KeyID)))
		if err != nil {
			t.Fatal(err)
		}
		if pub, err := keys.ParsePublicKey(data); err != nil || !keys.Equal(pub, p.Key.Public()) {
			t.Errorf("%s is not the signer's public key: %v", format.SignerPublicKeyPath(p.KeyID), err)
		}
	}
	if ids[0] != ids[1] {
		t.Error("the second delivery made another development key instead of using the first")
	}
}

// TestCoSignerTwice refuses a co-signer that is the primary key again.
func TestCoSignerTwice(t *testing.T) {
	d := deliverytest.New(t)
	key := d.Signers[0].Key
	d.Signers = nil
	d.Config.Signing.Key = "primary.key"
	d.Config.Signing.CoSigners = append(d.Config.Signing.CoSigners, config.Signer{Key: "primary.key"})
	d.OpenKey = func(req delivery.KeyRequest) (*delivery.OpenedKey, error) {
		return &delivery.OpenedKey{Signer: key, Label: req.Ref, Close: func() {}}, nil
	}
	if err := (Stage{}).Run(context.Background(), d); err == nil || !strings.Contains(err.Error(), "same key") {
		t.Errorf("the same key twice: %v", err)
	}
}
