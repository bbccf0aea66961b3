package signcmd

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/cli/cmdutil/cmdtest"
	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
)

// testEnv is an Env over buffers: standard input is stdin, the environment
// is vars, and there is no terminal to ask for a password.
func testEnv(stdin []byte, vars map[string]string) (env *cmdutil.Env, stdout, stderr *bytes.Buffer) {
	return cmdtest.Env(stdin, vars)
}

// testKey writes a new unencrypted private key of alg to dir/name.key and
// its public key to dir/name.pub.
func testKey(t *testing.T, dir, name string, alg keys.Algorithm) (keyPath, pubPath string, signer crypto.Signer) {
	t.Helper()
	signer, err := keys.Generate(alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.MarshalPrivateKeyPEM(signer)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.MarshalPublicKeyPEM(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	keyPath, pubPath = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	writeFile(t, keyPath, priv)
	writeFile(t, pubPath, pub)
	return keyPath, pubPath, signer
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

func keyID(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	id, err := keys.ID(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func isUsageError(err error) bool {
	var u cmdutil.UsageError
	return errors.As(err, &u)
}

// TestRunSignAndVerifyBlob signs with each algorithm and verifies with the
// public key, with the private key file, and against a changed file, a
// signature of another key and another SM2 ID.
func TestRunSignAndVerifyBlob(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []keys.Algorithm{keys.SM2, keys.ECDSAP256, keys.Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			dir := t.TempDir()
			keyPath, pubPath, signer := testKey(t, dir, "release", alg)
			_, otherPub, _ := testKey(t, dir, "other", alg)
			id := keyID(t, signer.Public())
			file := filepath.Join(dir, "app.bin")
			data := bytes.Repeat([]byte("release artifact\n"), 20_000)
			writeFile(t, file, data)
			sig := filepath.Join(dir, "app.sig")

			env, stdout, _ := testEnv(nil, nil)
			if err := RunSign(ctx, env, SignOptions{Files: []string{file}, Key: keyPath, Output: sig}); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("Signed %s: %s (%s, key %s)\n", file, sig, alg, keys.ShortID(id)); stdout.String() != want {
				t.Errorf("sign printed %q, want %q", stdout, want)
			}
			if alg == keys.Ed25519 && len(readFile(t, sig)) != 64 {
				t.Errorf("Ed25519 signature of %d bytes, want 64", len(readFile(t, sig)))
			}

			for name, o := range map[string]VerifyBlobOptions{
				"--pub":           {File: file, Signature: sig, Pub: pubPath},
				"--key (private)": {File: file, Signature: sig, Key: keyPath},
			} {
				env, stdout, _ := testEnv(nil, nil)
				if err := RunVerifyBlob(ctx, env, o); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if want := fmt.Sprintf("Verified OK: %s (%s, key %s)\n", file, alg, keys.ShortID(id)); stdout.String() != want {
					t.Errorf("%s printed %q, want %q", name, stdout, want)
				}
			}

			changed := filepath.Join(dir, "changed.bin")
			writeFile(t, changed, append(bytes.Clone(data[:len(data)-1]), '?'))
			failures := map[string]VerifyBlobOptions{
				"changed file": {File: changed, Signature: sig, Pub: pubPath},
				"another key":  {File: file, Signature: sig, Pub: otherPub},
			}
			if alg == keys.SM2 {
				failures["another SM2 ID"] = VerifyBlobOptions{File: file, Signature: sig, Pub: pubPath, SM2ID: "alice@example.cn"}
			}
			for name, o := range failures {
				env, stdout, _ := testEnv(nil, nil)
				err := RunVerifyBlob(ctx, env, o)
				if err == nil || !strings.Contains(err.Error(), "does not match") || isUsageError(err) {
					t.Errorf("%s: %v, want a failure to match (not a usage error)", name, err)
				}
				if alg == keys.SM2 && err != nil && !strings.Contains(err.Error(), "distid:1234567812345678") {
					t.Errorf("%s: %v, want the hint about SM2 IDs", name, err)
				}
				if stdout.Len() != 0 {
					t.Errorf("%s printed %q on failure", name, stdout)
				}
			}
		})
	}
}

// TestRunSignJSON signs several files beside themselves and reads the
// results, then verifies them with JSON output, passing and failing.
func TestRunSignJSON(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyPath, pubPath, signer := testKey(t, dir, "release", keys.ECDSAP256)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, []byte("a"))
	writeFile(t, b, []byte("b"))

	env, stdout, _ := testEnv(nil, nil)
	if err := RunSign(ctx, env, SignOptions{Files: []string{a, b}, Key: keyPath, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var results []SignResult
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	id := keyID(t, signer.Public())
	want := []SignResult{
		{File: a, Signature: a + ".sig", Algorithm: keys.ECDSAP256, KeyID: id},
		{File: b, Signature: b + ".sig", Algorithm: keys.ECDSAP256, KeyID: id},
	}
	if fmt.Sprint(results) != fmt.Sprint(want) {
		t.Errorf("results %+v, want %+v", results, want)
	}

	verify := func(o VerifyBlobOptions) (VerifyResult, error) {
		t.Helper()
		env, stdout, _ := testEnv(nil, nil)
		err := RunVerifyBlob(ctx, env, o)
		var res VerifyResult
		if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil {
			t.Fatalf("verify-blob --json printed %q: %v", stdout, jerr)
		}
		return res, err
	}
	res, err := verify(VerifyBlobOptions{File: b, Pub: pubPath, JSON: true})
	if err != nil || !res.Verified || res.Signature != b+".sig" || res.Algorithm != keys.ECDSAP256 || res.KeyID != id || res.Error != "" {
		t.Errorf("b: %+v, %v", res, err)
	}
	// a's signature does not fit b: a failure, reported in the JSON too.
	res, err = verify(VerifyBlobOptions{File: b, Signature: a + ".sig", Pub: pubPath, JSON: true})
	if err == nil || res.Verified || !strings.Contains(res.Error, "does not match") || res.KeyID != id {
		t.Errorf("b against a's signature: %+v, %v", res, err)
	}
}

// TestRunSignStandardInput signs and verifies what comes on standard input.
func TestRunSignStandardInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyPath, pubPath, _ := testKey(t, dir, "release", keys.SM2)
	data := []byte("streamed\n")
	sig := filepath.Join(dir, "stdin.sig")

	env, _, _ := testEnv(data, nil)
	if err := RunSign(ctx, env, SignOptions{Files: []string{"-"}, Key: keyPath, Output: sig}); err != nil {
		t.Fatal(err)
	}
	env, _, _ = testEnv(data, nil)
	if err := RunVerifyBlob(ctx, env, VerifyBlobOptions{File: "-", Signature: sig, Pub: pubPath}); err != nil {
		t.Errorf("verify standard input: %v", err)
	}
	env, _, _ = testEnv([]byte("streamed?\n"), nil)
	if err := RunVerifyBlob(ctx, env, VerifyBlobOptions{File: "-", Signature: sig, Pub: pubPath}); err == nil {
		t.Error("other data on standard input verified")
	}
}

// TestRunSignOpenSSL checks the signatures against OpenSSL 3 both ways,
// SM2 with its default ID and with another, and ECDSA; a base64 signature
// verifies as the binary one does.
func TestRunSignOpenSSL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ossl := func(args ...string) string { return peertest.OpenSSL(t, dir, args...) }
	msg := filepath.Join(dir, "msg")
	writeFile(t, msg, bytes.Repeat([]byte{7, 0, 1}, 100_000))

	sm2Key, _, _ := testKey(t, dir, "sm2", keys.SM2)
	ecKey, _, _ := testKey(t, dir, "ec", keys.ECDSAP256)
	for _, c := range []struct {
		key, sm2ID string
		verify     []string
	}{
		{sm2Key, "", []string{"-sm3", "-verify", "sm2.pub", "-sigopt", "distid:1234567812345678"}},
		{sm2Key, "alice@example.cn", []string{"-sm3", "-verify", "sm2.pub", "-sigopt", "distid:alice@example.cn"}},
		{ecKey, "", []string{"-sha256", "-verify", "ec.pub"}},
	} {
		env, _, _ := testEnv(nil, nil)
		if err := RunSign(ctx, env, SignOptions{Files: []string{msg}, Key: c.key, Output: filepath.Join(dir, "h.sig"), SM2ID: c.sm2ID}); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{"dgst"}, c.verify...), "-signature", "h.sig", "msg")
		if out := ossl(args...); !strings.Contains(out, "Verified OK") {
			t.Errorf("openssl %s: %s", strings.Join(args, " "), out)
		}
	}

	ossl("genpkey", "-algorithm", "SM2", "-out", "o-sm2.pem")
	ossl("pkey", "-in", "o-sm2.pem", "-pubout", "-out", "o-sm2.pub")
	ossl("dgst", "-sm3", "-sign", "o-sm2.pem", "-sigopt", "distid:1234567812345678", "-out", "o-sm2.sig", "msg")
	ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "o-ec.pem")
	ossl("pkey", "-in", "o-ec.pem", "-pubout", "-out", "o-ec.pub")
	ossl("dgst", "-sha256", "-sign", "o-ec.pem", "-out", "o-ec.sig", "msg")
	writeFile(t, filepath.Join(dir, "o-sm2.b64"), []byte(base64.StdEncoding.EncodeToString(readFile(t, filepath.Join(dir, "o-sm2.sig")))+"\n"))
	for pub, sig := range map[string]string{"o-sm2.pub": "o-sm2.sig", "o-ec.pub": "o-ec.sig", "o-sm2.pem": "o-sm2.b64"} {
		env, _, _ := testEnv(nil, nil)
		o := VerifyBlobOptions{File: msg, Signature: filepath.Join(dir, sig), Pub: filepath.Join(dir, pub)}
		if strings.HasSuffix(pub, ".pem") {
			o.Pub, o.Key = "", filepath.Join(dir, pub) // a private key file stands for its public key
		}
		if err := RunVerifyBlob(ctx, env, o); err != nil {
			t.Errorf("OpenSSL signature %s: %v", sig, err)
		}
	}
	// OpenSSL 3.0 signs SM2 with an empty ID unless told: that fails here.
	ossl("dgst", "-sm3", "-sign", "o-sm2.pem", "-out", "noid.sig", "msg")
	env, _, _ := testEnv(nil, nil)
	err := RunVerifyBlob(ctx, env, VerifyBlobOptions{File: msg, Signature: filepath.Join(dir, "noid.sig"), Pub: filepath.Join(dir, "o-sm2.pub")})
	if err == nil || !strings.Contains(err.Error(), "distid") {
		t.Errorf("SM2 signature without an ID: %v, want a mismatch with the hint", err)
	}
}

// TestRunSignEncryptedKey reads the password of an encrypted key from the
// environment, from a password file, and fails without one or with a
// wrong one.
func TestRunSignEncryptedKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	signer, err := keys.Generate(keys.SM2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := keys.DefaultProtection(keys.SM2)
	p.Iterations = keys.MinIterations
	data, err := keys.EncryptPrivateKeyPEM(signer, []byte("correct horse"), p)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "enc.key")
	writeFile(t, keyPath, data)
	writeFile(t, filepath.Join(dir, "right.pass"), []byte("correct horse\n"))
	file := filepath.Join(dir, "f")
	writeFile(t, file, []byte("f"))

	env, _, _ := testEnv(nil, map[string]string{cmdutil.EnvKeyPassword: "correct horse"})
	if err := RunSign(ctx, env, SignOptions{Files: []string{file}, Key: keyPath}); err != nil {
		t.Errorf("password from $%s: %v", cmdutil.EnvKeyPassword, err)
	}
	env, _, _ = testEnv(nil, nil)
	password := &cmdutil.PasswordSource{Env: env, File: filepath.Join(dir, "right.pass"), EnvName: cmdutil.EnvKeyPassword}
	if err := RunSign(ctx, env, SignOptions{Files: []string{file}, Key: keyPath, Password: password}); err != nil {
		t.Errorf("password file: %v", err)
	}
	env, _, _ = testEnv(nil, map[string]string{cmdutil.EnvKeyPassword: "battery staple"})
	if err := RunSign(ctx, env, SignOptions{Files: []string{file}, Key: keyPath}); !errors.Is(err, keys.ErrWrongPassword) {
		t.Errorf("wrong password: %v, want %v", err, keys.ErrWrongPassword)
	}
	env, _, _ = testEnv(nil, nil)
	if err := RunSign(ctx, env, SignOptions{Files: []string{file}, Key: keyPath}); err == nil || !strings.Contains(err.Error(), "--password-file") {
		t.Errorf("no password: %v, want to be told where to give one", err)
	}
	// verify-blob takes no password: given the encrypted private key, it
	// says to give the public key (it used to dereference a nil source).
	env, _, _ = testEnv(nil, map[string]string{cmdutil.EnvKeyPassword: "correct horse"})
	if err := RunSign(ctx, env, SignOptions{Files: []string{file}, Key: keyPath}); err != nil {
		t.Fatal(err)
	}
	if err := RunVerifyBlob(ctx, env, VerifyBlobOptions{File: file, Key: keyPath}); !errors.Is(err, cmdutil.ErrNoPasswordSource) {
		t.Errorf("verify-blob with an encrypted private key: %v, want %v", err, cmdutil.ErrNoPasswordSource)
	}
}

// TestRunVerifyBlobCertificate verifies with a code-signing certificate
// that chains to a root, and refuses it when it has expired, chains to
// another root or is not for code signing.
func TestRunVerifyBlobCertificate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, _, rootKey := testKey(t, dir, "root", keys.SM2)
	_, _, otherKey := testKey(t, dir, "other", keys.SM2)
	signerPath, _, signerKey := testKey(t, dir, "signer", keys.SM2)
	root, err := pki.CreateRoot(rootKey, pki.Template{Subject: pkix.Name{CommonName: "Root"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.CreateRoot(otherKey, pki.Template{Subject: pkix.Name{CommonName: "Other Root"}})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string, profile pki.Profile) string {
		t.Helper()
		der, err := pki.CreateCSR(signerKey, pki.Template{Subject: pkix.Name{CommonName: "Signer"}})
		if err != nil {
			t.Fatal(err)
		}
		csr, err := pki.ParseCSR(pki.EncodeCSR(der))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := pki.Issue(root, rootKey, csr, pki.Template{Profile: profile, Validity: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		writeFile(t, path, pki.EncodeCertificates(cert))
		return path
	}
	codeSigning := issue("signer.pem", pki.ProfileCodeSigning)
	client := issue("client.pem", pki.ProfileTLSClient)
	roots, otherRoots := filepath.Join(dir, "root.pem"), filepath.Join(dir, "other.pem")
	writeFile(t, roots, pki.EncodeCertificates(root))
	writeFile(t, otherRoots, pki.EncodeCertificates(other))
	file := filepath.Join(dir, "app")
	writeFile(t, file, []byte("app"))
	env, _, _ := testEnv(nil, nil)
	if err := RunSign(ctx, env, SignOptions{Files: []string{file}, Key: signerPath}); err != nil {
		t.Fatal(err)
	}

	env, stdout, _ := testEnv(nil, nil)
	if err := RunVerifyBlob(ctx, env, VerifyBlobOptions{File: file, Cert: codeSigning, Roots: roots}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(stdout.String(), "\n  signer certificate: /CN=Signer\n") {
		t.Errorf("printed %q, want the signer certificate named", stdout)
	}
	env, stdout, _ = testEnv(nil, nil)
	if err := RunVerifyBlob(ctx, env, VerifyBlobOptions{File: file, Cert: codeSigning, Roots: roots, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var res VerifyResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || fmt.Sprint(res.Chain) != "[/CN=Signer /CN=Root]" {
		t.Errorf("JSON chain %q (%v), want signer then root", res.Chain, err)
	}

	for name, c := range map[string]struct {
		o    VerifyBlobOptions
		want string
	}{
		"expired":          {VerifyBlobOptions{File: file, Cert: codeSigning, Roots: roots, At: "2099-01-01"}, "expired"},
		"another root":     {VerifyBlobOptions{File: file, Cert: codeSigning, Roots: otherRoots}, "does not chain"},
		"not code signing": {VerifyBlobOptions{File: file, Cert: client, Roots: roots}, "incompatible key usage"},
	} {
		env, stdout, _ := testEnv(nil, nil)
		err := RunVerifyBlob(ctx, env, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || isUsageError(err) {
			t.Errorf("%s: %v, want a failure saying %q", name, err, c.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s printed %q", name, stdout)
		}
	}
}

// TestRunSignUsageErrors: mistakes in the options are usage errors (exit
// 2) that say what to change; files that cannot be read are failures.
func TestRunSignUsageErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ecKey, ecPub, _ := testKey(t, dir, "ec", keys.ECDSAP256)
	file := filepath.Join(dir, "f")
	writeFile(t, file, []byte("f"))
	writeFile(t, filepath.Join(dir, "empty.sig"), nil)

	for _, c := range []struct {
		name  string
		o     SignOptions
		usage bool
		want  string
	}{
		{"no key", SignOptions{Files: []string{file}}, true, "--key is required"},
		{"no file", SignOptions{Key: ecKey}, true, "FILE"},
		{"--output for two files", SignOptions{Files: []string{file, file}, Key: ecKey, Output: filepath.Join(dir, "x.sig")}, true, "--output names one"},
		{"standard input without --output", SignOptions{Files: []string{"-"}, Key: ecKey}, true, "needs --output"},
		{"--sm2-id for ECDSA", SignOptions{Files: []string{file}, Key: ecKey, SM2ID: "x"}, true, "--sm2-id applies to SM2 keys; this key is ecdsa-p256"},
		{"missing key file", SignOptions{Files: []string{file}, Key: filepath.Join(dir, "nokey")}, false, "read key"},
		{"missing file", SignOptions{Files: []string{filepath.Join(dir, "nofile")}, Key: ecKey}, false, "nofile"},
	} {
		env, stdout, _ := testEnv(nil, nil)
		err := RunSign(ctx, env, c.o)
		if err == nil || isUsageError(err) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("sign, %s: %v (usage error %v), want %q (usage error %v)", c.name, err, isUsageError(err), c.want, c.usage)
		}
		if stdout.Len() != 0 {
			t.Errorf("sign, %s: printed %q", c.name, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.sig")); err == nil {
		t.Error("a refused sign wrote a signature")
	}

	for _, c := range []struct {
		name  string
		o     VerifyBlobOptions
		usage bool
		want  string
	}{
		{"no key", VerifyBlobOptions{File: file}, true, "exactly one of"},
		{"two keys", VerifyBlobOptions{File: file, Pub: ecPub, Key: "keyring:x"}, true, "exactly one of"},
		{"--at without --cert", VerifyBlobOptions{File: file, Pub: ecPub, At: "2020-01-01"}, true, "apply to --cert"},
		{"--cert without --roots", VerifyBlobOptions{File: file, Cert: filepath.Join(dir, "c.pem")}, true, "--cert needs --roots"},
		{"--sm2-id for ECDSA", VerifyBlobOptions{File: file, Pub: ecPub, SM2ID: "x"}, true, "--sm2-id applies to SM2 keys"},
		{"no signature", VerifyBlobOptions{File: file, Pub: ecPub}, false, "read signature"},
		{"empty signature", VerifyBlobOptions{File: file, Pub: ecPub, Signature: filepath.Join(dir, "empty.sig")}, false, "is empty"},
		{"a private key as --pub", VerifyBlobOptions{File: file, Pub: ecKey, Signature: filepath.Join(dir, "empty.sig")}, false, "public key"},
	} {
		env, stdout, _ := testEnv(nil, nil)
		err := RunVerifyBlob(ctx, env, c.o)
		if err == nil || isUsageError(err) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("verify-blob, %s: %v (usage error %v), want %q (usage error %v)", c.name, err, isUsageError(err), c.want, c.usage)
		}
		if stdout.Len() != 0 {
			t.Errorf("verify-blob, %s: printed %q", c.name, stdout)
		}
	}
}
