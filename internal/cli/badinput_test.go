package cli

import (
	"bytes"
	"slices"
	"testing"
)

// TestBadInput feeds every kind of broken input to the commands: each must
// fail with one line on stderr that names the file and the reason, exit 1,
// and leave no new file behind (run checks the one-line form).
func TestBadInput(t *testing.T) {
	r := newRunner(t)
	r.env["HEGUI_KEY_PASSWORD"] = "right"
	r.ok("key", "generate", "--out", r.path("enc.key"), fastKDF)
	r.genKey("plain", "sm2")
	r.genKey("ec", "ecdsa-p256")
	r.write("data", []byte("data"))
	r.ok("sign", "--key", r.path("plain.key"), r.path("data"))
	r.ok("cert", "ca", "--key", r.path("plain.key"), "--subject", "/CN=Root", "--out", r.path("root.pem"))
	r.ok("cert", "csr", "--key", r.path("ec.key"), "--subject", "/CN=req", "--out", r.path("req.csr"))

	keyPEM, certPEM, csrPEM, sig := r.read("plain.key"), r.read("root.pem"), r.read("req.csr"), r.read("data.sig")
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 0x55; return c }
	r.write("empty", nil)
	r.write("garbage", []byte("\x00\x01garbage\xff"))
	r.write("truncated.key", keyPEM[:len(keyPEM)/2])
	r.write("truncated.pem", certPEM[:len(certPEM)-40])
	r.write("tampered.pem", flip(certPEM, len(certPEM)/2))
	r.write("truncated.csr", csrPEM[:len(csrPEM)/2])
	r.write("tampered.sig", flip(sig, len(sig)-3))
	r.write("huge.sig", bytes.Repeat([]byte{0x30}, 70_000))
	r.write("tampered-data", []byte("dat4"))
	encKey := r.read("enc.key")
	r.write("corrupt-enc.key", flip(encKey, len(encKey)-60))
	before := r.files()

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"missing key", []string{"sign", "--key", r.path("nope.key"), r.path("data")}, []string{"nope.key", "no such file"}},
		{"empty key", []string{"sign", "--key", r.path("empty"), r.path("data")}, []string{"empty", "empty file"}},
		{"garbage key", []string{"sign", "--key", r.path("garbage"), r.path("data")}, []string{"garbage", "not a private key"}},
		{"truncated key", []string{"sign", "--key", r.path("truncated.key"), r.path("data")}, []string{"truncated.key", "no private key found"}},
		{"certificate as key", []string{"sign", "--key", r.path("root.pem"), r.path("data")}, []string{"root.pem", "certificate, not a private key"}},
		{"public key as key", []string{"sign", "--key", r.path("plain.pub"), r.path("data")}, []string{"plain.pub", "public key, not a private key"}},
		{"corrupted encrypted key", []string{"sign", "--key", r.path("corrupt-enc.key"), r.path("data")}, []string{"corrupt-enc.key"}},
		{"missing input", []string{"sign", "--key", r.path("plain.key"), r.path("nothing")}, []string{"nothing", "no such file"}},
		{"directory input", []string{"sign", "--key", r.path("plain.key"), r.dir}, []string{"is a directory"}},
		{"missing public key", []string{"verify-blob", "--pub", r.path("nope.pub"), r.path("data")}, []string{"nope.pub"}},
		{"private key as public key", []string{"verify-blob", "--pub", r.path("plain.key"), r.path("data")}, []string{"plain.key", "private key"}},
		{"certificate as public key", []string{"verify-blob", "--pub", r.path("root.pem"), r.path("data")}, []string{"root.pem", "--cert"}},
		{"wrong algorithm key", []string{"verify-blob", "--pub", r.path("ec.pub"), r.path("data")}, []string{"data", "does not match", "ecdsa-p256"}},
		{"missing signature", []string{"verify-blob", "--pub", r.path("plain.pub"), r.path("data"), "-s", r.path("none.sig")}, []string{"none.sig"}},
		{"empty signature", []string{"verify-blob", "--pub", r.path("plain.pub"), r.path("data"), "-s", r.path("empty")}, []string{"empty"}},
		{"huge signature", []string{"verify-blob", "--pub", r.path("plain.pub"), r.path("data"), "-s", r.path("huge.sig")}, []string{"huge.sig", "larger than"}},
		{"garbage signature", []string{"verify-blob", "--pub", r.path("plain.pub"), r.path("data"), "-s", r.path("garbage")}, []string{"does not match"}},
		{"tampered signature", []string{"verify-blob", "--pub", r.path("plain.pub"), r.path("data"), "-s", r.path("tampered.sig")}, []string{"tampered.sig", "does not match"}},
		{"tampered file", []string{"verify-blob", "--pub", r.path("plain.pub"), r.path("tampered-data"), "-s", r.path("data.sig")}, []string{"tampered-data", "does not match"}},
		{"truncated certificate", []string{"cert", "inspect", r.path("truncated.pem")}, []string{"truncated.pem"}},
		{"tampered certificate", []string{"cert", "verify", r.path("tampered.pem"), "--roots", r.path("root.pem")}, []string{"tampered.pem"}},
		{"garbage roots", []string{"cert", "verify", r.path("root.pem"), "--roots", r.path("garbage")}, []string{"garbage"}},
		{"key as roots", []string{"cert", "verify", r.path("root.pem"), "--roots", r.path("plain.key")}, []string{"plain.key", "PRIVATE KEY"}},
		{"truncated request", []string{"cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("plain.key"), "--csr", r.path("truncated.csr"), "--profile", "code-signing", "--out", r.path("new.pem")}, []string{"truncated.csr"}},
		{"garbage key inspect", []string{"key", "inspect", r.path("garbage")}, []string{"garbage"}},
		{"import missing", []string{"key", "import", r.path("nope.pem"), "--name", "x", "--no-password"}, []string{"nope.pem"}},
		{"keyring unknown", []string{"sign", "--key", "keyring:nobody", r.path("data"), "-o", r.path("new.sig")}, []string{"nobody"}},
		{"pkcs11 bad URI", []string{"sign", "--key", "pkcs11:token=x", r.path("data"), "-o", r.path("new.sig")}, []string{"object=LABEL"}},
		{"digest missing", []string{"digest", r.path("nothing")}, []string{"nothing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.t = t
			r.fails(1, c.want, c.args...)
		})
	}
	r.t = t
	if after := r.files(); !slices.Equal(before, after) {
		t.Errorf("files changed by failing commands:\nbefore %v\nafter  %v", before, after)
	}
}
