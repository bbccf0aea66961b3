package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/internal/peertest"
)

func testdataPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGoldenCertInspect(t *testing.T) {
	r := newRunner(t)
	golden.Check(t, "inspect-root.golden", []byte(r.ok("cert", "inspect", testdataPath(t, "root.pem")).stdout))
	golden.Check(t, "inspect-signer.golden", []byte(r.ok("cert", "inspect", testdataPath(t, "signer.pem")).stdout))
	golden.Check(t, "inspect-signer.json.golden", []byte(r.ok("cert", "inspect", testdataPath(t, "signer.pem"), "--json").stdout))
	golden.Check(t, "inspect-csr.golden", []byte(r.ok("cert", "inspect", testdataPath(t, "signer.csr")).stdout))
}

// TestFixtureChainInOpenSSL: the committed hegui-made chain verifies in
// hegui and in OpenSSL.
func TestFixtureChainInOpenSSL(t *testing.T) {
	r := newRunner(t)
	out := r.ok("cert", "verify", testdataPath(t, "signer.pem"), "--roots", testdataPath(t, "root.pem"), "--purpose", "code-signing")
	if !strings.Contains(out.stdout, "OK (code-signing)") {
		t.Errorf("hegui: %s", out.stdout)
	}
	got := peertest.OpenSSL(t, r.dir, "verify", "-x509_strict", "-vfyopt", "distid:1234567812345678", "-CAfile", testdataPath(t, "root.pem"), testdataPath(t, "signer.pem"))
	if !strings.Contains(got, ": OK") {
		t.Errorf("openssl: %s", got)
	}
	peertest.OpenSSL(t, r.dir, "req", "-in", testdataPath(t, "signer.csr"), "-noout", "-verify", "-vfyopt", "distid:1234567812345678")
}

func TestCertCommands(t *testing.T) {
	r := newRunner(t)
	r.genKey("root", "ecdsa-p256")
	r.genKey("leaf", "ecdsa-p256")
	r.ok("cert", "ca", "--key", r.path("root.key"), "--subject", "/CN=EC Root", "--path-len", "0", "--out", r.path("root.pem"))
	r.ok("cert", "csr", "--key", r.path("leaf.key"), "--subject", "/CN=client", "--out", r.path("leaf.csr"))
	r.ok("cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("root.key"), "--csr", r.path("leaf.csr"), "--profile", "tls-client", "--out", r.path("client.pem"))
	r.ok("cert", "verify", r.path("client.pem"), "--roots", r.path("root.pem"), "--purpose", "tls-client")
	if out := peertest.OpenSSL(t, r.dir, "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "root.pem", "client.pem"); !strings.Contains(out, ": OK") {
		t.Errorf("openssl: %s", out)
	}
	r.fails(1, []string{"key usage"}, "cert", "verify", r.path("client.pem"), "--roots", r.path("root.pem"), "--purpose", "code-signing")
	r.fails(1, []string{"path length 0"}, "cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("root.key"), "--csr", r.path("leaf.csr"), "--profile", "intermediate-ca", "--out", r.path("int.pem"))
	r.fails(1, []string{"not a CA"}, "cert", "issue", "--ca", r.path("client.pem"), "--ca-key", r.path("leaf.key"), "--csr", r.path("leaf.csr"), "--profile", "tls-client", "--out", r.path("x.pem"))
	r.fails(1, []string{"does not belong"}, "cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("leaf.key"), "--csr", r.path("leaf.csr"), "--profile", "tls-client", "--out", r.path("x.pem"))
	r.fails(1, []string{"DNS name or IP"}, "cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("root.key"), "--csr", r.path("leaf.csr"), "--profile", "tls-server", "--out", r.path("x.pem"))
	r.fails(2, []string{"unknown profile"}, "cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("root.key"), "--csr", r.path("leaf.csr"), "--profile", "root-ca", "--out", r.path("x.pem"))
	r.fails(2, []string{"must start with"}, "cert", "ca", "--key", r.path("root.key"), "--subject", "CN=x", "--out", r.path("x.pem"))
	r.fails(2, []string{"--ip"}, "cert", "csr", "--key", r.path("leaf.key"), "--subject", "/CN=x", "--ip", "300.1.1.1", "--out", r.path("x.csr"))
	r.fails(2, []string{"--at"}, "cert", "verify", r.path("client.pem"), "--roots", r.path("root.pem"), "--at", "yesterday")
	for _, f := range r.files() {
		if f == "x.pem" || f == "x.csr" || f == "int.pem" {
			t.Errorf("a failed command left %s behind", f)
		}
	}
}
