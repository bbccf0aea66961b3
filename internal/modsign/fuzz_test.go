package modsign

import (
	"crypto"
	"crypto/rand"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/keys"
)

// FuzzParseStatement: whatever the signed payload, ParseStatement never
// panics, and what it accepts is exactly its go.sum form.
func FuzzParseStatement(f *testing.F) {
	f.Add([]byte("corp.example/auth v1.0.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ncorp.example/auth v1.0.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"))
	f.Add([]byte("a v1 h1:\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatement(data)
		if err == nil && string(st.GoSum()) != string(data) {
			t.Fatalf("accepted %q, which is not its own go.sum form %q", data, st.GoSum())
		}
	})
}

// FuzzVerify: a publication read from a store or a proxy is untrusted;
// Verify never panics on it and never accepts garbage.
func FuzzVerify(f *testing.F) {
	k, err := keys.Generate(keys.SM2, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	_, vkey, err := note.GenerateKey(rand.Reader, "test.example/log")
	if err != nil {
		f.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		f.Fatal(err)
	}
	trust := Trust{Publishers: []crypto.PublicKey{k.Public()}, Log: []note.Verifier{v}}
	f.Add([]byte(`{"payloadType":"application/vnd.hegui.gosum.v1","payload":"","signatures":[]}`), []byte(`{"entry":"{}","proof":"c2sp.org/tlog-proof@v1\nindex 0\n\n"}`))
	f.Add([]byte("{}"), []byte("{}"))
	f.Fuzz(func(t *testing.T, sig, tlog []byte) {
		// Nothing here is signed by the generated keys: nothing verifies.
		if _, err := Verify(sig, tlog, trust); err == nil {
			t.Fatal("verified a publication nobody signed")
		}
	})
}
