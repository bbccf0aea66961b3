package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/signcmd"
	"hegui.dev/hegui/internal/peertest"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	r := newRunner(t)
	data := bytes.Repeat([]byte("release artifact\n"), 50_000)
	r.write("app.bin", data)
	for _, alg := range []string{"sm2", "ecdsa-p256", "ed25519"} {
		r.genKey(alg, alg)
		sig := r.path("app." + alg + ".sig")
		out := r.ok("sign", "--key", r.path(alg+".key"), r.path("app.bin"), "-o", sig, "--json")
		var results []signcmd.SignResult
		if err := json.Unmarshal([]byte(out.stdout), &results); err != nil || len(results) != 1 || string(results[0].Algorithm) != alg {
			t.Fatalf("%s: %s %v", alg, out.stdout, err)
		}
		if out := r.ok("verify-blob", "--pub", r.path(alg+".pub"), r.path("app.bin"), "-s", sig); !strings.Contains(out.stdout, "Verified OK") {
			t.Errorf("%s: %s", alg, out.stdout)
		}
	}
	// A base64 signature (as cosign writes them) is accepted too.
	r.write("app.b64.sig", []byte(base64.StdEncoding.EncodeToString(r.read("app.sm2.sig"))+"\n"))
	r.ok("verify-blob", "--pub", r.path("sm2.pub"), r.path("app.bin"), "-s", r.path("app.b64.sig"))

	// Several files at once, signatures beside them.
	r.write("b.bin", []byte("b"))
	r.ok("sign", "--key", r.path("sm2.key"), r.path("app.bin"), r.path("b.bin"))
	r.ok("verify-blob", "--pub", r.path("sm2.pub"), r.path("b.bin"))
}

// TestSignInteropOpenSSL: signatures from `hegui sign` verify in `openssl dgst`
// and the reverse, through the command line of both.
func TestSignInteropOpenSSL(t *testing.T) {
	r := newRunner(t)
	r.write("msg", bytes.Repeat([]byte{7, 0, 1}, 100_000))
	ossl := func(args ...string) string { return peertest.OpenSSL(t, r.dir, args...) }
	const distid = "distid:1234567812345678"

	r.genKey("sm2", "sm2")
	r.genKey("ec", "ecdsa-p256")
	r.ok("sign", "--key", r.path("sm2.key"), r.path("msg"), "-o", r.path("sm2.sig"))
	r.ok("sign", "--key", r.path("ec.key"), r.path("msg"), "-o", r.path("ec.sig"))
	if out := ossl("dgst", "-sm3", "-verify", "sm2.pub", "-sigopt", distid, "-signature", "sm2.sig", "msg"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl SM2: %s", out)
	}
	if out := ossl("dgst", "-sha256", "-verify", "ec.pub", "-signature", "ec.sig", "msg"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl ECDSA: %s", out)
	}
	r.ok("sign", "--key", r.path("sm2.key"), "--sm2-id", "alice@example.cn", r.path("msg"), "-o", r.path("alice.sig"))
	if out := ossl("dgst", "-sm3", "-verify", "sm2.pub", "-sigopt", "distid:alice@example.cn", "-signature", "alice.sig", "msg"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl SM2 custom ID: %s", out)
	}

	ossl("genpkey", "-algorithm", "SM2", "-out", "o-sm2.pem")
	ossl("pkey", "-in", "o-sm2.pem", "-pubout", "-out", "o-sm2.pub")
	ossl("dgst", "-sm3", "-sign", "o-sm2.pem", "-sigopt", distid, "-out", "o-sm2.sig", "msg")
	r.ok("verify-blob", "--pub", r.path("o-sm2.pub"), r.path("msg"), "-s", r.path("o-sm2.sig"))
	ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "o-ec.pem")
	ossl("pkey", "-in", "o-ec.pem", "-pubout", "-out", "o-ec.pub")
	ossl("dgst", "-sha256", "-sign", "o-ec.pem", "-out", "o-ec.sig", "msg")
	r.ok("verify-blob", "--pub", r.path("o-ec.pub"), r.path("msg"), "-s", r.path("o-ec.sig"))
	// OpenSSL-generated keys sign through hegui as well.
	r.ok("sign", "--key", r.path("o-sm2.pem"), r.path("msg"), "-o", r.path("h.sig"))
	if out := ossl("dgst", "-sm3", "-verify", "o-sm2.pub", "-sigopt", distid, "-signature", "h.sig", "msg"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl, hegui signature with an OpenSSL key: %s", out)
	}
	// An OpenSSL signature made without distid fails, with a hint.
	ossl("dgst", "-sm3", "-sign", "o-sm2.pem", "-out", "noid.sig", "msg")
	r.fails(1, []string{"does not match", "distid"}, "verify-blob", "--pub", r.path("o-sm2.pub"), r.path("msg"), "-s", r.path("noid.sig"))
}

func TestVerifyBlobWithCertificate(t *testing.T) {
	r := newRunner(t)
	r.genKey("root", "sm2")
	r.genKey("int", "sm2")
	r.genKey("signer", "sm2")
	r.genKey("server", "sm2")
	r.ok("cert", "ca", "--key", r.path("root.key"), "--subject", "/C=CN/O=hegui/CN=Root", "--path-len", "1", "--out", r.path("root.pem"))
	r.ok("cert", "csr", "--key", r.path("int.key"), "--subject", "/CN=Intermediate", "--out", r.path("int.csr"))
	r.ok("cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("root.key"), "--csr", r.path("int.csr"), "--profile", "intermediate-ca", "--out", r.path("int.pem"))
	r.ok("cert", "csr", "--key", r.path("signer.key"), "--subject", "/CN=Signer", "--out", r.path("signer.csr"))
	r.ok("cert", "issue", "--ca", r.path("int.pem"), "--ca-key", r.path("int.key"), "--csr", r.path("signer.csr"), "--profile", "code-signing", "--days", "30", "--out", r.path("signer.pem"))
	r.ok("cert", "csr", "--key", r.path("server.key"), "--subject", "/CN=server", "--dns", "api.example.cn", "--out", r.path("server.csr"))
	r.ok("cert", "issue", "--ca", r.path("int.pem"), "--ca-key", r.path("int.key"), "--csr", r.path("server.csr"), "--profile", "tls-server", "--days", "30", "--out", r.path("server.pem"))

	r.ok("cert", "ca", "--key", r.path("server.key"), "--subject", "/CN=Other Root", "--out", r.path("other.pem"))

	r.write("app", []byte("app"))
	r.ok("sign", "--key", r.path("signer.key"), r.path("app"))
	out := r.ok("verify-blob", "--cert", r.path("signer.pem"), "--roots", r.path("root.pem"), "--intermediates", r.path("int.pem"), r.path("app"), "--json")
	var res signcmd.VerifyResult
	json.Unmarshal([]byte(out.stdout), &res)
	if !res.Verified || len(res.Chain) != 3 || res.Chain[0] != "/CN=Signer" {
		t.Errorf("result %+v", res)
	}
	// The certificate file may carry its intermediate.
	r.write("bundle.pem", append(r.read("signer.pem"), r.read("int.pem")...))
	r.ok("verify-blob", "--cert", r.path("bundle.pem"), "--roots", r.path("root.pem"), r.path("app"))

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"expired", []string{"--cert", r.path("bundle.pem"), "--roots", r.path("root.pem"), "--at", "2099-01-01"}, []string{"expired"}},
		{"untrusted root", []string{"--cert", r.path("bundle.pem"), "--roots", r.path("other.pem")}, []string{"does not chain"}},
		{"no chain", []string{"--cert", r.path("signer.pem"), "--roots", r.path("root.pem")}, []string{"does not chain"}},
		{"server certificate", []string{"--cert", r.path("server.pem"), "--roots", r.path("root.pem"), "--intermediates", r.path("int.pem")}, []string{"key usage"}},
		{"swapped certificate", []string{"--cert", r.path("int.pem"), "--roots", r.path("root.pem")}, []string{"extended key usage"}},
	}
	for _, c := range cases {
		r.fails(1, c.want, append(append([]string{"verify-blob"}, c.args...), r.path("app"))...)
	}
	// A certificate without roots is a usage error: the chain must be checked.
	r.fails(2, []string{"--roots"}, "verify-blob", "--cert", r.path("signer.pem"), r.path("app"))
	// --json reports failures as well, and still exits 1.
	res = signcmd.VerifyResult{}
	fail := r.run("verify-blob", "--cert", r.path("bundle.pem"), "--roots", r.path("root.pem"), "--at", "2099-01-01", r.path("app"), "--json")
	json.Unmarshal([]byte(fail.stdout), &res)
	if fail.code != 1 || res.Verified || !strings.Contains(res.Error, "expired") {
		t.Errorf("--json failure: exit %d %+v", fail.code, res)
	}
}

func TestSignUsageErrors(t *testing.T) {
	r := newRunner(t)
	r.genKey("ec", "ecdsa-p256")
	r.write("f", []byte("f"))
	r.fails(2, []string{"--key is required"}, "sign", r.path("f"))
	r.fails(2, []string{"--sm2-id applies to SM2"}, "sign", "--key", r.path("ec.key"), "--sm2-id", "x", r.path("f"))
	r.fails(2, []string{"--output names one"}, "sign", "--key", r.path("ec.key"), "-o", r.path("x.sig"), r.path("f"), r.path("f"))
	r.fails(2, []string{"exactly one of"}, "verify-blob", r.path("f"))
	r.fails(2, []string{"exactly one of"}, "verify-blob", "--pub", r.path("ec.pub"), "--key", "keyring:x", r.path("f"))
	r.fails(2, []string{"--at"}, "verify-blob", "--pub", r.path("ec.pub"), "--at", "2020-01-01", r.path("f"))
}
