package cli

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/cli/keycmd"
	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/keyring"
)

const fastKDF = "--kdf-iterations=1000"

func TestKeyGenerateFileAndInspect(t *testing.T) {
	r := newRunner(t)
	r.write("pw", []byte("s3cret\n"))
	for _, alg := range []string{"sm2", "ecdsa-p256", "ed25519"} {
		out := r.ok("key", "generate", "--alg", alg, "--out", r.path(alg+".key"), "--password-file", r.path("pw"), fastKDF, "--json")
		var res keycmd.Result
		if err := json.Unmarshal([]byte(out.stdout), &res); err != nil {
			t.Fatal(err)
		}
		if string(res.Algorithm) != alg || len(res.ID) != 64 || res.PublicKey != r.path(alg+".pub") {
			t.Errorf("%s: result %+v", alg, res)
		}
		if fi, _ := os.Stat(r.path(alg + ".key")); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: key file mode %v", alg, fi.Mode())
		}
		insp := r.ok("key", "inspect", r.path(alg+".key"), "--decrypt", "--password-file", r.path("pw"), "--json")
		var ki keycmd.Inspection
		json.Unmarshal([]byte(insp.stdout), &ki)
		if ki.ID != res.ID || ki.Protection == nil || ki.OpenSSLReadable != (alg != "sm2") {
			t.Errorf("%s: inspect %+v", alg, ki)
		}
		pub := r.ok("key", "inspect", r.path(alg+".pub"), "--json")
		json.Unmarshal([]byte(pub.stdout), &ki)
		if ki.ID != res.ID || ki.Kind != "public key" {
			t.Errorf("%s: inspect public %+v", alg, ki)
		}
	}
	// Without --decrypt an encrypted key is described without a password.
	out := r.ok("key", "inspect", r.path("sm2.key"))
	if !strings.Contains(out.stdout, "PBKDF2-HMAC-SM3") || !strings.Contains(out.stdout, "cannot read this encryption") {
		t.Errorf("inspect:\n%s", out.stdout)
	}
}

func TestKeyPasswordSources(t *testing.T) {
	r := newRunner(t)
	// No password source and no terminal: refused, nothing written.
	r.fails(1, []string{"no terminal", "--password-file"}, "key", "generate", "--out", r.path("a.key"), fastKDF)
	if files := r.files(); len(files) != 0 {
		t.Errorf("files left behind: %v", files)
	}
	// The terminal prompt asks twice for a new password.
	r.prompts = []string{"one", "two"}
	r.fails(1, []string{"do not match"}, "key", "generate", "--out", r.path("a.key"), fastKDF)
	r.prompts = []string{"same", "same"}
	r.ok("key", "generate", "--out", r.path("a.key"), fastKDF)
	// The environment variable works, and the wrong password is named.
	r.env["HEGUI_KEY_PASSWORD"] = "same"
	r.ok("key", "inspect", "--decrypt", r.path("a.key"))
	r.env["HEGUI_KEY_PASSWORD"] = "wrong"
	r.fails(1, []string{"a.key", "wrong password"}, "sign", "--key", r.path("a.key"), r.path("a.key"))
	// There is no flag that takes a password value.
	r.fails(2, []string{"unknown flag"}, "key", "generate", "--out", r.path("b.key"), "--password", "x")
}

func TestKeyOutputNeverOverwrites(t *testing.T) {
	r := newRunner(t)
	r.genKey("a", "sm2")
	before := r.read("a.key")
	r.fails(1, []string{"already exists", "--force"}, "key", "generate", "--no-password", "--out", r.path("a.key"))
	if string(r.read("a.key")) != string(before) {
		t.Fatal("existing key overwritten")
	}
	r.ok("key", "generate", "--no-password", "--out", r.path("a.key"), "--force")
	if string(r.read("a.key")) == string(before) {
		t.Error("--force did not replace the key")
	}
}

// TestKeyImportExportOpenSSL: OpenSSL keys, plain and encrypted, import;
// exported copies (--openssl, plain, public) read back in OpenSSL.
func TestKeyImportExportOpenSSL(t *testing.T) {
	r := newRunner(t)
	ossl := func(args ...string) string { return peertest.OpenSSL(t, r.dir, args...) }
	ossl("genpkey", "-algorithm", "SM2", "-out", "sm2.pem")
	ossl("genpkey", "-algorithm", "ED25519", "-out", "ed.pem")
	ossl("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.pem")
	ossl("pkcs8", "-topk8", "-in", "sm2.pem", "-v2", "sm4-cbc", "-passout", "pass:old", "-out", "sm2-enc.pem")
	r.write("old", []byte("old"))
	r.write("new", []byte("new"))

	r.ok("key", "import", r.path("sm2-enc.pem"), "--name", "release", "--password-file", r.path("old"), "--new-password-file", r.path("new"), fastKDF)
	r.ok("key", "import", r.path("ed.pem"), "--name", "ed", "--no-password")
	r.ok("key", "import", r.path("ec.pem"), "--out", r.path("ec.key"), "--password-file", r.path("new"), fastKDF)

	// Export the SM2 key for OpenSSL: it reads it with the new password and
	// derives the same public key as from the original.
	r.ok("key", "export", "keyring:release", "--openssl", "--out", r.path("export.pem"), "--password-file", r.path("new"), fastKDF)
	want := ossl("pkey", "-in", "sm2.pem", "-pubout")
	if got := ossl("pkey", "-in", "export.pem", "-passin", "pass:new", "-pubout"); got != want {
		t.Errorf("exported SM2 key differs:\n%s\nwant\n%s", got, want)
	}
	r.ok("key", "export", "keyring:release", "--public", "--out", r.path("release.pub"))
	if got := ossl("pkey", "-pubin", "-in", "release.pub"); got != want {
		t.Errorf("exported public key differs")
	}
	r.ok("key", "export", "keyring:ed", "--no-password", "--out", r.path("ed-export.pem"))
	if got, want := ossl("pkey", "-in", "ed-export.pem", "-pubout"), ossl("pkey", "-in", "ed.pem", "-pubout"); got != want {
		t.Errorf("exported Ed25519 key differs")
	}
	// The default (HMAC-SM3) export is not readable by OpenSSL 3.0, and
	// inspect says so.
	r.ok("key", "export", "keyring:release", "--out", r.path("gm.pem"), "--password-file", r.path("new"), fastKDF)
	if out := r.ok("key", "inspect", r.path("gm.pem")); !strings.Contains(out.stdout, "cannot read") {
		t.Errorf("inspect of an HMAC-SM3 key:\n%s", out.stdout)
	}
	r.fails(1, []string{"RSA keys are not supported"}, "key", "import", r.write("rsa.pem", []byte(ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"))), "--name", "rsa", "--no-password")
}

func TestKeyringLifecycleCLI(t *testing.T) {
	r := newRunner(t)
	r.env["HEGUI_KEY_PASSWORD"] = "pw"
	r.ok("key", "generate", "--name", "release", fastKDF)
	r.write("artifact", []byte("v1.0.0"))
	r.ok("sign", "--key", "keyring:release", r.path("artifact"), "--output", r.path("v1.sig"))

	var entries []keyring.Entry
	json.Unmarshal([]byte(r.ok("key", "list", "--json").stdout), &entries)
	if len(entries) != 1 || entries[0].State != keyring.Active {
		t.Fatalf("entries %+v", entries)
	}
	firstID := entries[0].ID

	r.ok("key", "rotate", "release", fastKDF)
	json.Unmarshal([]byte(r.ok("key", "list", "--json").stdout), &entries)
	if len(entries) != 2 || entries[0].State != keyring.Deactivated || entries[1].State != keyring.Active || entries[0].ReplacedBy != entries[1].ID {
		t.Fatalf("after rotate: %+v", entries)
	}
	list := r.ok("key", "list").stdout
	if !strings.Contains(list, "DEACTIVATED") || !strings.Contains(list, firstID[:16]) {
		t.Errorf("list:\n%s", list)
	}

	// The old key can no longer sign, but still verifies its signature.
	r.fails(1, []string{"DEACTIVATED", "replaced by"}, "sign", "--key", "keyring:"+firstID[:12], r.path("artifact"), "--output", r.path("x.sig"))
	r.ok("verify-blob", "--key", "keyring:"+firstID, r.path("artifact"), "--signature", r.path("v1.sig"))
	// The name signs with the new key.
	r.ok("sign", "--key", "keyring:release", r.path("artifact"), "--output", r.path("v2.sig"))
	r.fails(1, []string{"does not match"}, "verify-blob", "--key", "keyring:"+firstID, r.path("artifact"), "--signature", r.path("v2.sig"))

	r.fails(2, []string{"--yes"}, "key", "destroy", firstID)
	r.fails(1, []string{"ACTIVE", "deactivate it first"}, "key", "destroy", "release", "--yes")
	r.ok("key", "destroy", firstID, "--yes")
	r.ok("verify-blob", "--key", "keyring:"+firstID, r.path("artifact"), "--signature", r.path("v1.sig"))
	r.fails(1, []string{"DESTROYED", "no longer exists"}, "sign", "--key", "keyring:"+firstID, r.path("artifact"), "--output", r.path("x.sig"))

	r.ok("key", "deactivate", "release")
	r.fails(1, []string{"no ACTIVE key"}, "sign", "--key", "keyring:release", r.path("artifact"), "--output", r.path("x.sig"))
	if slices.Contains(r.files(), "x.sig") {
		t.Error("a refused signing left a signature file")
	}
}

// slowKDF makes PBKDF2 take seconds, so that a context cancelled shortly
// after a command starts ends it while it derives the key-encryption key.
const slowKDF = "--kdf-iterations=10000000"

// cancelSoon is a context cancelled a fifth of a second from now.
func cancelSoon(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(200*time.Millisecond, cancel)
	t.Cleanup(func() { timer.Stop(); cancel() })
	return ctx
}

// TestKeyWritesInterrupted: a key command whose context is cancelled
// while it stretches the new key's password, or before it starts, exits
// non-zero and writes nothing: no key file, no keyring entry, no rotation.
func TestKeyWritesInterrupted(t *testing.T) {
	r := newRunner(t)
	r.env["HEGUI_KEY_PASSWORD"] = "pw"
	r.genKey("k", "sm2")
	r.ok("key", "generate", "--name", "release", "--no-password")
	keyringFiles := func() []string {
		entries, _ := os.ReadDir(r.env["HEGUI_KEYRING"])
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	files, ringFiles := r.files(), keyringFiles()

	cancelled := func(*testing.T) context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	cases := []struct {
		name string
		ctx  func(*testing.T) context.Context
		args []string
	}{
		{"generate to a file", cancelSoon, []string{"key", "generate", "--out", r.path("new.key"), slowKDF}},
		{"generate into the keyring", cancelSoon, []string{"key", "generate", "--name", "ci", slowKDF}},
		{"rotate", cancelSoon, []string{"key", "rotate", "release", slowKDF}},
		{"import, cancelled before", cancelled, []string{"key", "import", r.path("k.key"), "--out", r.path("imported.key"), fastKDF}},
		{"export, cancelled before", cancelled, []string{"key", "export", r.path("k.key"), "--out", r.path("exported.key"), fastKDF}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.t = t
			res := r.runContext(c.ctx(t), c.args...)
			if res.code != ExitFailure || !strings.Contains(res.stderr, "context canceled") {
				t.Errorf("exit %d, %q; want exit 1 and the cancellation", res.code, res.stderr)
			}
			if now := r.files(); !slices.Equal(now, files) {
				t.Errorf("files now %v, were %v", now, files)
			}
			if now := keyringFiles(); !slices.Equal(now, ringFiles) {
				t.Errorf("keyring files now %v, were %v", now, ringFiles)
			}
		})
	}
	r.t = t
	var entries []keyring.Entry
	json.Unmarshal([]byte(r.ok("key", "list", "--json").stdout), &entries)
	if len(entries) != 1 || entries[0].State != keyring.Active {
		t.Errorf("keyring after interrupted commands: %+v", entries)
	}
}

// TestKeyForceKeepsOldPairOnFailure: --force replaces a key pair only when
// the new pair is complete; an interruption, or a public key that cannot be
// written, leaves the old private and public key as they were.
func TestKeyForceKeepsOldPairOnFailure(t *testing.T) {
	r := newRunner(t)
	r.env["HEGUI_KEY_PASSWORD"] = "pw"
	r.genKey("old", "sm2")
	oldKey, oldPub := r.read("old.key"), r.read("old.pub")
	intact := func(what string) {
		t.Helper()
		if string(r.read("old.key")) != string(oldKey) || string(r.read("old.pub")) != string(oldPub) {
			t.Errorf("%s: the old key pair was changed", what)
		}
		if files := r.files(); !slices.Equal(files, []string{"keyring", "old.key", "old.pub"}) && !slices.Equal(files, []string{"old.key", "old.pub"}) {
			t.Errorf("%s: files left: %v", what, files)
		}
	}

	res := r.runContext(cancelSoon(t), "key", "generate", "--out", r.path("old.key"), "--force", slowKDF)
	if res.code == 0 {
		t.Error("interrupted key generate --force succeeded")
	}
	intact("interrupted")

	r.fails(1, []string{"missing"}, "key", "generate", "--no-password", "--out", r.path("old.key"), "--pub", r.path("missing/dir/old.pub"), "--force")
	intact("public key not writable")

	r.ok("key", "generate", "--no-password", "--out", r.path("old.key"), "--force")
	if string(r.read("old.key")) == string(oldKey) || string(r.read("old.pub")) == string(oldPub) {
		t.Error("key generate --force did not replace the pair")
	}
	r.ok("sign", "--key", r.path("old.key"), r.path("old.key"), "-o", r.path("check.sig"))
	r.ok("verify-blob", "--pub", r.path("old.pub"), r.path("old.key"), "-s", r.path("check.sig"))
}
