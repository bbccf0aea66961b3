//go:build cgo

package pkcs11key

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
	"hegui.dev/hegui/sign"
)

// token makes a SoftHSM2 token "hegui" with PIN 1234 holding a P-256 key
// "ec" (id 01) and an Ed25519 key "ed" (id 02), and writes the PIN to a file.
func token(t *testing.T) (*peertest.SoftHSM, string) {
	hsm := peertest.NewSoftHSM(t)
	hsm.InitToken("hegui", "1234")
	hsm.GenerateKeyPair("hegui", "1234", "EC:prime256v1", "ec", "01")
	hsm.GenerateKeyPair("hegui", "1234", "EC:edwards25519", "ed", "02")
	pinFile := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pinFile, []byte("1234\n"), 0o600)
	return hsm, pinFile
}

func TestECDSAOnToken(t *testing.T) {
	hsm, pinFile := token(t)
	key, err := Open("pkcs11:token=hegui;object=ec?module-path="+hsm.Module+"&pin-source=file:"+pinFile, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	if alg, _ := keys.AlgorithmOf(key.Public()); alg != keys.ECDSAP256 {
		t.Fatalf("algorithm %s", alg)
	}
	msg := bytes.Repeat([]byte("payload "), 10_000)
	sig, err := sign.Sign(context.Background(), key, bytes.NewReader(msg), sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.Verify(context.Background(), key.Public(), bytes.NewReader(msg), sig, sign.Options{}); err != nil {
		t.Fatal(err)
	}

	// The public key read from the token is the one OpenSSL sees in
	// pkcs11-tool's export, and OpenSSL verifies the token's signature.
	dir := t.TempDir()
	peertest.Run(t, dir, "pkcs11-tool", "--module", hsm.Module, "--token-label", "hegui", "--read-object", "--type", "pubkey", "--label", "ec", "-o", "pub.der")
	peertest.OpenSSL(t, dir, "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-out", "pub.pem")
	pemData, _ := os.ReadFile(filepath.Join(dir, "pub.pem"))
	want, _ := keys.ParsePublicKey(pemData)
	if !keys.Equal(want, key.Public()) {
		t.Fatal("public key differs from pkcs11-tool's")
	}
	os.WriteFile(filepath.Join(dir, "msg"), msg, 0o644)
	os.WriteFile(filepath.Join(dir, "sig"), sig, 0o644)
	if out := peertest.OpenSSL(t, dir, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "msg"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl: %s", out)
	}

	// The token key can be a CA: certificates are signed through it.
	root, err := pki.CreateRoot(key, pki.Template{Subject: pkix.Name{CommonName: "token root"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Error(err)
	}
}

// TestEd25519OnToken: SoftHSM2 2.6 signs pure Ed25519 (used for
// certificates) but ignores the Ed25519ph parameter, so a file signature
// comes back invalid and package sign refuses it.
func TestEd25519OnToken(t *testing.T) {
	hsm, pinFile := token(t)
	key, err := Open("pkcs11:token=hegui;id=%02?module-path="+hsm.Module+"&pin-source=file:"+pinFile, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	if alg, _ := keys.AlgorithmOf(key.Public()); alg != keys.Ed25519 {
		t.Fatalf("algorithm %s", alg)
	}
	root, err := pki.CreateRoot(key, pki.Template{Subject: pkix.Name{CommonName: "ed25519 token root"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Error(err)
	}
	_, err = sign.Sign(context.Background(), key, strings.NewReader("file"), sign.Options{})
	if err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("Ed25519ph on SoftHSM2: err = %v, want the signature to be refused", err)
	}
}

func TestOpenErrors(t *testing.T) {
	hsm, pinFile := token(t)
	wrongPin := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongPin, []byte("9999"), 0o600)
	base := "?module-path=" + hsm.Module + "&pin-source=file:"
	cases := []struct {
		uri  string
		cfg  Config
		want string
	}{
		{"pkcs11:token=hegui;object=ec" + base + wrongPin, Config{}, "wrong PIN"},
		{"pkcs11:token=hegui;object=nope" + base + pinFile, Config{}, `no private key with label "nope"`},
		{"pkcs11:token=other;object=ec" + base + pinFile, Config{}, "no token matches"},
		{"pkcs11:token=hegui;object=ec?pin-source=file:" + pinFile, Config{}, "no PKCS#11 module"},
		{"pkcs11:token=hegui;object=ec?module-path=" + hsm.Module, Config{}, "no PIN"},
		{"pkcs11:token=hegui;object=ec?module-path=/nonexistent/module.so&pin-value=1", Config{}, "nonexistent"},
	}
	for _, c := range cases {
		_, err := Open(c.uri, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%s): err = %v, want %q", c.uri, err, c.want)
		}
	}
	// Config supplies module and PIN when the URI does not.
	key, err := Open("pkcs11:token=hegui;object=ec", Config{ModulePath: hsm.Module, PIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	key.Close()
}
