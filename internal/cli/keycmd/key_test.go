package keycmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/keyring"
	"hegui.dev/hegui/keys"
)

// fastIterations keeps PBKDF2 quick: the command line's default costs
// about half a second per key.
const fastIterations = keys.MinIterations

// harness is what a test of the run functions needs: an Env with its
// output in buffers, environment variables from vars, a keyring in a
// temporary directory and no terminal, and a directory for files.
type harness struct {
	t              *testing.T
	env            *cmdutil.Env
	stdout, stderr *bytes.Buffer
	vars           map[string]string
	dir            string
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), vars: map[string]string{}, dir: t.TempDir()}
	h.env = &cmdutil.Env{
		Stdin:  strings.NewReader(""),
		Stdout: h.stdout,
		Stderr: h.stderr,
		Getenv: func(name string) string { return h.vars[name] },
		ReadPassword: func(string) ([]byte, error) {
			return nil, errors.New("no terminal to ask for a password")
		},
		KeyringDir: filepath.Join(h.dir, "keyring"),
	}
	return h
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

// reset empties stdout and stderr before the next run.
func (h *harness) reset() {
	h.stdout.Reset()
	h.stderr.Reset()
}

// passwordFile writes password to the file name and returns the source
// --password-file FILE makes of it.
func (h *harness) passwordFile(name, password string) *cmdutil.PasswordSource {
	h.t.Helper()
	if err := os.WriteFile(h.path(name), []byte(password+"\n"), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return &cmdutil.PasswordSource{Env: h.env, File: h.path(name)}
}

// keyID decrypts the private key file at path with password ("" for an
// unencrypted key) and returns the key's ID.
func keyID(path, password string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	priv, err := keys.ParsePrivateKey(data, func() ([]byte, error) { return []byte(password), nil })
	if err != nil {
		return "", err
	}
	return keys.ID(priv.Public())
}

// publicKeyID reads the public key file at path and returns its key ID.
func publicKeyID(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ParsePublicKey(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	id, _ := keys.ID(pub)
	return id
}

// writeEncryptedKey writes a new key of alg encrypted with password, as
// another tool would, and returns its ID.
func writeEncryptedKey(t *testing.T, path string, alg keys.Algorithm, password string) string {
	t.Helper()
	priv, err := keys.Generate(alg, nil)
	if err != nil {
		t.Fatal(err)
	}
	prot := keys.DefaultProtection(alg)
	prot.Iterations = fastIterations
	data, err := keys.EncryptPrivateKeyPEM(priv, []byte(password), prot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	id, _ := keys.ID(priv.Public())
	return id
}

func isUsageError(err error) bool {
	var usage cmdutil.UsageError
	return errors.As(err, &usage)
}

// generateInKeyring runs RunKeyGenerate for an unencrypted keyring key and
// returns what it reported.
func generateInKeyring(h *harness, name string) Result {
	h.t.Helper()
	h.reset()
	o := KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Name: name, NoPassword: true, Iterations: fastIterations}, JSON: true}
	if err := RunKeyGenerate(context.Background(), h.env, o); err != nil {
		h.t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil {
		h.t.Fatalf("%v\n%s", err, h.stdout)
	}
	return res
}

// TestRunKeyGenerate: a key of each algorithm goes to a file pair,
// encrypted with the password of the password file, and into the keyring
// with the password of $HEGUI_KEY_PASSWORD.
func TestRunKeyGenerate(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, alg := range keys.Algorithms {
		h.reset()
		out := h.path(string(alg) + ".key")
		o := KeyGenerateOptions{Algorithm: string(alg), KeyOutput: KeyOutput{Out: out, Iterations: fastIterations, Password: h.passwordFile("pw", "s3cret")}}
		if err := RunKeyGenerate(ctx, h.env, o); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		id, err := keyID(out, "s3cret")
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		want := "Generated " + string(alg) + " key " + id + "\n  private key:  " + out + "\n  public key:   " + h.path(string(alg)+".pub") + "\n  protection:   PBES2"
		if !strings.HasPrefix(h.stdout.String(), want) {
			t.Errorf("%s: stdout:\n%s\nwant it to begin\n%s", alg, h.stdout, want)
		}
		if _, err := keyID(out, "wrong"); !errors.Is(err, keys.ErrWrongPassword) {
			t.Errorf("%s: the key opens with a wrong password: %v", alg, err)
		}
		if got := publicKeyID(t, h.path(string(alg)+".pub")); got != id {
			t.Errorf("%s: public key ID %s, private key ID %s", alg, got, id)
		}
		if fi, err := os.Stat(out); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: key file mode %v, want 0600", alg, fi.Mode())
		}
	}

	h.reset()
	h.vars[cmdutil.EnvKeyPassword] = "from-env"
	o := KeyGenerateOptions{Algorithm: "ecdsa-p256", KeyOutput: KeyOutput{Name: "ci", Iterations: fastIterations}, JSON: true}
	if err := RunKeyGenerate(ctx, h.env, o); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, h.stdout)
	}
	if res.Name != "ci" || res.State != keyring.Active || res.Algorithm != keys.ECDSAP256 || res.Protection == nil || res.Protection.Iterations != fastIterations ||
		res.PrivateKey != filepath.Join(h.env.KeyringDir, res.ID+".key") {
		t.Errorf("keyring result %+v", res)
	}
	if id, err := keyID(res.PrivateKey, "from-env"); err != nil || id != res.ID {
		t.Errorf("the keyring key does not open with $%s: %s, %v", cmdutil.EnvKeyPassword, id, err)
	}
}

// TestRunKeyGenerateRefused: usage errors for what the command line got
// wrong; plain errors for a missing password and an existing file. None
// writes anything.
func TestRunKeyGenerateRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	out := h.path("new.key")
	usage := []struct {
		name string
		o    KeyGenerateOptions
		want string
	}{
		{"no destination", KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Iterations: fastIterations}}, "give --out FILE"},
		{"unknown algorithm", KeyGenerateOptions{Algorithm: "rsa", KeyOutput: KeyOutput{Out: out, Iterations: fastIterations}}, "rsa"},
		{"file and keyring", KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Out: out, Name: "ci", Iterations: fastIterations}}, "exclude each other"},
		{"keyring and --pub", KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Name: "ci", Pub: h.path("ci.pub"), Iterations: fastIterations}}, "--pub applies to --out"},
		{"no iterations", KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Out: out}}, "--kdf-iterations must be between"},
		{"directory for --out", KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Out: h.dir, Iterations: fastIterations}}, "give --pub FILE"},
	}
	for _, c := range usage {
		err := RunKeyGenerate(ctx, h.env, c.o)
		if !isUsageError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want a usage error with %q", c.name, err, c.want)
		}
	}

	err := RunKeyGenerate(ctx, h.env, KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Out: out, Iterations: fastIterations}})
	if err == nil || isUsageError(err) || !strings.Contains(err.Error(), "no terminal") || !strings.Contains(err.Error(), "--password-file") {
		t.Errorf("no password: %v", err)
	}
	if entries, _ := os.ReadDir(h.dir); len(entries) != 0 {
		t.Errorf("refused commands left %v", entries)
	}

	if err := os.WriteFile(out, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = RunKeyGenerate(ctx, h.env, KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Out: out, NoPassword: true, Iterations: fastIterations}})
	if err == nil || !strings.Contains(err.Error(), "already exists (use --force") {
		t.Errorf("existing file: %v", err)
	}
	if data, _ := os.ReadFile(out); string(data) != "precious" {
		t.Error("an existing file was overwritten without Force")
	}
	if err := RunKeyGenerate(ctx, h.env, KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Out: out, NoPassword: true, Iterations: fastIterations, Force: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := keyID(out, ""); err != nil {
		t.Errorf("Force did not replace the file with an unencrypted key: %v", err)
	}
}

// TestRunKeyImport: an encrypted key is re-encrypted under the new
// password, or under its own when there is no new one; a wrong password or
// a missing file is an error that names the file.
func TestRunKeyImport(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	src := h.path("openssl.pem")
	id := writeEncryptedKey(t, src, keys.SM2, "old")

	h.vars[cmdutil.EnvNewKeyPassword] = "new"
	out := h.path("imported.key")
	o := KeyImportOptions{File: src, KeyPassword: h.passwordFile("old.pass", "old"), KeyOutput: KeyOutput{Out: out, Iterations: fastIterations}}
	if err := RunKeyImport(ctx, h.env, o); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.stdout.String(), "Imported sm2 key "+id+"\n") {
		t.Errorf("stdout:\n%s", h.stdout)
	}
	if got, err := keyID(out, "new"); err != nil || got != id {
		t.Errorf("imported key with the new password: %s, %v", got, err)
	}
	if _, err := keyID(out, "old"); !errors.Is(err, keys.ErrWrongPassword) {
		t.Errorf("imported key with the old password: %v", err)
	}

	delete(h.vars, cmdutil.EnvNewKeyPassword)
	h.reset()
	o = KeyImportOptions{File: src, KeyPassword: h.passwordFile("old.pass", "old"), KeyOutput: KeyOutput{Name: "release", Iterations: fastIterations}, JSON: true}
	if err := RunKeyImport(ctx, h.env, o); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil || res.ID != id || res.Name != "release" {
		t.Fatalf("import into the keyring: %v, %+v", err, res)
	}
	if got, err := keyID(res.PrivateKey, "old"); err != nil || got != id {
		t.Errorf("without a new password the stored key keeps the old one: %s, %v", got, err)
	}

	out = h.path("never.key")
	o = KeyImportOptions{File: src, KeyPassword: h.passwordFile("bad.pass", "nope"), KeyOutput: KeyOutput{Out: out, NoPassword: true, Iterations: fastIterations}}
	if err := RunKeyImport(ctx, h.env, o); !errors.Is(err, keys.ErrWrongPassword) || !strings.Contains(err.Error(), src) {
		t.Errorf("wrong password: %v", err)
	}
	o.File = h.path("missing.pem")
	if err := RunKeyImport(ctx, h.env, o); err == nil || isUsageError(err) || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed import wrote a key")
	}
	o.Out = ""
	if err := RunKeyImport(ctx, h.env, o); !isUsageError(err) {
		t.Errorf("no destination: %v, want a usage error", err)
	}
}

// TestRunKeyExport: a keyring key is exported for OpenSSL, with hegui's
// protection and as a public key; a missing key, a wrong password and a
// missing --out are refused.
func TestRunKeyExport(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.vars[cmdutil.EnvKeyPassword] = "pw"
	if err := RunKeyGenerate(ctx, h.env, KeyGenerateOptions{Algorithm: "sm2", KeyOutput: KeyOutput{Name: "release", Iterations: fastIterations}, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var gen Result
	if err := json.Unmarshal(h.stdout.Bytes(), &gen); err != nil {
		t.Fatal(err)
	}

	for _, forOpenSSL := range []bool{true, false} {
		h.reset()
		out := h.path("export.pem")
		o := KeyExportOptions{Key: "keyring:release", KeyOutput: KeyOutput{Out: out, OpenSSL: forOpenSSL, Iterations: fastIterations, Force: true}}
		if err := RunKeyExport(ctx, h.env, o); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.stdout.String(), "Exported sm2 key "+gen.ID+"\n") {
			t.Errorf("stdout:\n%s", h.stdout)
		}
		data, _ := os.ReadFile(out)
		info, err := keys.Inspect(data)
		if err != nil || info.Protection == nil || info.Protection.OpenSSLReadable() != forOpenSSL {
			t.Errorf("OpenSSL %v: exported %+v, %v", forOpenSSL, info, err)
		}
		if id, err := keyID(out, "pw"); err != nil || id != gen.ID {
			t.Errorf("OpenSSL %v: the copy with the key's password: %s, %v", forOpenSSL, id, err)
		}
	}

	h.reset()
	pub := h.path("release.pub")
	if err := RunKeyExport(ctx, h.env, KeyExportOptions{Key: "keyring:release", Public: true, KeyOutput: KeyOutput{Out: pub}}); err != nil {
		t.Fatal(err)
	}
	if got := publicKeyID(t, pub); got != gen.ID {
		t.Errorf("public key ID %s, want %s", got, gen.ID)
	}
	if strings.Contains(h.stdout.String(), "private key") {
		t.Errorf("a public export reports a private key:\n%s", h.stdout)
	}

	refused := []struct {
		name  string
		o     KeyExportOptions
		usage bool
		want  string
	}{
		{"no --out", KeyExportOptions{Key: "keyring:release", KeyOutput: KeyOutput{Iterations: fastIterations}}, true, "--out is required"},
		{"no --out, public", KeyExportOptions{Key: "keyring:release", Public: true}, true, "--out is required"},
		{"missing key", KeyExportOptions{Key: "keyring:nope", KeyOutput: KeyOutput{Out: h.path("x.pem"), Iterations: fastIterations}}, false, `no key named or with ID "nope"`},
		{"wrong password", KeyExportOptions{Key: "keyring:release", KeyPassword: h.passwordFile("bad", "wrong"), KeyOutput: KeyOutput{Out: h.path("x.pem"), NoPassword: true, Iterations: fastIterations}}, false, "wrong password"},
	}
	for _, c := range refused {
		err := RunKeyExport(ctx, h.env, c.o)
		if err == nil || isUsageError(err) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q (usage error: %v)", c.name, err, c.want, c.usage)
		}
	}
	if _, err := os.Stat(h.path("x.pem")); err == nil {
		t.Error("a refused export wrote a file")
	}
}

// TestRunKeyInspect: an encrypted key is described without its password,
// and with it under Decrypt; public and unencrypted keys show their ID.
func TestRunKeyInspect(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	enc := h.path("enc.key")
	id := writeEncryptedKey(t, enc, keys.SM2, "s3cret")

	// No password anywhere: the run must not ask for one.
	if err := RunKeyInspect(ctx, h.env, KeyInspectOptions{File: enc}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"encrypted PKCS#8", "PBKDF2-HMAC-SM3", "cannot read this encryption", "(encrypted; add --decrypt to see it)"} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("inspect without --decrypt lacks %q:\n%s", want, h.stdout)
		}
	}

	h.reset()
	if err := RunKeyInspect(ctx, h.env, KeyInspectOptions{File: enc, Decrypt: true, Password: h.passwordFile("pw", "s3cret"), JSON: true}); err != nil {
		t.Fatal(err)
	}
	var ins Inspection
	if err := json.Unmarshal(h.stdout.Bytes(), &ins); err != nil {
		t.Fatal(err)
	}
	if ins.Kind != "private key" || ins.Format != keys.FormatEncryptedPKCS8 || ins.ID != id || ins.Algorithm != keys.SM2 || ins.Protection == nil || ins.OpenSSLReadable {
		t.Errorf("inspect --decrypt: %+v", ins)
	}

	h.reset()
	if err := RunKeyExport(ctx, h.env, KeyExportOptions{Key: enc, Public: true, KeyPassword: h.passwordFile("pw", "s3cret"), KeyOutput: KeyOutput{Out: h.path("enc.pub")}}); err != nil {
		t.Fatal(err)
	}
	h.reset()
	if err := RunKeyInspect(ctx, h.env, KeyInspectOptions{File: h.path("enc.pub"), JSON: true}); err != nil {
		t.Fatal(err)
	}
	ins = Inspection{}
	if err := json.Unmarshal(h.stdout.Bytes(), &ins); err != nil || ins.Kind != "public key" || ins.ID != id || !ins.PEM || !ins.OpenSSLReadable {
		t.Errorf("inspect of a public key: %v, %+v", err, ins)
	}

	h.reset()
	plain := h.path("plain.key")
	if err := RunKeyGenerate(ctx, h.env, KeyGenerateOptions{Algorithm: "ed25519", KeyOutput: KeyOutput{Out: plain, NoPassword: true, Iterations: fastIterations}}); err != nil {
		t.Fatal(err)
	}
	plainID, _ := keyID(plain, "")
	h.reset()
	if err := RunKeyInspect(ctx, h.env, KeyInspectOptions{File: plain}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Protection:   none (unencrypted)", "can read this file", "Algorithm:    ed25519", "Key ID:       " + plainID} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("inspect of an unencrypted key lacks %q:\n%s", want, h.stdout)
		}
	}

	if err := RunKeyInspect(ctx, h.env, KeyInspectOptions{File: enc, Decrypt: true, Password: h.passwordFile("bad", "wrong")}); !errors.Is(err, keys.ErrWrongPassword) || !strings.Contains(err.Error(), enc) {
		t.Errorf("wrong password: %v", err)
	}
	if err := os.WriteFile(h.path("garbage"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RunKeyInspect(ctx, h.env, KeyInspectOptions{File: h.path("garbage")}); err == nil || !strings.Contains(err.Error(), "garbage") {
		t.Errorf("garbage: %v", err)
	}
}

// TestRunKeyringLifecycle walks a keyring name through list, rotate,
// destroy and deactivate, with the refusals on the way.
func TestRunKeyringLifecycle(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	list := func() []keyring.Entry {
		t.Helper()
		h.reset()
		if err := RunKeyList(ctx, h.env, KeyListOptions{JSON: true}); err != nil {
			t.Fatal(err)
		}
		var entries []keyring.Entry
		if err := json.Unmarshal(h.stdout.Bytes(), &entries); err != nil {
			t.Fatalf("%v\n%s", err, h.stdout)
		}
		return entries
	}

	if entries := list(); entries == nil || len(entries) != 0 {
		t.Errorf("empty keyring as JSON: %q", h.stdout)
	}
	h.reset()
	if err := RunKeyList(ctx, h.env, KeyListOptions{}); err != nil {
		t.Fatal(err)
	}
	if h.stdout.Len() != 0 || !strings.Contains(h.stderr.String(), "is empty") {
		t.Errorf("empty keyring: stdout %q, stderr %q", h.stdout, h.stderr)
	}

	first := generateInKeyring(h, "release")

	for _, c := range []struct {
		name  string
		o     KeyRotateOptions
		usage bool
		want  string
	}{
		{"unknown algorithm", KeyRotateOptions{Name: "release", Algorithm: "rsa", NoPassword: true}, true, "rsa"},
		{"unknown name", KeyRotateOptions{Name: "nope", NoPassword: true}, false, `no key named or with ID "nope"`},
		{"no password", KeyRotateOptions{Name: "release", Iterations: fastIterations}, false, "no terminal"},
	} {
		err := RunKeyRotate(ctx, h.env, c.o)
		if err == nil || isUsageError(err) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rotate, %s: %v; want %q (usage error: %v)", c.name, err, c.want, c.usage)
		}
	}
	if entries := list(); len(entries) != 1 {
		t.Fatalf("refused rotations changed the keyring: %+v", entries)
	}

	h.reset()
	h.vars[cmdutil.EnvKeyPassword] = "pw"
	if err := RunKeyRotate(ctx, h.env, KeyRotateOptions{Name: "release", Algorithm: "ed25519", Iterations: fastIterations, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var rotated map[string]keyring.Entry
	if err := json.Unmarshal(h.stdout.Bytes(), &rotated); err != nil {
		t.Fatal(err)
	}
	fresh, prev := rotated["active"], rotated["deactivated"]
	if fresh.Algorithm != keys.Ed25519 || fresh.Replaces != first.ID || fresh.Protection == nil || prev.ID != first.ID || prev.ReplacedBy != fresh.ID {
		t.Errorf("rotate: %+v", rotated)
	}
	if id, err := keyID(filepath.Join(h.env.KeyringDir, fresh.ID+".key"), "pw"); err != nil || id != fresh.ID {
		t.Errorf("the new key with $%s: %s, %v", cmdutil.EnvKeyPassword, id, err)
	}

	h.reset()
	if err := RunKeyList(ctx, h.env, KeyListOptions{}); err != nil {
		t.Fatal(err)
	}
	table := h.stdout.String()
	for _, want := range []string{"KEY ID", keys.ShortID(first.ID), keys.ShortID(fresh.ID), "DEACTIVATED", "ACTIVE", "yes", "no"} {
		if !strings.Contains(table, want) {
			t.Errorf("list lacks %q:\n%s", want, table)
		}
	}

	if err := RunKeyDestroy(ctx, h.env, KeyDestroyOptions{Key: first.ID}); !isUsageError(err) || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("destroy without Yes: %v", err)
	}
	if err := RunKeyDestroy(ctx, h.env, KeyDestroyOptions{Key: "release", Yes: true}); err == nil || !strings.Contains(err.Error(), "deactivate it first") {
		t.Errorf("destroy of the ACTIVE key: %v", err)
	}
	if _, err := os.Stat(first.PrivateKey); err != nil {
		t.Fatalf("a refused destroy removed the private key: %v", err)
	}
	h.reset()
	if err := RunKeyDestroy(ctx, h.env, KeyDestroyOptions{Key: cmdutil.KeyringScheme + first.ID[:12], Yes: true}); err != nil {
		t.Fatal(err)
	}
	if want := "Destroyed the private key of " + first.ID + " (release)"; !strings.HasPrefix(h.stdout.String(), want) {
		t.Errorf("destroy: %q, want %q", h.stdout, want)
	}
	if _, err := os.Stat(first.PrivateKey); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the destroyed private key is still there: %v", err)
	}
	// A destroyed key still has its public key, for verification.
	pub := h.path("first.pub")
	if err := RunKeyExport(ctx, h.env, KeyExportOptions{Key: cmdutil.KeyringScheme + first.ID, Public: true, KeyOutput: KeyOutput{Out: pub}}); err != nil {
		t.Fatal(err)
	}
	if got := publicKeyID(t, pub); got != first.ID {
		t.Errorf("public key of the destroyed key: %s, want %s", got, first.ID)
	}

	h.reset()
	if err := RunKeyDeactivate(ctx, h.env, KeyDeactivateOptions{Key: "keyring:release"}); err != nil {
		t.Fatal(err)
	}
	if want := "Deactivated " + fresh.ID + " (release)"; !strings.HasPrefix(h.stdout.String(), want) {
		t.Errorf("deactivate: %q, want %q", h.stdout, want)
	}
	entries := list()
	if len(entries) != 2 || entries[0].State != keyring.Destroyed || entries[1].State != keyring.Deactivated {
		t.Errorf("after destroy and deactivate: %+v", entries)
	}
	if err := RunKeyDeactivate(ctx, h.env, KeyDeactivateOptions{Key: "release"}); err == nil || !strings.Contains(err.Error(), "no ACTIVE key") {
		t.Errorf("deactivate of a name without an ACTIVE key: %v", err)
	}
}

// TestRunKeyAuditLog runs key commands against a real log server whose
// writer may log key.generate only: the generation is recorded, the
// deactivation happens but fails for want of a record.
func TestRunKeyAuditLog(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	home, err := logserver.Init(filepath.Join(h.dir, "log"), logserver.InitOptions{Origin: "test.example/audit", NoSM2: true})
	if err != nil {
		t.Fatal(err)
	}
	token, err := logserver.AddToken(home.Dir, "ci", []string{"key.generate"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := logserver.New(ctx, logserver.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close(context.Background())
	})
	h.vars["HEGUI_AUDIT_LOG"] = hs.URL
	h.vars[cmdutil.EnvLogToken] = token

	res := generateInKeyring(h, "release")
	if !strings.Contains(h.stderr.String(), "recorded as entry 0 of the audit log") {
		t.Errorf("generate: stderr %q", h.stderr)
	}

	h.reset()
	err = RunKeyDeactivate(ctx, h.env, KeyDeactivateOptions{Key: "release"})
	if err == nil || !strings.Contains(err.Error(), "key.deactivate of key "+keys.ShortID(res.ID)+" succeeded but was not recorded") {
		t.Errorf("deactivate: %v", err)
	}
	ring, _ := keyring.Open(h.env.KeyringDir)
	if e, err := ring.Find(res.ID); err != nil || e.State != keyring.Deactivated {
		t.Errorf("the key was not deactivated although the log refused the record: %+v, %v", e, err)
	}
}
