//go:build cgo

package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/delivercmd"
	"hegui.dev/hegui/internal/peertest"
)

// TestPKCS11Key signs a file and issues a certificate with a P-256 key in a
// SoftHSM2 token, through the command line, and checks both in OpenSSL.
func TestPKCS11Key(t *testing.T) {
	r := newRunner(t)
	hsm := peertest.NewSoftHSM(t)
	hsm.InitToken("release", "4321")
	hsm.GenerateKeyPair("release", "4321", "EC:prime256v1", "signing", "0a")
	r.write("pin", []byte("4321\n"))
	uri := "pkcs11:token=release;object=signing?module-path=" + hsm.Module + "&pin-source=file:" + r.path("pin")

	r.write("app", []byte(strings.Repeat("app ", 1000)))
	r.ok("sign", "--key", uri, r.path("app"))
	r.ok("key", "export", uri, "--public", "--out", r.path("token.pub"))
	r.ok("verify-blob", "--pub", r.path("token.pub"), r.path("app"))
	if out := peertest.OpenSSL(t, r.dir, "dgst", "-sha256", "-verify", "token.pub", "-signature", "app.sig", "app"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl: %s", out)
	}
	r.ok("cert", "ca", "--key", uri, "--subject", "/CN=Token Root", "--out", r.path("root.pem"))
	if out := peertest.OpenSSL(t, r.dir, "verify", "-x509_strict", "-CAfile", "root.pem", "root.pem"); !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify: %s", out)
	}

	// The module and PIN may come from the environment instead of the URI.
	r.env["HEGUI_PKCS11_MODULE"] = hsm.Module
	r.env["HEGUI_PKCS11_PIN"] = "4321"
	r.ok("sign", "--key", "pkcs11:token=release;object=signing", r.path("app"), "-o", r.path("env.sig"))
	r.env["HEGUI_PKCS11_PIN"] = "0000"
	r.fails(1, []string{"wrong PIN"}, "sign", "--key", "pkcs11:token=release;object=signing", r.path("app"), "-o", r.path("x.sig"))
	r.fails(2, []string{"cannot leave its token"}, "key", "export", uri, "--out", r.path("x.key"), "--no-password")
}

// TestDeliverWithTokenCoSigner co-signs a delivery with an ECDSA key in a
// SoftHSM2 token: the manifest and provenance carry its signature and the
// cosign bundles come from it.
func TestDeliverWithTokenCoSigner(t *testing.T) {
	r := newRunner(t)
	hsm := peertest.NewSoftHSM(t)
	hsm.InitToken("ci", "2468")
	hsm.GenerateKeyPair("ci", "2468", "EC:prime256v1", "cosign", "0b")
	r.write("pin", []byte("2468"))
	uri := "pkcs11:token=ci;object=cosign?module-path=" + hsm.Module + "&pin-source=file:" + r.path("pin")
	r.ok("key", "export", uri, "--public", "--out", r.path("token.pub"))

	f := newFixture(t)
	f.write("hegui.yaml", "version: 1\ntargets: [linux/amd64]\nsigning:\n  co-signers:\n    - key: \""+uri+"\"\n")
	f.git("add", "hegui.yaml")
	f.commit("token co-signer")
	var res delivercmd.Result
	json.Unmarshal([]byte(r.ok("deliver", f.dir, "--snapshot", "--output", r.path("out"), "--json").stdout), &res)
	bundles, _ := filepath.Glob(filepath.Join(res.Directory, "cosign", "bin", "*", "*.sigstore.json"))
	if len(bundles) != 1 {
		t.Errorf("bundles %v", bundles)
	}
	out := r.ok("verify", res.Directory, "--pub", r.path("token.pub"))
	if !strings.Contains(out.stdout, "given with --pub") {
		t.Errorf("verify:\n%s", out.stdout)
	}
}
