package symmetric

import (
	"bytes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/emmansun/gmsm/sm4"

	"hegui.dev/hegui/internal/peertest"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	testKey = mustHex("0123456789abcdeffedcba9876543210")
	testIV  = mustHex("000102030405060708090a0b0c0d0e0f")
)

func encrypt(t testing.TB, plain, key, iv []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewSM4CBCEncrypter(&out, key, iv)
	if err != nil {
		t.Fatal(err)
	}
	// Write in odd-sized pieces to exercise the buffering.
	for p := plain; len(p) > 0; {
		n := min(len(p), 7919)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func decrypt(ciphertext, key, iv []byte) ([]byte, error) {
	r, err := NewSM4CBCDecrypter(iotest.HalfReader(bytes.NewReader(ciphertext)), key, iv)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestSM4Vectors: GB/T 32907-2016 Appendix A examples 1 and 2.
func TestSM4Vectors(t *testing.T) {
	// Example 1 through this package: with a zero IV the first CBC block is
	// the plain block encryption.
	got := encrypt(t, testKey, testKey, make([]byte, 16))
	if hex.EncodeToString(got[:16]) != "681edf34d206965e86b3e94f536e4246" {
		t.Errorf("example 1: %x", got[:16])
	}
	// Example 2 on the library's block cipher: encrypt 1,000,000 times.
	block, err := sm4.NewCipher(testKey)
	if err != nil {
		t.Fatal(err)
	}
	buf := bytes.Clone(testKey)
	for range 1_000_000 {
		block.Encrypt(buf, buf)
	}
	if hex.EncodeToString(buf) != "595298c7c6fd271f0402f804c33d3f66" {
		t.Errorf("example 2: %x", buf)
	}
}

// TestMatchesOpenSSL: for lengths around the block and chunk boundaries, the
// ciphertext equals `openssl enc -sm4-cbc` byte for byte, and OpenSSL's
// ciphertext decrypts here.
func TestMatchesOpenSSL(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 15, 16, 17, 1000, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 5} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			plain := make([]byte, n)
			for i := range plain {
				plain[i] = byte(i * 7)
			}
			in := filepath.Join(dir, "plain")
			os.WriteFile(in, plain, 0o644)
			peertest.OpenSSL(t, dir, "enc", "-sm4-cbc", "-K", hex.EncodeToString(testKey), "-iv", hex.EncodeToString(testIV), "-in", in, "-out", "openssl.enc")
			want, _ := os.ReadFile(filepath.Join(dir, "openssl.enc"))
			if got := encrypt(t, plain, testKey, testIV); !bytes.Equal(got, want) {
				t.Fatalf("ciphertext differs from openssl (%d vs %d bytes)", len(got), len(want))
			}
			back, err := decrypt(want, testKey, testIV)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, plain) {
				t.Fatal("decryption of openssl ciphertext differs")
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	plain := []byte(strings.Repeat("attack at dawn ", 10))
	ct := encrypt(t, plain, testKey, testIV)
	otherKey := mustHex("00112233445566778899aabbccddeeff")

	if _, err := decrypt(ct, otherKey, testIV); !errors.Is(err, ErrBadPadding) {
		t.Errorf("wrong key: err = %v, want ErrBadPadding", err)
	}
	if _, err := decrypt(ct[:len(ct)-3], testKey, testIV); err == nil || !strings.Contains(err.Error(), "partial block") {
		t.Errorf("truncated: err = %v", err)
	}
	if _, err := decrypt(nil, testKey, testIV); err == nil {
		t.Error("empty ciphertext decrypted")
	}
	if _, err := NewSM4CBCEncrypter(io.Discard, testKey[:15], testIV); err == nil {
		t.Error("short key accepted")
	}
	if _, err := NewSM4CBCDecrypter(bytes.NewReader(ct), testKey, testIV[:8]); err == nil {
		t.Error("short IV accepted")
	}
}

// BenchmarkSM4CBC compares the streaming encrypter with the library's CBC
// mode applied to the same buffer in one call.
func BenchmarkSM4CBC(b *testing.B) {
	data := make([]byte, 1<<20)
	b.Run("hegui-encrypter", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			w, _ := NewSM4CBCEncrypter(io.Discard, testKey, testIV)
			w.Write(data)
			w.Close()
		}
	})
	b.Run("gmsm-cbc", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		out := make([]byte, len(data)+BlockSize)
		for b.Loop() {
			block, _ := sm4.NewCipher(testKey)
			mode := cipher.NewCBCEncrypter(block, testIV)
			padded := pkcs7.Pad(data)
			mode.CryptBlocks(out[:len(padded)], padded)
		}
	})
}

// FuzzSM4CBCDecrypt: ciphertexts come from outside; decryption must end in
// plaintext or an error, never a panic, and what decrypts must re-encrypt
// to the same ciphertext.
func FuzzSM4CBCDecrypt(f *testing.F) {
	f.Add(encrypt(f, []byte("seed plaintext"), testKey, testIV))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, ct []byte) {
		plain, err := decrypt(ct, testKey, testIV)
		if err != nil {
			return
		}
		if again := encrypt(t, plain, testKey, testIV); !bytes.Equal(again, ct) {
			t.Fatalf("decrypt/encrypt round trip changed %x to %x", ct, again)
		}
	})
}
