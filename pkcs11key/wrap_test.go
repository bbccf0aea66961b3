//go:build cgo

package pkcs11key

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"
	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/shred"
)

var _ shred.Wrapper = (*Wrapper)(nil)

// The fixed vector: a 16-byte data key wrapped under knownKey with the IV
// cafebabefacedbaddecaf888, computed with Go's crypto/aes, not the token.
const (
	knownKey     = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	knownDataKey = "00112233445566778899aabbccddeeff"
	knownWrapped = "01cafebabefacedbaddecaf888" + "8ab28215ee2f296cce92f766b7c067c0" + "bd5586dfd74566a6a9fc05260de8a39f"
)

// wrapToken makes a SoftHSM2 token "shred" with PIN 1234 holding:
//
//   - "master" (id 10): AES-256, generated on the token with C_GenerateKey,
//     sensitive and never extractable;
//   - "other" (id 11): AES-256, made with the pkcs11-tool flags docs/shred.md shows;
//   - "known" (id 12): AES-256 imported with the value knownKey;
//   - "generic" (id 13): a generic secret, the wrong key type;
//   - "encrypt-only" (id 14): AES-256 that may not decrypt;
//   - "ec" (id 01): a P-256 key pair, the wrong class.
//
// It returns the SoftHSM and a URI prefix ("?module-path=...&pin-source=...")
// to append to a path.
func wrapToken(t *testing.T) (*peertest.SoftHSM, string) {
	hsm := peertest.NewSoftHSM(t)
	hsm.InitToken("shred", "1234")
	hsm.GenerateKeyPair("shred", "1234", "EC:prime256v1", "ec", "01")
	peertest.Run(t, "", "pkcs11-tool", "--module", hsm.Module, "--token-label", "shred", "--login", "--pin", "1234",
		"--keygen", "--key-type", "AES:32", "--label", "other", "--id", "11", "--sensitive", "--usage-decrypt")
	value, _ := hex.DecodeString(knownKey)
	onToken(t, hsm, "shred", "1234", func(ctx *pkcs11.Ctx, s pkcs11.SessionHandle) error {
		aesKey := func(label string, id byte, decrypt bool) []*pkcs11.Attribute {
			return []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
				pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
				pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
				pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
				pkcs11.NewAttribute(pkcs11.CKA_ID, []byte{id}),
				pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
				pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, decrypt),
				pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
				pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			}
		}
		generate := func(mech uint, attrs []*pkcs11.Attribute) error {
			attrs = append(attrs, pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32))
			_, err := ctx.GenerateKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, attrs)
			return err
		}
		if err := generate(pkcs11.CKM_AES_KEY_GEN, aesKey("master", 0x10, true)); err != nil {
			return err
		}
		if _, err := ctx.CreateObject(s, append(aesKey("known", 0x12, true), pkcs11.NewAttribute(pkcs11.CKA_VALUE, value))); err != nil {
			return err
		}
		generic := aesKey("generic", 0x13, true)
		generic[1] = pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET)
		if err := generate(pkcs11.CKM_GENERIC_SECRET_KEY_GEN, generic); err != nil {
			return err
		}
		return generate(pkcs11.CKM_AES_KEY_GEN, aesKey("encrypt-only", 0x14, false))
	})
	pinFile := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pinFile, []byte("1234\n"), 0o600)
	return hsm, "?module-path=" + hsm.Module + "&pin-source=file:" + pinFile
}

// onToken runs fn in a read-write session logged in to the token.
func onToken(t *testing.T, hsm *peertest.SoftHSM, token, pin string, fn func(*pkcs11.Ctx, pkcs11.SessionHandle) error) {
	t.Helper()
	s, err := openSession(&URI{Token: token}, Config{ModulePath: hsm.Module, PIN: pin}, pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := fn(s.ctx, s.handle); err != nil {
		t.Fatal(err)
	}
}

func openWrapper(t *testing.T, uri string) *Wrapper {
	t.Helper()
	w, err := OpenWrapper(uri, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestWrapOnToken(t *testing.T) {
	_, query := wrapToken(t)
	w := openWrapper(t, "pkcs11:token=shred;object=master"+query)
	dataKey := []byte("0123456789abcdef")
	a, err := w.Wrap(dataKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1+12+len(dataKey)+16 || a[0] != 1 {
		t.Fatalf("wrapped key %x: want version 1, a 12-byte IV, the ciphertext and a 16-byte tag", a)
	}
	if bytes.Contains(a, dataKey) {
		t.Fatal("the data key appears in the wrapped key")
	}
	b, err := w.Wrap(dataKey)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) || bytes.Equal(a[1:13], b[1:13]) {
		t.Errorf("two wraps of one key share an IV or a blob:\n%x\n%x", a, b)
	}
	for _, blob := range [][]byte{a, b} {
		got, err := w.Unwrap(blob)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, dataKey) {
			t.Fatalf("unwrapped %x, want %x", got, dataKey)
		}
	}

	// Every changed byte and every cut is refused, and the session stays
	// usable after each refusal.
	for i := range a {
		changed := bytes.Clone(a)
		changed[i] ^= 0x01
		if got, err := w.Unwrap(changed); err == nil {
			t.Errorf("byte %d flipped: unwrapped %x", i, got)
		}
	}
	for n := range len(a) {
		if got, err := w.Unwrap(a[:n]); err == nil {
			t.Errorf("cut to %d bytes: unwrapped %x", n, got)
		}
	}
	if got, err := w.Unwrap(append(bytes.Clone(a), 0)); err == nil {
		t.Errorf("a byte appended: unwrapped %x", got)
	}
	if got, err := w.Unwrap(a); err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("after the refusals: %x, %v", got, err)
	}
	if _, err := w.Wrap(nil); err == nil {
		t.Error("wrapped an empty key")
	}

	// A blob wrapped under another token key does not unwrap.
	other := openWrapperAfter(t, w, "pkcs11:token=shred;id=%11"+query)
	if got, err := other.Unwrap(a); err == nil || !strings.Contains(err.Error(), "does not unwrap under this master key") {
		t.Errorf("under another key: %x, %v", got, err)
	}
	if _, err := other.Wrap(dataKey); err != nil {
		t.Error(err)
	}
}

// openWrapperAfter closes w, checks it refuses to wrap, and opens uri: a new
// session, as after a restart (with no other Key or Wrapper open, the module
// is finalised and initialised again).
func openWrapperAfter(t *testing.T, w *Wrapper, uri string) *Wrapper {
	t.Helper()
	w.Close()
	if _, err := w.Wrap([]byte("k")); !errors.Is(err, errWrapperClosed) {
		t.Errorf("Wrap after Close: %v", err)
	}
	return openWrapper(t, uri)
}

// TestWrapFormat checks the token's blobs against the format documented in
// wrap.go, with Go's AES-GCM as the independent implementation.
func TestWrapFormat(t *testing.T) {
	_, query := wrapToken(t)
	w := openWrapper(t, "pkcs11:token=shred;object=known"+query)
	want, _ := hex.DecodeString(knownDataKey)
	vector, _ := hex.DecodeString(knownWrapped)
	got, err := w.Unwrap(vector)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("fixed vector unwrapped to %x, want %x", got, want)
	}

	wrapped, err := w.Wrap(want)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(knownKey)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	got, err = aead.Open(nil, wrapped[1:13], wrapped[13:], []byte("hegui-pkcs11-wrap-v1"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("crypto/aes opens the token's blob as %x, %v", got, err)
	}
}

func TestWrapConcurrent(t *testing.T) {
	_, query := wrapToken(t)
	w := openWrapper(t, "pkcs11:token=shred;object=master"+query)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				dataKey := []byte{byte(g), byte(i), 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
				blob, err := w.Wrap(dataKey)
				if err == nil {
					var got []byte
					if got, err = w.Unwrap(blob); err == nil && !bytes.Equal(got, dataKey) {
						err = errors.New("unwrapped another key")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOpenWrapperErrors(t *testing.T) {
	hsm, query := wrapToken(t)
	wrongPin := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongPin, []byte("9999"), 0o600)
	cases := []struct{ uri, want string }{
		{"pkcs11:token=shred;object=master?module-path=" + hsm.Module + "&pin-source=file:" + wrongPin, "wrong PIN"},
		{"pkcs11:token=shred;object=nope" + query, `no secret key with label "nope"`},
		{"pkcs11:token=shred;id=%99" + query, "no secret key with id 99 on the token"},
		{"pkcs11:token=shred;object=ec" + query, `label "ec" names a private key and a public key on the token, not a secret key`},
		{"pkcs11:token=shred;object=master;id=%11" + query, `no secret key with label "master" and id 11`},
		{"pkcs11:token=shred;object=generic" + query, "has type 0x10, not AES"},
		{"pkcs11:token=shred;object=encrypt-only" + query, "may not both encrypt and decrypt"},
		{"pkcs11:token=other;object=master" + query, "no token matches"},
		{"pkcs11:token=shred;object=master?pin-value=1234", "no PKCS#11 module"},
		{"pkcs11:token=shred", "object=LABEL or id"},
		{"pkcs11:token=shred;object=master;type=private" + query, "a master key for shred (OpenWrapper) has type=secret-key"},
	}
	for _, c := range cases {
		w, err := OpenWrapper(c.uri, Config{})
		if err == nil {
			w.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OpenWrapper(%s): err = %v, want %q", c.uri, err, c.want)
		}
	}
	// Config supplies module and PIN when the URI does not.
	w, err := OpenWrapper("pkcs11:token=shred;object=master", Config{ModulePath: hsm.Module, PIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// TestShredWithTokenMasterKey runs crypto-shredding end to end with the
// master key on the token: the data keys in the FileStore are wrapped by it.
func TestShredWithTokenMasterKey(t *testing.T) {
	_, query := wrapToken(t)
	uri := "pkcs11:token=shred;object=master" + query
	ctx := context.Background()
	store := shred.FileStore{Dir: t.TempDir()}
	subjectKey := []byte("subject-naming-key-0123456789")
	record := []byte(`{"name":"李雷","phone":"13800000000"}`)

	w := openWrapper(t, uri)
	s := &shred.Shredder{Store: store, Wrapper: w, SubjectKey: subjectKey}
	sealed, err := s.Encrypt(ctx, "user:42", record)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Decrypt(ctx, "user:42", sealed); err != nil || !bytes.Equal(got, record) {
		t.Fatalf("Decrypt: %q, %v", got, err)
	}
	stored, err := store.Load(ctx, shred.SubjectName(subjectKey, "user:42"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Wrapped) != 1+12+16+16 || stored.Wrapped[0] != 1 {
		t.Errorf("stored wrapped key %x is not a token-wrapped SM4 key", stored.Wrapped)
	}

	// A restarted service opens the token again, in a new session.
	w = openWrapperAfter(t, w, uri)
	s = &shred.Shredder{Store: store, Wrapper: w, SubjectKey: subjectKey}
	if got, err := s.Decrypt(ctx, "user:42", sealed); err != nil || !bytes.Equal(got, record) {
		t.Fatalf("Decrypt after reopening: %q, %v", got, err)
	}

	if err := s.Forget(ctx, "user:42"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Decrypt(ctx, "user:42", sealed); !errors.Is(err, shred.ErrDestroyed) {
		t.Errorf("Decrypt after Forget: %q, %v, want shred.ErrDestroyed", got, err)
	}

	// Under another master key, a live subject's records do not decrypt.
	sealed43, err := s.Encrypt(ctx, "user:43", record)
	if err != nil {
		t.Fatal(err)
	}
	w = openWrapperAfter(t, w, "pkcs11:token=shred;object=other"+query)
	s = &shred.Shredder{Store: store, Wrapper: w, SubjectKey: subjectKey}
	if _, err := s.Decrypt(ctx, "user:43", sealed43); err == nil || errors.Is(err, shred.ErrDestroyed) {
		t.Errorf("Decrypt under another master key: %v, want a failure to unwrap", err)
	}
}
