//go:build cgo

package pkcs11key

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"
)

// loaded returns how many modules the process holds and how many sessions
// are open on them.
func loaded() (mods, sessions int) {
	modules.Lock()
	defer modules.Unlock()
	for _, m := range modules.byPath {
		sessions += m.sessions
	}
	return len(modules.byPath), sessions
}

func openKey(t *testing.T, uri string) *Key {
	t.Helper()
	key, err := Open(uri, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { key.Close() })
	return key
}

// signAndVerify signs a digest with the key and checks the signature.
func signAndVerify(key *Key, msg string) error {
	digest := sha256.Sum256([]byte(msg))
	sig, err := key.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	if !ecdsa.VerifyASN1(key.Public().(*ecdsa.PublicKey), digest[:], sig) {
		return errors.New("the token's signature does not verify")
	}
	return nil
}

// roundTrip wraps and unwraps a data key.
func roundTrip(w *Wrapper, dataKey []byte) error {
	blob, err := w.Wrap(dataKey)
	if err != nil {
		return err
	}
	got, err := w.Unwrap(blob)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, dataKey) {
		return fmt.Errorf("unwrapped %x, want %x", got, dataKey)
	}
	return nil
}

// TestKeyAndWrapperShareModule: a signing Key and a Wrapper on one token,
// closed in either order, leave each other working; the last to close
// finalises the module.
func TestKeyAndWrapperShareModule(t *testing.T) {
	hsm, query := wrapToken(t)
	keyURI := "pkcs11:token=shred;object=ec;type=private" + query
	wrapURI := "pkcs11:token=shred;object=master;type=secret-key" + query
	dataKey := []byte("0123456789abcdef")

	key := openKey(t, keyURI)
	w := openWrapper(t, wrapURI)
	if mods, sessions := loaded(); mods != 1 || sessions != 2 {
		t.Fatalf("%d modules loaded with %d sessions, want 1 with 2", mods, sessions)
	}
	blob, err := w.Wrap(dataKey)
	if err != nil {
		t.Fatal(err)
	}

	if err := key.Close(); err != nil {
		t.Fatal(err)
	}
	if err := signAndVerify(key, "after Close"); !errors.Is(err, errKeyClosed) {
		t.Errorf("Sign after Close: %v", err)
	}
	if got, err := w.Unwrap(blob); err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("Unwrap after the key was closed: %x, %v", got, err)
	}
	if err := roundTrip(w, dataKey); err != nil {
		t.Fatalf("after the key was closed: %v", err)
	}

	key = openKey(t, keyURI)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := signAndVerify(key, "after the wrapper was closed"); err != nil {
		t.Fatalf("after the wrapper was closed: %v", err)
	}
	if err := key.Close(); err != nil {
		t.Fatal(err)
	}

	// Both closed: the module is finalised, so C_Initialize succeeds
	// instead of reporting CKR_CRYPTOKI_ALREADY_INITIALIZED.
	if mods, sessions := loaded(); mods != 0 {
		t.Fatalf("%d modules still loaded, with %d sessions", mods, sessions)
	}
	ctx := pkcs11.New(hsm.Module)
	if err := ctx.Initialize(); err != nil {
		t.Fatalf("the module is still initialised: %v", err)
	}
	ctx.Finalize()
	ctx.Destroy()

	w = openWrapper(t, wrapURI)
	if got, err := w.Unwrap(blob); err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("Unwrap after reopening: %x, %v", got, err)
	}
}

// TestTokenLogin: the process's sessions on a token share one login. Closing
// one leaves the others logged in; closing the last logs the token out
// (C_CloseSession), with no C_Logout.
func TestTokenLogin(t *testing.T) {
	hsm, query := wrapToken(t)
	hsm.InitToken("second", "5678")
	hsm.GenerateKeyPair("second", "5678", "EC:prime256v1", "sig", "01")
	pin2 := filepath.Join(t.TempDir(), "pin2")
	os.WriteFile(pin2, []byte("5678"), 0o600)
	wrongPin := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongPin, []byte("9999"), 0o600)
	wrapURI := "pkcs11:token=shred;object=master" + query

	// A key on another token of the module keeps the module loaded.
	key := openKey(t, "pkcs11:token=second;object=sig?module-path="+hsm.Module+"&pin-source=file:"+pin2)
	slot, err := findSlot(key.s.ctx, &URI{Token: "shred"})
	if err != nil {
		t.Fatal(err)
	}
	// state opens a session on the token "shred" and returns its state.
	state := func() uint {
		t.Helper()
		h, err := key.s.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		defer key.s.ctx.CloseSession(h)
		info, err := key.s.ctx.GetSessionInfo(h)
		if err != nil {
			t.Fatal(err)
		}
		return info.State
	}
	if got := state(); got != pkcs11.CKS_RO_PUBLIC_SESSION {
		t.Fatalf("before any wrapper: session state %d, want public (%d)", got, pkcs11.CKS_RO_PUBLIC_SESSION)
	}

	w1 := openWrapper(t, wrapURI)
	w2 := openWrapper(t, wrapURI)
	if got := state(); got != pkcs11.CKS_RO_USER_FUNCTIONS {
		t.Fatalf("with two wrappers open: session state %d, want logged in (%d)", got, pkcs11.CKS_RO_USER_FUNCTIONS)
	}
	// The token does not check the PIN of a session that joins a login;
	// the wrong PIN is still refused.
	if w, err := OpenWrapper("pkcs11:token=shred;object=master?module-path="+hsm.Module+"&pin-source=file:"+wrongPin, Config{}); err == nil || !strings.Contains(err.Error(), "wrong PIN") {
		if w != nil {
			w.Close()
		}
		t.Errorf("wrong PIN while logged in: %v", err)
	}
	// The same module by another name (a hard link) is the same module:
	// the wrong PIN is refused there too, and no second module is loaded.
	link := filepath.Join(t.TempDir(), "same-module.so")
	target, err := filepath.EvalSymlinks(hsm.Module) // Debian's is a symbolic link
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Link(target, link); err != nil {
		t.Fatalf("hard link of the module (the test's temporary directory must be on its file system): %v", err)
	}
	mods, _ := loaded()
	if w, err := OpenWrapper("pkcs11:token=shred;object=master?module-path="+link+"&pin-source=file:"+wrongPin, Config{}); err == nil || !strings.Contains(err.Error(), "wrong PIN") {
		if w != nil {
			w.Close()
		}
		t.Errorf("wrong PIN through a hard link of the module: %v", err)
	}
	if now, _ := loaded(); now != mods {
		t.Errorf("%d modules loaded after opening through a hard link, want %d", now, mods)
	}

	w1.Close()
	if got := state(); got != pkcs11.CKS_RO_USER_FUNCTIONS {
		t.Errorf("after closing one wrapper: session state %d, want logged in (%d)", got, pkcs11.CKS_RO_USER_FUNCTIONS)
	}
	if err := roundTrip(w2, []byte("0123456789abcdef")); err != nil {
		t.Fatalf("the other wrapper after one closed: %v", err)
	}

	w2.Close()
	if got := state(); got != pkcs11.CKS_RO_PUBLIC_SESSION {
		t.Errorf("after closing the last wrapper: session state %d, want public (%d)", got, pkcs11.CKS_RO_PUBLIC_SESSION)
	}
	if err := signAndVerify(key, "the other token"); err != nil {
		t.Fatalf("the key on the other token: %v", err)
	}
	if w, err := OpenWrapper("pkcs11:token=shred;object=master?module-path="+hsm.Module+"&pin-source=file:"+wrongPin, Config{}); err == nil || !strings.Contains(err.Error(), "wrong PIN") {
		if w != nil {
			w.Close()
		}
		t.Errorf("wrong PIN after logging out: %v", err)
	}
}

// TestOpenCloseConcurrent opens, uses and closes Keys and Wrappers on one
// token from many goroutines while a long-lived Wrapper keeps working.
func TestOpenCloseConcurrent(t *testing.T) {
	_, query := wrapToken(t)
	keyURI := "pkcs11:token=shred;object=ec" + query
	wrapURI := "pkcs11:token=shred;object=master" + query
	long := openWrapper(t, wrapURI)

	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			dataKey := []byte{byte(g), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
			for i := range 4 {
				var err error
				if (g+i)%2 == 0 {
					var key *Key
					if key, err = Open(keyURI, Config{}); err == nil {
						err = errors.Join(signAndVerify(key, "concurrent"), key.Close())
					}
				} else {
					var w *Wrapper
					if w, err = OpenWrapper(wrapURI, Config{}); err == nil {
						err = errors.Join(roundTrip(w, dataKey), w.Close())
					}
				}
				if err == nil {
					err = roundTrip(long, dataKey)
				}
				if err != nil {
					errs <- fmt.Errorf("goroutine %d, round %d: %w", g, i, err)
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
	if mods, sessions := loaded(); mods != 1 || sessions != 1 {
		t.Errorf("with one wrapper open: %d modules loaded with %d sessions, want 1 with 1", mods, sessions)
	}
	long.Close()
	if mods, sessions := loaded(); mods != 0 {
		t.Errorf("after the last close: %d modules loaded with %d sessions", mods, sessions)
	}
}
