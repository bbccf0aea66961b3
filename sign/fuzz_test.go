package sign

import (
	"bytes"
	"testing"

	"hegui.dev/hegui/keys"
)

// FuzzVerify feeds arbitrary signatures to the verifier of each algorithm.
// It must never panic, and never accept a signature over other data.
func FuzzVerify(f *testing.F) {
	msg := []byte("fuzz message")
	var pubs []any
	for _, alg := range keys.Algorithms {
		priv, err := keys.Generate(alg, nil)
		if err != nil {
			f.Fatal(err)
		}
		pubs = append(pubs, priv.Public())
		sig, err := Sign(ctx, priv, bytes.NewReader(msg), Options{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sig)
	}
	f.Fuzz(func(t *testing.T, sig []byte) {
		for _, pub := range pubs {
			Verify(ctx, pub, bytes.NewReader(msg), sig, Options{})
			if Verify(ctx, pub, bytes.NewReader([]byte("other data")), sig, Options{}) == nil {
				t.Fatalf("signature %x verified over other data", sig)
			}
		}
	})
}
