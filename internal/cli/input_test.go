package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"hegui.dev/hegui/internal/logserver"
)

// TestInputsThatAreNotFiles: a named pipe or a directory named where hegui
// reads a key, a certificate, a binary or a file to sign is refused at once,
// saying what it is; the command does not wait for a writer. A password
// file may be a pipe, and is read from one.
func TestInputsThatAreNotFiles(t *testing.T) {
	r := newRunner(t)
	r.genKey("k", "sm2")
	r.write("data", []byte("data"))
	r.write("sm4.hex", []byte("0123456789abcdeffedcba9876543210\n"))
	fifo := r.path("fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const isFIFO = "fifo is a named pipe (FIFO), not a regular file"
	r.env["HEGUI_VULNDB"] = testVulnDB(t)
	r.ok("log", "init", r.path("auditlog"), "--origin", "test.example/audit")
	logPub := filepath.Join(r.path("auditlog"), logserver.PublicKeyFile)
	before := r.files()
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"sbom of a pipe", []string{"sbom", fifo}, []string{isFIFO}},
		{"signing key", []string{"sign", "--key", fifo, r.path("data")}, []string{isFIFO}},
		{"file to sign", []string{"sign", "--key", r.path("k.key"), fifo, "-o", r.path("x.sig")}, []string{isFIFO, "give - and redirect it"}},
		{"public key", []string{"verify-blob", "--pub", fifo, r.path("data")}, []string{isFIFO}},
		{"signature", []string{"verify-blob", "--pub", r.path("k.pub"), r.path("data"), "-s", fifo}, []string{isFIFO}},
		{"certificate", []string{"cert", "inspect", fifo}, []string{isFIFO}},
		{"roots", []string{"cert", "verify", fifo, "--roots", fifo}, []string{isFIFO}},
		{"request", []string{"cert", "issue", "--ca", fifo, "--ca-key", r.path("k.key"), "--csr", fifo, "--profile", "code-signing", "--out", r.path("x.pem")}, []string{isFIFO}},
		{"key to import", []string{"key", "import", fifo, "--no-password", "--out", r.path("x.key")}, []string{isFIFO}},
		{"key to inspect", []string{"key", "inspect", fifo}, []string{isFIFO}},
		{"SM4 key", []string{"encrypt", "--key-file", fifo, "--out", r.path("x.enc"), r.path("data")}, []string{isFIFO}},
		{"file to encrypt", []string{"encrypt", "--key-file", r.path("sm4.hex"), "--out", r.path("x.enc"), fifo}, []string{isFIFO}},
		{"MAC key", []string{"mac", "--key-file", fifo, r.path("data")}, []string{isFIFO}},
		{"file to hash", []string{"digest", fifo}, []string{isFIFO}},
		{"vuln binary", []string{"vuln", r.path("data"), fifo}, []string{isFIFO}},
		{"report of a pipe", []string{"report", fifo}, []string{"fifo is not a directory"}},
		{"proof", []string{"log", "proof", "--check", fifo, "--entry", r.path("data"), "--pub", logPub}, []string{isFIFO}},
		{"directory as key", []string{"sign", "--key", r.dir, r.path("data")}, []string{"is a directory, not a regular file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.t = t
			res := r.runUnblocking([]string{fifo}, c.args...)
			if res.code != ExitFailure {
				t.Errorf("exit %d, want %d: %s", res.code, ExitFailure, res.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("message %q does not say %q", res.stderr, w)
				}
			}
		})
	}
	r.t = t
	if after := r.files(); !slices.Equal(before, after) {
		t.Errorf("files changed by refused commands:\nbefore %v\nafter  %v", before, after)
	}

	// A password file that is a pipe is read, to its end.
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for hegui to open it
		if err == nil {
			w.WriteString("s3cret\n")
			w.Close()
		}
	}()
	time.Sleep(100 * time.Millisecond) // a pipe opened before its writer reads as empty
	res := r.runUnblocking([]string{fifo}, "key", "generate", "--out", r.path("p.key"), "--password-file", fifo, fastKDF)
	if res.code != 0 {
		t.Fatalf("password from a pipe: exit %d, %s", res.code, res.stderr)
	}
	r.write("pw", []byte("s3cret\n"))
	r.ok("key", "inspect", "--decrypt", "--password-file", r.path("pw"), r.path("p.key"))
}

// TestPublicKeyMessages: a file that is not a public key, given as one, is
// refused with a line that says what it is not, or what it is, and what
// was expected, never with the ASN.1 decoder's words.
func TestPublicKeyMessages(t *testing.T) {
	r := newRunner(t)
	r.genKey("k", "sm2")
	r.write("data", []byte("data"))
	r.ok("sign", "--key", r.path("k.key"), r.path("data"))
	r.ok("cert", "ca", "--key", r.path("k.key"), "--subject", "/CN=Root", "--out", r.path("root.pem"))
	r.write("empty.pub", nil)
	r.write("text.pub", []byte("this is a README, not a key\n"))
	cases := []struct {
		file string
		want []string
	}{
		{"empty.pub", []string{`public key "` + r.path("empty.pub") + `": empty file`}},
		{"text.pub", []string{"text.pub", `not a public key: expected a PEM "PUBLIC KEY" block or DER SubjectPublicKeyInfo (SPKI)`}},
		{"k.key", []string{"k.key", "this is a private key, not a public key", "hegui key export --public"}},
		{"root.pem", []string{"root.pem", "this is a certificate, not a public key", "--cert"}},
	}
	for _, c := range cases {
		msg := r.fails(1, c.want, "verify-blob", "--pub", r.path(c.file), r.path("data"))
		for _, leak := range []string{"asn1:", "sequence truncated", "structure error"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: message %q shows %q", c.file, msg, leak)
			}
		}
	}
	// What the message for a private key suggests works.
	r.ok("key", "export", r.path("k.key"), "--public", "--out", r.path("again.pub"))
	if string(r.read("again.pub")) != string(r.read("k.pub")) {
		t.Error("key export --public of a private key file wrote another key")
	}
}
