package cryptocmd

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/cli/cmdutil/cmdtest"
	"hegui.dev/hegui/internal/peertest"
)

// testEnv is an Env over buffers, with stdin as standard input and an
// empty environment.
func testEnv(stdin []byte) (env *cmdutil.Env, stdout, stderr *bytes.Buffer) {
	return cmdtest.Env(stdin, nil)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

const (
	testKeyHex = "0123456789abcdeffedcba9876543210"
	testIV     = "000102030405060708090a0b0c0d0e0f"
)

// TestRunEncryptOpenSSL: with --iv the ciphertext is byte for byte what
// "openssl enc -sm4-cbc" writes, and decrypt reads OpenSSL's; the key file
// may hold hex or the raw 16 bytes.
func TestRunEncryptOpenSSL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	hexKey, rawKey := filepath.Join(dir, "sm4.hex"), filepath.Join(dir, "sm4.key")
	writeFile(t, hexKey, []byte(testKeyHex+"\n"))
	raw, _ := hex.DecodeString(testKeyHex)
	writeFile(t, rawKey, raw)
	plain := bytes.Repeat([]byte("plaintext 明文 "), 20_000)
	writeFile(t, filepath.Join(dir, "plain"), plain)
	peertest.OpenSSL(t, dir, "enc", "-sm4-cbc", "-K", testKeyHex, "-iv", testIV, "-in", "plain", "-out", "openssl.enc")
	want := readFile(t, filepath.Join(dir, "openssl.enc"))

	for name, keyFile := range map[string]string{"hex": hexKey, "raw": rawKey} {
		out := filepath.Join(dir, name+".enc")
		env, stdout, _ := testEnv(nil)
		if err := RunEncrypt(ctx, env, EncryptOptions{File: filepath.Join(dir, "plain"), KeyFile: keyFile, IV: testIV, Out: out}); err != nil {
			t.Fatalf("%s key: %v", name, err)
		}
		if !bytes.Equal(readFile(t, out), want) {
			t.Errorf("%s key: the ciphertext differs from openssl enc -sm4-cbc", name)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s key: encrypt printed %q", name, stdout)
		}
		if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s key: output mode %v (%v), want 0600", name, fi.Mode(), err)
		}
	}

	back := filepath.Join(dir, "back")
	env, _, _ := testEnv(nil)
	if err := RunDecrypt(ctx, env, DecryptOptions{File: filepath.Join(dir, "openssl.enc"), KeyFile: hexKey, IV: testIV, Out: back}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, back), plain) {
		t.Error("the decrypted OpenSSL ciphertext differs from the plaintext")
	}
	// And OpenSSL decrypts what encrypt wrote.
	peertest.OpenSSL(t, dir, "enc", "-d", "-sm4-cbc", "-K", testKeyHex, "-iv", testIV, "-in", "raw.enc", "-out", "openssl.out")
	if !bytes.Equal(readFile(t, filepath.Join(dir, "openssl.out")), plain) {
		t.Error("openssl enc -d does not give the plaintext back")
	}
}

// TestRunEncryptRandomIV: without --iv a new random IV goes in front of the
// ciphertext and decrypt takes it from there; standard input and output
// work as "-".
func TestRunEncryptRandomIV(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "sm4.hex")
	writeFile(t, keyFile, []byte(testKeyHex))
	plain := []byte("sixteen bytes!!!and some more")

	encrypt := func() []byte {
		t.Helper()
		env, stdout, _ := testEnv(plain)
		if err := RunEncrypt(ctx, env, EncryptOptions{KeyFile: keyFile, Out: "-"}); err != nil {
			t.Fatal(err)
		}
		return stdout.Bytes()
	}
	c1, c2 := encrypt(), encrypt()
	if len(c1) != 16+32 {
		t.Errorf("ciphertext of %d bytes, want an IV and two blocks (48)", len(c1))
	}
	if bytes.Equal(c1[:16], c2[:16]) {
		t.Error("two encryptions used the same IV")
	}
	// The IV in front is the one the ciphertext was made with.
	env, _, _ := testEnv(nil)
	withIV := filepath.Join(dir, "with-iv.enc")
	writeFile(t, filepath.Join(dir, "plain"), plain)
	if err := RunEncrypt(ctx, env, EncryptOptions{File: filepath.Join(dir, "plain"), KeyFile: keyFile, IV: hex.EncodeToString(c1[:16]), Out: withIV}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, withIV), c1[16:]) {
		t.Error("the ciphertext behind the IV is not SM4-CBC under that IV")
	}

	env, stdout, _ := testEnv(c1)
	if err := RunDecrypt(ctx, env, DecryptOptions{File: "-", KeyFile: keyFile, Out: "-"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), plain) {
		t.Errorf("decrypted %q, want %q", stdout, plain)
	}

	env, _, _ = testEnv(c1[:10])
	if err := RunDecrypt(ctx, env, DecryptOptions{KeyFile: keyFile, Out: "-"}); err == nil || !strings.Contains(err.Error(), "-: too short to hold an IV") {
		t.Errorf("decrypt of 10 bytes: %v", err)
	}
}

// TestRunDecryptFailures: a wrong key, a cut ciphertext and an existing
// output fail, and a failed decryption leaves no output file.
func TestRunDecryptFailures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile, otherKey := filepath.Join(dir, "sm4.hex"), filepath.Join(dir, "other.hex")
	writeFile(t, keyFile, []byte(testKeyHex))
	writeFile(t, otherKey, []byte("ffeeddccbbaa99887766554433221100"))
	writeFile(t, filepath.Join(dir, "plain"), bytes.Repeat([]byte("secret "), 1000))
	enc := filepath.Join(dir, "plain.enc")
	env, _, _ := testEnv(nil)
	if err := RunEncrypt(ctx, env, EncryptOptions{File: filepath.Join(dir, "plain"), KeyFile: keyFile, Out: enc}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "cut.enc"), readFile(t, enc)[:100])
	writeFile(t, filepath.Join(dir, "exists"), []byte("keep me"))

	for _, c := range []struct {
		name string
		o    DecryptOptions
		want string
	}{
		{"wrong key", DecryptOptions{File: enc, KeyFile: otherKey, Out: filepath.Join(dir, "bad.out")}, "padding"},
		{"cut ciphertext", DecryptOptions{File: filepath.Join(dir, "cut.enc"), KeyFile: keyFile, Out: filepath.Join(dir, "bad.out")}, "partial block"},
		{"existing output", DecryptOptions{File: enc, KeyFile: keyFile, Out: filepath.Join(dir, "exists")}, "already exists (use --force"},
		{"not a key", DecryptOptions{File: enc, KeyFile: filepath.Join(dir, "plain"), Out: filepath.Join(dir, "bad.out")}, "must hold 16 bytes or 32 hex digits"},
		{"missing key", DecryptOptions{File: enc, KeyFile: filepath.Join(dir, "nokey"), Out: filepath.Join(dir, "bad.out")}, "read SM4 key"},
	} {
		env, _, _ := testEnv(nil)
		err := RunDecrypt(ctx, env, c.o)
		var u cmdutil.UsageError
		if err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a failure saying %q", c.name, err, c.want)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "bad.out") {
			t.Errorf("a failed decryption left %s", e.Name())
		}
	}
	if got := readFile(t, filepath.Join(dir, "exists")); string(got) != "keep me" {
		t.Errorf("an existing output was changed to %q", got)
	}
	// With Force it is replaced.
	env, _, _ = testEnv(nil)
	if err := RunDecrypt(ctx, env, DecryptOptions{File: enc, KeyFile: keyFile, Out: filepath.Join(dir, "exists"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, "exists")), readFile(t, filepath.Join(dir, "plain"))) {
		t.Error("--force did not replace the output with the plaintext")
	}
}

// TestRunEncryptUsageErrors: missing or malformed options are usage errors
// (exit 2), checked before anything is read or written.
func TestRunEncryptUsageErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "sm4.hex")
	writeFile(t, keyFile, []byte(testKeyHex))
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		name string
		o    EncryptOptions
		want string
	}{
		{"no key", EncryptOptions{Out: out}, "--key-file is required"},
		{"no output", EncryptOptions{KeyFile: keyFile}, "--out is required"},
		{"short IV", EncryptOptions{KeyFile: keyFile, Out: out, IV: "00"}, "--iv must be 32 hex digits"},
		{"IV not hex", EncryptOptions{KeyFile: keyFile, Out: out, IV: strings.Repeat("g", 32)}, "--iv must be 32 hex digits"},
	} {
		for _, cmd := range []string{"encrypt", "decrypt"} {
			env, stdout, _ := testEnv([]byte("data"))
			var err error
			if cmd == "encrypt" {
				err = RunEncrypt(ctx, env, c.o)
			} else {
				err = RunDecrypt(ctx, env, DecryptOptions(c.o))
			}
			var u cmdutil.UsageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, %s: %v, want a usage error saying %q", cmd, c.name, err, c.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("%s, %s: printed %q", cmd, c.name, stdout)
			}
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused command wrote its output")
	}
}
