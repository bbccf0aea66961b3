package translog

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/keys"
)

// TestSM2CheckpointSignatureOpenSSL checks the SM2 signed-note signature
// with OpenSSL both ways: OpenSSL verifies hegui's signature over the note
// text, and hegui's verifier accepts a signature OpenSSL made, placed in a
// signature line.
func TestSM2CheckpointSignatureOpenSSL(t *testing.T) {
	peertest.Require(t, "openssl")
	dir := t.TempDir()
	const name = "test.example/log"
	key, err := keys.Generate(keys.SM2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSM2Signer(name, key)
	if err != nil {
		t.Fatal(err)
	}
	text := name + "\n42\nMna2QRnYwvyBpbup4ypr/RZR3hiwj/V8cK85dhHY40k=\n"
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(strings.SplitN(string(signed), "\n\n", 2)[1])
	raw, err := base64.StdEncoding.DecodeString(line[strings.LastIndex(line, " ")+1:])
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := keys.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := keys.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(n string, b []byte) string {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("text", []byte(text))
	write("pub.pem", pubPEM)
	write("priv.pem", privPEM)
	write("hegui.sig", raw[4:])
	out := peertest.OpenSSL(t, dir, "dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:1234567812345678", "-signature", "hegui.sig", "text")
	if !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl: %s", out)
	}

	peertest.OpenSSL(t, dir, "dgst", "-sm3", "-sign", "priv.pem", "-sigopt", "distid:1234567812345678", "-out", "openssl.sig", "text")
	sig, err := os.ReadFile(filepath.Join(dir, "openssl.sig"))
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := VerifierKey(name, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	withOpenSSL := text + "\n— " + name + " " + base64.StdEncoding.EncodeToString(append(raw[:4:4], sig...)) + "\n"
	if _, err := note.Open([]byte(withOpenSSL), note.VerifierList(v)); err != nil {
		t.Fatalf("hegui does not accept OpenSSL's signature: %v", err)
	}
	if v.Verify([]byte(text+"x"), sig) {
		t.Fatal("signature verifies over other text")
	}
}
