package keys

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/peertest"
)

// testIterations keeps PBKDF2 cheap in tests; the default count is covered
// by TestDefaultProtectionReadableByOpenSSL.
const testIterations = 2048

func password(pw string) PasswordFunc {
	return func() ([]byte, error) { return []byte(pw), nil }
}

func TestRoundTrip(t *testing.T) {
	for _, alg := range Algorithms {
		for _, prot := range []Protection{DefaultProtection(alg), OpenSSLProtection(alg)} {
			t.Run(string(alg)+"/"+string(prot.PRF), func(t *testing.T) {
				priv, err := Generate(alg, nil)
				if err != nil {
					t.Fatal(err)
				}
				wantID, err := ID(priv.Public())
				if err != nil {
					t.Fatal(err)
				}
				prot.Iterations = testIterations
				encrypted, err := EncryptPrivateKeyPEM(priv, []byte("correct horse"), prot)
				if err != nil {
					t.Fatal(err)
				}
				info, err := Inspect(encrypted)
				if err != nil {
					t.Fatal(err)
				}
				if info.Format != FormatEncryptedPKCS8 || info.Protection == nil || *info.Protection != prot {
					t.Fatalf("Inspect = %+v, want encrypted with %v", info, prot)
				}
				got, err := ParsePrivateKey(encrypted, password("correct horse"))
				if err != nil {
					t.Fatal(err)
				}
				if id, _ := ID(got.Public()); id != wantID {
					t.Errorf("decrypted key ID %s, want %s", id, wantID)
				}
				if _, err := ParsePrivateKey(encrypted, password("wrong horse")); !errors.Is(err, ErrWrongPassword) {
					t.Errorf("wrong password: err = %v, want ErrWrongPassword", err)
				}

				plain, err := MarshalPrivateKeyPEM(priv)
				if err != nil {
					t.Fatal(err)
				}
				called := false
				got, err = ParsePrivateKey(plain, func() ([]byte, error) { called = true; return nil, nil })
				if err != nil {
					t.Fatal(err)
				}
				if called {
					t.Error("password asked for an unencrypted key")
				}
				if id, _ := ID(got.Public()); id != wantID {
					t.Errorf("plain key ID %s, want %s", id, wantID)
				}

				pubPEM, err := MarshalPublicKeyPEM(priv.Public())
				if err != nil {
					t.Fatal(err)
				}
				pub, err := ParsePublicKey(pubPEM)
				if err != nil {
					t.Fatal(err)
				}
				if id, _ := ID(pub); id != wantID {
					t.Errorf("public key ID %s, want %s", id, wantID)
				}
			})
		}
	}
}

func TestDefaultProtectionIsGM(t *testing.T) {
	p := DefaultProtection(SM2)
	if p.PRF != PRFHMACSM3 || p.Cipher != CipherSM4CBC || p.OpenSSLReadable() {
		t.Errorf("SM2 default protection = %v", p)
	}
	if p := OpenSSLProtection(SM2); !p.OpenSSLReadable() || p.Cipher != CipherSM4CBC {
		t.Errorf("SM2 OpenSSL protection = %v", p)
	}
	if p := DefaultProtection(Ed25519); p.Cipher != CipherAES256 || !p.OpenSSLReadable() {
		t.Errorf("Ed25519 default protection = %v", p)
	}
}

// TestOpenSSLReadsHeguiKeys: keys hegui writes in the OpenSSL profile (and
// unencrypted) decrypt in OpenSSL 3 to the same public key.
func TestOpenSSLReadsHeguiKeys(t *testing.T) {
	dir := t.TempDir()
	for _, alg := range Algorithms {
		priv, err := Generate(alg, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantPub, _ := MarshalPublicKeyPEM(priv.Public())
		prot := OpenSSLProtection(alg)
		prot.Iterations = testIterations
		enc, err := EncryptPrivateKeyPEM(priv, []byte("s3cret"), prot)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := MarshalPrivateKeyPEM(priv)
		for name, data := range map[string][]byte{"enc": enc, "plain": plain} {
			file := filepath.Join(dir, string(alg)+"-"+name+".pem")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			got := peertest.OpenSSL(t, dir, "pkey", "-in", file, "-passin", "pass:s3cret", "-pubout")
			if got != string(wantPub) {
				t.Errorf("%s %s: openssl public key\n%s\nwant\n%s", alg, name, got, wantPub)
			}
		}
	}
}

// TestDefaultProtectionReadableByOpenSSL checks the full default iteration
// count once, through OpenSSL, for the export profile of an SM2 key.
func TestDefaultProtectionReadableByOpenSSL(t *testing.T) {
	dir := t.TempDir()
	priv, _ := Generate(SM2, nil)
	enc, err := EncryptPrivateKeyPEM(priv, []byte("s3cret"), OpenSSLProtection(SM2))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "k.pem")
	os.WriteFile(file, enc, 0o600)
	got := peertest.OpenSSL(t, dir, "pkey", "-in", file, "-passin", "pass:s3cret", "-pubout")
	want, _ := MarshalPublicKeyPEM(priv.Public())
	if got != string(want) {
		t.Errorf("openssl read a different key:\n%s", got)
	}
}

// TestReadOpenSSLKeys: keys made by OpenSSL, in every encoding it writes,
// parse to the public key OpenSSL derives from them.
func TestReadOpenSSLKeys(t *testing.T) {
	dir := t.TempDir()
	ossl := func(args ...string) { peertest.OpenSSL(t, dir, args...) }
	ossl("genpkey", "-algorithm", "SM2", "-out", "sm2.pem")
	ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.pem")
	ossl("genpkey", "-algorithm", "ED25519", "-out", "ed25519.pem")
	ossl("ecparam", "-name", "SM2", "-genkey", "-out", "sm2-ecparam.pem")
	ossl("ec", "-in", "sm2.pem", "-out", "sm2-sec1.pem")
	ossl("ecparam", "-name", "prime256v1", "-genkey", "-out", "p256-sec1.pem")
	ossl("pkcs8", "-topk8", "-in", "sm2.pem", "-v2", "sm4-cbc", "-passout", "pass:pw", "-out", "sm2-enc-sm4.pem")
	ossl("pkcs8", "-topk8", "-in", "sm2.pem", "-v2", "aes-256-cbc", "-passout", "pass:pw", "-out", "sm2-enc-aes.pem")
	ossl("pkcs8", "-topk8", "-in", "p256.pem", "-v2", "aes-256-cbc", "-passout", "pass:pw", "-out", "p256-enc.pem")
	ossl("pkcs8", "-topk8", "-in", "ed25519.pem", "-v2", "aes-256-cbc", "-passout", "pass:pw", "-out", "ed25519-enc.pem")
	ossl("pkcs8", "-topk8", "-in", "p256.pem", "-nocrypt", "-outform", "DER", "-out", "p256.der")
	ossl("pkcs8", "-topk8", "-in", "sm2.pem", "-v2", "sm4-cbc", "-passout", "pass:pw", "-outform", "DER", "-out", "sm2-enc.der")

	cases := []struct {
		file, source string
		alg          Algorithm
		format       Format
	}{
		{"sm2.pem", "sm2.pem", SM2, FormatPKCS8},
		{"p256.pem", "p256.pem", ECDSAP256, FormatPKCS8},
		{"ed25519.pem", "ed25519.pem", Ed25519, FormatPKCS8},
		{"sm2-ecparam.pem", "sm2-ecparam.pem", SM2, FormatPKCS8},
		{"sm2-sec1.pem", "sm2.pem", SM2, FormatSEC1},
		{"p256-sec1.pem", "p256-sec1.pem", ECDSAP256, FormatSEC1},
		{"sm2-enc-sm4.pem", "sm2.pem", SM2, FormatEncryptedPKCS8},
		{"sm2-enc-aes.pem", "sm2.pem", SM2, FormatEncryptedPKCS8},
		{"p256-enc.pem", "p256.pem", ECDSAP256, FormatEncryptedPKCS8},
		{"ed25519-enc.pem", "ed25519.pem", Ed25519, FormatEncryptedPKCS8},
		{"p256.der", "p256.pem", ECDSAP256, FormatPKCS8},
		{"sm2-enc.der", "sm2.pem", SM2, FormatEncryptedPKCS8},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			info, err := Inspect(data)
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != c.format {
				t.Errorf("format %s, want %s", info.Format, c.format)
			}
			priv, err := ParsePrivateKey(data, password("pw"))
			if err != nil {
				t.Fatal(err)
			}
			if alg, _ := AlgorithmOf(priv.Public()); alg != c.alg {
				t.Errorf("algorithm %s, want %s", alg, c.alg)
			}
			want := peertest.OpenSSL(t, dir, "pkey", "-in", c.source, "-pubout")
			got, _ := MarshalPublicKeyPEM(priv.Public())
			if string(got) != want {
				t.Errorf("public key\n%s\nwant (openssl)\n%s", got, want)
			}
		})
	}
}

func TestBadKeys(t *testing.T) {
	priv, _ := Generate(SM2, nil)
	plain, _ := MarshalPrivateKeyPEM(priv)
	prot := DefaultProtection(SM2)
	prot.Iterations = testIterations
	enc, _ := EncryptPrivateKeyPEM(priv, []byte("pw"), prot)
	pub, _ := MarshalPublicKeyPEM(priv.Public())

	flipped := []byte(string(enc))
	mid := len(flipped) / 2
	flipped[mid] ^= 0x01
	// Flip a byte of the first ciphertext block: that garbles the PKCS#8
	// header. (A flip in the last block may leave valid padding and only
	// garble the optional public key copy, which the parser ignores.)
	block, _ := pem.Decode(enc)
	var encInfo encryptedPrivateKeyInfo
	mustUnmarshal(t, block.Bytes, &encInfo)
	block.Bytes[len(block.Bytes)-len(encInfo.EncryptedData)] ^= 0xff
	tamperedCiphertext := pem.EncodeToMemory(block)

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"truncated PEM", plain[:len(plain)/2], "no private key found"},
		{"public key", pub, "public key, not a private key"},
		{"garbage DER", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, "not a private key"},
		{"text", []byte("hello world"), "not a private key"},
		{"rsa", []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), "RSA keys are not supported"},
		{"flipped base64", flipped, ""},
		{"tampered ciphertext", tamperedCiphertext, "wrong password"},
		{"legacy encryption", []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n"), "legacy PEM encryption"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePrivateKey(c.data, password("pw"))
			if err == nil {
				t.Fatal("parsed without error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to mention %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// TestHostileIterationCount: a key claiming billions of PBKDF2 iterations is
// refused at once instead of keeping the CPU busy for hours.
func TestHostileIterationCount(t *testing.T) {
	priv, _ := Generate(ECDSAP256, nil)
	prot := DefaultProtection(ECDSAP256)
	prot.Iterations = testIterations
	enc, _ := EncryptPrivateKeyPEM(priv, []byte("pw"), prot)
	block, _ := pem.Decode(enc)
	var info encryptedPrivateKeyInfo
	mustUnmarshal(t, block.Bytes, &info)
	var params pbes2Params
	mustUnmarshal(t, info.Algorithm.Parameters.FullBytes, &params)
	var kdf pbkdf2Params
	mustUnmarshal(t, params.KeyDerivationFunc.Parameters.FullBytes, &kdf)
	kdf.IterationCount = 1 << 31
	params.KeyDerivationFunc.Parameters = asn1.RawValue{FullBytes: mustMarshal(t, kdf)}
	info.Algorithm = pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: mustMarshal(t, params)}}
	hostile := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: mustMarshal(t, info)})

	start := time.Now()
	_, err := ParsePrivateKey(hostile, password("pw"))
	if err == nil || !strings.Contains(err.Error(), "iteration count") {
		t.Fatalf("err = %v, want an iteration count error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to refuse", d)
	}
}

func mustUnmarshal(t *testing.T, der []byte, v any) {
	t.Helper()
	if _, err := asn1.Unmarshal(der, v); err != nil {
		t.Fatal(err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]Algorithm{"SM2": SM2, "p256": ECDSAP256, "ecdsa-p256": ECDSAP256, "Ed25519": Ed25519} {
		if got, err := ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseAlgorithm("rsa"); err == nil {
		t.Error("rsa accepted")
	}
}

func TestIDIsStable(t *testing.T) {
	// The ID is SHA-256 over the SubjectPublicKeyInfo, so it can be
	// recomputed with standard tools: openssl pkey -pubin -outform DER | sha256sum.
	dir := t.TempDir()
	priv, _ := Generate(SM2, nil)
	pub, _ := MarshalPublicKeyPEM(priv.Public())
	os.WriteFile(filepath.Join(dir, "pub.pem"), pub, 0o644)
	peertest.OpenSSL(t, dir, "pkey", "-pubin", "-in", "pub.pem", "-outform", "DER", "-out", "pub.der")
	out := peertest.OpenSSL(t, dir, "dgst", "-sha256", "-r", "pub.der")
	id, _ := ID(priv.Public())
	if !strings.HasPrefix(out, id) {
		t.Errorf("ID %s, openssl sha256 of SPKI %s", id, out)
	}
}

// BenchmarkUnlock measures decrypting a key with the default protection:
// the cost every signing command pays once.
func BenchmarkUnlock(b *testing.B) {
	for _, alg := range []Algorithm{SM2, ECDSAP256} {
		priv, _ := Generate(alg, nil)
		enc, err := EncryptPrivateKeyPEM(priv, []byte("pw"), DefaultProtection(alg))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(alg), func(b *testing.B) {
			for b.Loop() {
				if _, err := ParsePrivateKey(enc, password("pw")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
