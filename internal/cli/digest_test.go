package cli

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/peertest"
)

func TestDigestAndMAC(t *testing.T) {
	r := newRunner(t)
	r.write("abc", []byte("abc"))
	out := r.ok("digest", r.path("abc"))
	if out.stdout != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0  "+r.path("abc")+"\n" {
		t.Errorf("digest: %q", out.stdout)
	}
	data := bytes.Repeat([]byte("hegui"), 30_000)
	r.write("data", data)
	for alg, osslAlg := range map[string]string{"sm3": "-sm3", "sha256": "-sha256", "sha512": "-sha512"} {
		got := strings.Fields(r.ok("digest", "--alg", alg, r.path("data")).stdout)[0]
		want := strings.Fields(peertest.OpenSSL(t, r.dir, "dgst", osslAlg, "-r", "data"))[0]
		if got != want {
			t.Errorf("%s: %s, openssl %s", alg, got, want)
		}
	}
	key := "000102030405060708090a0b0c0d0e0f"
	r.write("key.hex", []byte(key+"\n"))
	got := strings.TrimSpace(r.ok("mac", "--key-file", r.path("key.hex"), "--hex-key", r.path("data")).stdout)
	want := strings.TrimSpace(peertest.OpenSSL(t, r.dir, "mac", "-digest", "SM3", "-macopt", "hexkey:"+key, "-in", "data", "HMAC"))
	if !strings.EqualFold(got, want) {
		t.Errorf("HMAC-SM3 %s, openssl mac %s", got, want)
	}
	raw, _ := hex.DecodeString(key)
	r.write("key.raw", raw)
	if got2 := strings.TrimSpace(r.ok("mac", "--key-file", r.path("key.raw"), r.path("data")).stdout); got2 != got {
		t.Errorf("raw key file gives %s, hex key file %s", got2, got)
	}
	r.fails(2, []string{"unknown digest"}, "digest", "--alg", "md5", r.path("abc"))
	r.fails(1, []string{"not hex"}, "mac", "--key-file", r.path("abc"), "--hex-key", r.path("data"))
}

func TestEncryptDecryptOpenSSL(t *testing.T) {
	r := newRunner(t)
	const key, iv = "0123456789abcdeffedcba9876543210", "000102030405060708090a0b0c0d0e0f"
	r.write("sm4.hex", []byte(key+"\n"))
	plain := bytes.Repeat([]byte("plaintext 明文 "), 20_000)
	r.write("plain", plain)
	r.ok("encrypt", "--key-file", r.path("sm4.hex"), "--iv", iv, "--out", r.path("hegui.enc"), r.path("plain"))
	peertest.OpenSSL(t, r.dir, "enc", "-sm4-cbc", "-K", key, "-iv", iv, "-in", "plain", "-out", "openssl.enc")
	if !bytes.Equal(r.read("hegui.enc"), r.read("openssl.enc")) {
		t.Fatal("ciphertext differs from openssl enc -sm4-cbc")
	}
	r.ok("decrypt", "--key-file", r.path("sm4.hex"), "--iv", iv, "--out", r.path("back"), r.path("openssl.enc"))
	if !bytes.Equal(r.read("back"), plain) {
		t.Fatal("decrypted openssl ciphertext differs")
	}
	// Without --iv: a random IV travels in front of the ciphertext.
	r.ok("encrypt", "--key-file", r.path("sm4.hex"), "--out", r.path("random.enc"), r.path("plain"))
	r.ok("decrypt", "--key-file", r.path("sm4.hex"), "--out", r.path("random.out"), r.path("random.enc"))
	if !bytes.Equal(r.read("random.out"), plain) {
		t.Fatal("round trip with a random IV failed")
	}
	// A wrong key fails the padding check and leaves no output file.
	r.write("other.hex", []byte("ffeeddccbbaa99887766554433221100"))
	r.fails(1, []string{"padding"}, "decrypt", "--key-file", r.path("other.hex"), "--iv", iv, "--out", r.path("bad.out"), r.path("hegui.enc"))
	r.write("short.enc", r.read("hegui.enc")[:100])
	r.fails(1, []string{"partial block"}, "decrypt", "--key-file", r.path("sm4.hex"), "--iv", iv, "--out", r.path("bad.out"), r.path("short.enc"))
	for _, f := range r.files() {
		if strings.HasPrefix(f, "bad.out") || strings.HasPrefix(f, ".bad.out") {
			t.Errorf("failed decryption left %s", f)
		}
	}
	r.fails(1, []string{"already exists"}, "decrypt", "--key-file", r.path("sm4.hex"), "--iv", iv, "--out", r.path("back"), r.path("openssl.enc"))
	r.fails(1, []string{"16 bytes or 32 hex"}, "encrypt", "--key-file", r.path("plain"), "--out", r.path("x"), r.path("plain"))
	r.fails(2, []string{"--iv"}, "encrypt", "--key-file", r.path("sm4.hex"), "--iv", "00", "--out", r.path("x"), r.path("plain"))
}
