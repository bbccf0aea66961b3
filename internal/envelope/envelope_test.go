package envelope

import (
	"context"
	"crypto"
	"strings"
	"testing"

	"hegui.dev/hegui/keys"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	gen := func(alg keys.Algorithm) crypto.Signer {
		k, err := keys.Generate(alg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a, b, c := gen(keys.SM2), gen(keys.Ed25519), gen(keys.ECDSAP256)
	env, err := Sign(ctx, ManifestPayloadType, []byte(`{"x":1}`), a, b)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	parsed, payload, err := Parse(data, ManifestPayloadType)
	if err != nil || string(payload) != `{"x":1}` || len(KeyIDs(parsed)) != 2 {
		t.Fatalf("parse: %v %q", err, payload)
	}
	for _, k := range []crypto.Signer{a, b} {
		if err := VerifyKey(parsed, k.Public()); err != nil {
			t.Error(err)
		}
	}
	if err := VerifyKey(parsed, c.Public()); err == nil || !strings.Contains(err.Error(), "no signature by key") {
		t.Errorf("unrelated key: %v", err)
	}
	if _, _, err := Parse(data, InTotoPayloadType); err == nil {
		t.Error("wrong payload type accepted")
	}
	// Changing the payload breaks every signature.
	parsed.Payload = strings.Replace(parsed.Payload, "e", "f", 1)
	if err := VerifyKey(parsed, a.Public()); err == nil {
		t.Error("changed payload verified")
	}
}

// FuzzParse: envelopes arrive in deliveries from anyone.
func FuzzParse(f *testing.F) {
	k, _ := keys.Generate(keys.ECDSAP256, nil)
	env, _ := Sign(context.Background(), InTotoPayloadType, []byte("{}"), k)
	data, _ := Marshal(env)
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		if e, _, err := Parse(data, InTotoPayloadType); err == nil {
			VerifyKey(e, k.Public())
		}
	})
}
