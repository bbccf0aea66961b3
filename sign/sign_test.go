package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/keys"
)

var ctx = context.Background()

func TestRoundTrip(t *testing.T) {
	msg := bytes.Repeat([]byte("hegui "), 100_000)
	for _, alg := range keys.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			priv, err := keys.Generate(alg, nil)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := Sign(ctx, priv, bytes.NewReader(msg), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(ctx, priv.Public(), bytes.NewReader(msg), sig, Options{}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			tampered := bytes.Clone(msg)
			tampered[len(tampered)/2] ^= 1
			if err := Verify(ctx, priv.Public(), bytes.NewReader(tampered), sig, Options{}); !errors.Is(err, ErrMismatch) {
				t.Errorf("tampered data: err = %v, want ErrMismatch", err)
			}
			badSig := bytes.Clone(sig)
			badSig[len(badSig)-1] ^= 1
			if err := Verify(ctx, priv.Public(), bytes.NewReader(msg), badSig, Options{}); err == nil {
				t.Error("tampered signature verified")
			}
			other, _ := keys.Generate(alg, nil)
			if err := Verify(ctx, other.Public(), bytes.NewReader(msg), sig, Options{}); err == nil {
				t.Error("signature verified under another key")
			}
		})
	}
}

func TestSM2IDMatters(t *testing.T) {
	priv, _ := keys.Generate(keys.SM2, nil)
	msg := []byte("message")
	sig, err := Sign(ctx, priv, bytes.NewReader(msg), Options{SM2ID: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, priv.Public(), bytes.NewReader(msg), sig, Options{SM2ID: "alice@example.com"}); err != nil {
		t.Errorf("same ID: %v", err)
	}
	if err := Verify(ctx, priv.Public(), bytes.NewReader(msg), sig, Options{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("default ID: err = %v, want ErrMismatch", err)
	}
}

func TestSM2IDOnlyForSM2(t *testing.T) {
	priv, _ := keys.Generate(keys.ECDSAP256, nil)
	if _, err := Sign(ctx, priv, strings.NewReader("x"), Options{SM2ID: "id"}); err == nil {
		t.Error("SM2 ID accepted for an ECDSA key")
	}
}

func TestCancel(t *testing.T) {
	priv, _ := keys.Generate(keys.SM2, nil)
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Sign(c, priv, strings.NewReader("x"), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func hexBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("bad hex " + s)
	}
	return n
}

func derSignature(r, s *big.Int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.BytesOrPanic()
}

// TestGMT0003Vector verifies the signature example of GM/T 0003.5-2012
// (GB/T 32918.5-2017) Annex A on the curve sm2p256v1, ID 1234567812345678.
func TestGMT0003Vector(t *testing.T) {
	pub := &ecdsa.PublicKey{
		Curve: sm2.P256(),
		X:     hexBig("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"),
		Y:     hexBig("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"),
	}
	sig := derSignature(
		hexBig("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"),
		hexBig("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"))
	if err := Verify(ctx, pub, strings.NewReader("message digest"), sig, Options{}); err != nil {
		t.Fatalf("standard vector: %v", err)
	}
	d, err := NewDigester(pub, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.Hash.Write([]byte("message digest"))
	if e := hex.EncodeToString(d.Hash.Sum(nil)); e != strings.ToLower("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640") {
		t.Errorf("e = SM3(Z||M) = %s", e)
	}
	if err := Verify(ctx, pub, strings.NewReader("message digesT"), sig, Options{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("changed message: err = %v", err)
	}
}

// TestEd25519phVector signs RFC 8032 §7.3's Ed25519ph test vector ("abc").
func TestEd25519phVector(t *testing.T) {
	seed, _ := hex.DecodeString("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
	want, _ := hex.DecodeString("98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")
	priv := ed25519.NewKeyFromSeed(seed)
	if hex.EncodeToString(priv.Public().(ed25519.PublicKey)) != "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf" {
		t.Fatal("public key differs from RFC 8032")
	}
	sig, err := Sign(ctx, priv, strings.NewReader("abc"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sig, want) {
		t.Errorf("signature %x, want %x", sig, want)
	}
}

// writeKeyPair writes a fresh key of alg as PEM into dir and returns the
// private key with the file names.
func writeKeyPair(t *testing.T, dir string, alg keys.Algorithm) (crypto.Signer, string, string) {
	t.Helper()
	priv, err := keys.Generate(alg, nil)
	if err != nil {
		t.Fatal(err)
	}
	privPEM, _ := keys.MarshalPrivateKeyPEM(priv)
	pubPEM, _ := keys.MarshalPublicKeyPEM(priv.Public())
	privFile, pubFile := filepath.Join(dir, string(alg)+".key"), filepath.Join(dir, string(alg)+".pub")
	os.WriteFile(privFile, privPEM, 0o600)
	os.WriteFile(pubFile, pubPEM, 0o644)
	return priv, privFile, pubFile
}

// TestOpenSSLInterop: signatures made here verify in `openssl dgst` and
// signatures made by `openssl dgst` verify here, with the default and a
// custom SM2 ID.
func TestOpenSSLInterop(t *testing.T) {
	dir := t.TempDir()
	msgFile := filepath.Join(dir, "msg.bin")
	msg := bytes.Repeat([]byte{0, 1, 2, 3, 0xfe}, 50_001)
	os.WriteFile(msgFile, msg, 0o644)

	cases := []struct {
		alg    keys.Algorithm
		digest string
		id     string
	}{
		{keys.SM2, "-sm3", ""},
		{keys.SM2, "-sm3", "alice@example.com"},
		{keys.ECDSAP256, "-sha256", ""},
	}
	for _, c := range cases {
		t.Run(string(c.alg)+"/"+c.id, func(t *testing.T) {
			priv, privFile, pubFile := writeKeyPair(t, dir, c.alg)
			var idOpt []string
			if c.alg == keys.SM2 {
				id := c.id
				if id == "" {
					id = DefaultSM2ID
				}
				idOpt = []string{"-sigopt", "distid:" + id}
			}
			opts := Options{SM2ID: c.id}

			sig, err := Sign(ctx, priv, bytes.NewReader(msg), opts)
			if err != nil {
				t.Fatal(err)
			}
			sigFile := filepath.Join(dir, "hegui.sig")
			os.WriteFile(sigFile, sig, 0o644)
			args := append([]string{"dgst", c.digest, "-verify", pubFile}, idOpt...)
			out := peertest.OpenSSL(t, dir, append(args, "-signature", sigFile, msgFile)...)
			if !strings.Contains(out, "Verified OK") {
				t.Errorf("openssl: %s", out)
			}

			if c.alg == keys.SM2 {
				id := c.id
				if id == "" {
					id = DefaultSM2ID
				}
				out := peertest.OpenSSL(t, dir, "pkeyutl", "-verify", "-pubin", "-inkey", pubFile, "-rawin", "-digest", "sm3",
					"-pkeyopt", "distid:"+id, "-in", msgFile, "-sigfile", sigFile)
				if !strings.Contains(out, "Signature Verified Successfully") {
					t.Errorf("openssl pkeyutl: %s", out)
				}
				pkeySig := filepath.Join(dir, "pkeyutl.sig")
				peertest.OpenSSL(t, dir, "pkeyutl", "-sign", "-inkey", privFile, "-rawin", "-digest", "sm3",
					"-pkeyopt", "distid:"+id, "-in", msgFile, "-out", pkeySig)
				sig, _ := os.ReadFile(pkeySig)
				if err := Verify(ctx, priv.Public(), bytes.NewReader(msg), sig, opts); err != nil {
					t.Errorf("openssl pkeyutl signature: %v", err)
				}
			}

			osslSig := filepath.Join(dir, "openssl.sig")
			args = append([]string{"dgst", c.digest, "-sign", privFile}, idOpt...)
			peertest.OpenSSL(t, dir, append(args, "-out", osslSig, msgFile)...)
			sig, _ = os.ReadFile(osslSig)
			if err := Verify(ctx, priv.Public(), bytes.NewReader(msg), sig, opts); err != nil {
				t.Errorf("openssl signature: %v", err)
			}
		})
	}
}

// TestOpenSSLEmptyIDIsRejected documents the most common interop mistake:
// OpenSSL 3.0's command line signs SM2 with an empty ID unless told
// otherwise, and such a signature does not verify under the standard ID.
func TestOpenSSLEmptyIDIsRejected(t *testing.T) {
	dir := t.TempDir()
	priv, privFile, _ := writeKeyPair(t, dir, keys.SM2)
	msgFile := filepath.Join(dir, "msg.txt")
	os.WriteFile(msgFile, []byte("hello"), 0o644)
	peertest.OpenSSL(t, dir, "dgst", "-sm3", "-sign", privFile, "-out", "noid.sig", msgFile)
	sig, _ := os.ReadFile(filepath.Join(dir, "noid.sig"))
	if err := Verify(ctx, priv.Public(), strings.NewReader("hello"), sig, Options{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("empty-ID signature: err = %v, want ErrMismatch", err)
	}
}

// TestOpenSSLVerifiesSM2Vector checks the GM/T 0003.5 vector in OpenSSL as
// well, so both implementations agree on the same fixed input.
func TestOpenSSLVerifiesSM2Vector(t *testing.T) {
	dir := t.TempDir()
	pub := &ecdsa.PublicKey{
		Curve: sm2.P256(),
		X:     hexBig("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"),
		Y:     hexBig("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"),
	}
	pubPEM, err := keys.MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "pub.pem"), pubPEM, 0o644)
	os.WriteFile(filepath.Join(dir, "msg"), []byte("message digest"), 0o644)
	os.WriteFile(filepath.Join(dir, "sig"), derSignature(
		hexBig("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"),
		hexBig("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")), 0o644)
	out := peertest.OpenSSL(t, dir, "dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:"+DefaultSM2ID, "-signature", "sig", "msg")
	if !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl: %s", out)
	}
}

func TestMalformedSignatures(t *testing.T) {
	for _, alg := range keys.Algorithms {
		priv, _ := keys.Generate(alg, nil)
		for _, sig := range [][]byte{nil, {0x30}, {0x30, 0x00}, bytes.Repeat([]byte{0xff}, 64), bytes.Repeat([]byte{0x30}, 200)} {
			if err := Verify(ctx, priv.Public(), strings.NewReader("m"), sig, Options{}); err == nil {
				t.Errorf("%s: malformed signature %x verified", alg, sig)
			}
		}
	}
}

// faultySigner wraps a key and corrupts its signatures, as a broken token might.
type faultySigner struct{ crypto.Signer }

func (f faultySigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := f.Signer.Sign(r, digest, opts)
	if err == nil {
		sig[len(sig)-1] ^= 1
	}
	return sig, err
}

func TestFaultySignerIsCaught(t *testing.T) {
	for _, alg := range keys.Algorithms {
		priv, _ := keys.Generate(alg, nil)
		if _, err := Sign(ctx, faultySigner{priv}, strings.NewReader("m"), Options{}); err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Errorf("%s: err = %v", alg, err)
		}
	}
}

// BenchmarkSM2 compares signing and verifying a 20-byte message (what
// `openssl speed sm2` measures) through this package with the gmsm calls
// it wraps.
func BenchmarkSM2(b *testing.B) {
	priv, _ := keys.Generate(keys.SM2, nil)
	sk := priv.(*sm2.PrivateKey)
	msg := []byte("01234567890123456789")
	sig, _ := Sign(ctx, priv, bytes.NewReader(msg), Options{})
	b.Run("sign/hegui", func(b *testing.B) {
		for b.Loop() {
			Sign(ctx, priv, bytes.NewReader(msg), Options{})
		}
	})
	b.Run("sign/gmsm", func(b *testing.B) {
		for b.Loop() {
			sk.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
		}
	})
	b.Run("verify/hegui", func(b *testing.B) {
		for b.Loop() {
			Verify(ctx, priv.Public(), bytes.NewReader(msg), sig, Options{})
		}
	})
	b.Run("verify/gmsm", func(b *testing.B) {
		for b.Loop() {
			sm2.VerifyASN1WithSM2(&sk.PublicKey, nil, msg, sig)
		}
	})
}

func TestSignMessage(t *testing.T) {
	msg := []byte("DSSEv1 28 application/vnd.in-toto+json 2 {}")
	for _, alg := range keys.Algorithms {
		priv, _ := keys.Generate(alg, nil)
		sig, err := SignMessage(priv, msg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyMessage(priv.Public(), msg, sig, Options{}); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		if err := VerifyMessage(priv.Public(), append(msg, '!'), sig, Options{}); err == nil {
			t.Errorf("%s: verified another message", alg)
		}
		if alg == keys.Ed25519 && !ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, sig) {
			t.Error("Ed25519 message signature is not pure Ed25519")
		}
	}
}
