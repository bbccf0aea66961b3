package keyring

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/sign"
)

var testProt = keys.Protection{PRF: keys.PRFHMACSM3, Cipher: keys.CipherSM4CBC, Iterations: keys.MinIterations}

func pw(s string) keys.PasswordFunc { return func() ([]byte, error) { return []byte(s), nil } }

func newKeyring(t *testing.T) *Keyring {
	t.Helper()
	r, err := Open(filepath.Join(t.TempDir(), "keyring"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func generate(t *testing.T, r *Keyring, name string, alg keys.Algorithm) *Entry {
	t.Helper()
	priv, err := keys.Generate(alg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Add(name, priv, []byte("pw"), testProt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLifecycle(t *testing.T) {
	r := newKeyring(t)
	first := generate(t, r, "release", keys.SM2)
	if first.State != Active || first.Algorithm != keys.SM2 {
		t.Fatalf("new entry %+v", first)
	}
	if fi, err := os.Stat(filepath.Join(r.Dir(), first.ID+".key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key file mode %v, %v", fi.Mode(), err)
	}

	// The name, the ID and an ID prefix all find the key.
	for _, ref := range []string{"release", first.ID, first.ID[:8], strings.ToUpper(first.ID[:12])} {
		e, err := r.Find(ref)
		if err != nil || e.ID != first.ID {
			t.Errorf("Find(%q) = %v, %v", ref, e, err)
		}
	}

	msg := []byte("artifact")
	signer, err := r.Signer(first, pw("pw"))
	if err != nil {
		t.Fatal(err)
	}
	oldSig, err := sign.Sign(context.Background(), signer, bytes.NewReader(msg), sign.Options{})
	if err != nil {
		t.Fatal(err)
	}

	second, old, err := r.Rotate(context.Background(), "release", "", []byte("pw2"), testProt)
	if err != nil {
		t.Fatal(err)
	}
	if old.ID != first.ID || old.State != Deactivated || old.ReplacedBy != second.ID || second.Replaces != first.ID {
		t.Errorf("rotation links: old %+v new %+v", old, second)
	}
	if second.Algorithm != keys.SM2 || second.State != Active || second.ID == first.ID {
		t.Errorf("rotated entry %+v", second)
	}
	if e, _ := r.Find("release"); e.ID != second.ID {
		t.Errorf("name resolves to %s after rotation", e.ID)
	}
	deactivated, _ := r.Find(first.ID)
	if _, err := r.Signer(deactivated, pw("pw")); !errors.Is(err, ErrNotActive) || !strings.Contains(err.Error(), "DEACTIVATED") {
		t.Errorf("signing with a deactivated key: %v", err)
	}
	pub, err := r.PublicKey(deactivated)
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.Verify(context.Background(), pub, bytes.NewReader(msg), oldSig, sign.Options{}); err != nil {
		t.Errorf("old signature with deactivated key: %v", err)
	}

	if _, err := r.Destroy("release"); err == nil || !strings.Contains(err.Error(), "deactivate it first") {
		t.Errorf("destroying the ACTIVE key: %v", err)
	}
	destroyed, err := r.Destroy(first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if destroyed.State != Destroyed || destroyed.Destroyed == nil {
		t.Errorf("destroyed entry %+v", destroyed)
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), first.ID+".key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("private key still present: %v", err)
	}
	e, _ := r.Find(first.ID)
	if _, err := r.Signer(e, pw("pw")); !errors.Is(err, ErrNotActive) || !strings.Contains(err.Error(), "no longer exists") {
		t.Errorf("signing with a destroyed key: %v", err)
	}
	pub, err = r.PublicKey(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.Verify(context.Background(), pub, bytes.NewReader(msg), oldSig, sign.Options{}); err != nil {
		t.Errorf("old signature with destroyed key: %v", err)
	}
	if _, err := r.Destroy(first.ID); err == nil {
		t.Error("destroyed twice")
	}

	list, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
		t.Errorf("list order %v", list)
	}
}

func TestDeactivateOnlyActive(t *testing.T) {
	r := newKeyring(t)
	e := generate(t, r, "ci", keys.Ed25519)
	if _, err := r.Deactivate("ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Deactivate(e.ID); err == nil {
		t.Error("deactivated twice")
	}
	if _, err := r.Find("ci"); err == nil || !strings.Contains(err.Error(), "no ACTIVE key") {
		t.Errorf("Find of a name without an ACTIVE key: %v", err)
	}
	if _, _, err := r.Rotate(context.Background(), "ci", "", nil, testProt); err == nil {
		t.Error("rotated a name without an ACTIVE key")
	}
}

func TestAddRefusals(t *testing.T) {
	r := newKeyring(t)
	generate(t, r, "release", keys.ECDSAP256)
	priv, _ := keys.Generate(keys.SM2, nil)
	if _, err := r.Add("release", priv, nil, testProt); err == nil || !strings.Contains(err.Error(), "rotate") {
		t.Errorf("second ACTIVE key under one name: %v", err)
	}
	for _, name := range []string{"", "Release", "../x", "a b", strings.Repeat("a", 65)} {
		if _, err := r.Add(name, priv, nil, testProt); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := r.Add("other", priv, nil, testProt); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add("third", priv, nil, testProt); err == nil {
		t.Error("the same key added twice")
	}
}

func TestUnencryptedAndWrongPassword(t *testing.T) {
	r := newKeyring(t)
	priv, _ := keys.Generate(keys.SM2, nil)
	plain, err := r.Add("plain", priv, nil, testProt)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Protection != nil {
		t.Error("unencrypted key has protection metadata")
	}
	if _, err := r.Signer(plain, func() ([]byte, error) { t.Error("password asked"); return nil, nil }); err != nil {
		t.Fatal(err)
	}
	enc := generate(t, r, "enc", keys.SM2)
	if _, err := r.Signer(enc, pw("wrong")); !errors.Is(err, keys.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
}

func TestFindErrors(t *testing.T) {
	r := newKeyring(t)
	a := generate(t, r, "a", keys.SM2)
	for _, ref := range []string{"missing", a.ID[:7], "0000000000"} {
		if _, err := r.Find(ref); err == nil {
			t.Errorf("Find(%q) succeeded", ref)
		}
	}
}

func TestCorruptEntry(t *testing.T) {
	r := newKeyring(t)
	e := generate(t, r, "a", keys.SM2)
	path := filepath.Join(r.Dir(), e.ID+".json")
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := r.List(); err == nil || !strings.Contains(err.Error(), e.ID+".json") {
		t.Errorf("corrupt entry: %v", err)
	}
	os.WriteFile(path, []byte(`{"schema":"hegui.dev/keyring-entry/v1","id":"`+e.ID+`","state":"LOST"}`), 0o644)
	if _, err := r.List(); err == nil || !strings.Contains(err.Error(), "LOST") {
		t.Errorf("unknown state: %v", err)
	}
}

// TestConcurrentRotation: rotations racing from several goroutines (each
// taking the directory lock through its own file) leave exactly one ACTIVE
// key and an unbroken chain of replacements.
func TestConcurrentRotation(t *testing.T) {
	r := newKeyring(t)
	generate(t, r, "release", keys.Ed25519)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, _, err := r.Rotate(context.Background(), "release", "", nil, testProt); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	list, _ := r.List()
	active := 0
	byID := map[string]*Entry{}
	for _, e := range list {
		byID[e.ID] = e
		if e.State == Active {
			active++
		}
	}
	if active != 1 || len(list) != 9 {
		t.Fatalf("%d keys, %d ACTIVE", len(list), active)
	}
	for _, e := range list {
		if e.State == Deactivated && byID[e.ReplacedBy] == nil {
			t.Errorf("%s replaced by unknown key %s", e.ID, e.ReplacedBy)
		}
	}
}

// TestCancelledChangesLeaveNothing: adding or rotating a key whose
// password is still being stretched when the context ends writes nothing.
func TestCancelledChangesLeaveNothing(t *testing.T) {
	r := newKeyring(t)
	generate(t, r, "release", keys.SM2)
	before, _ := os.ReadDir(r.Dir())
	slow := testProt
	slow.Iterations = keys.MaxIterations // seconds of PBKDF2; the context ends first

	for name, change := range map[string]func(context.Context) error{
		"add": func(ctx context.Context) error {
			priv, _ := keys.Generate(keys.SM2, nil)
			_, err := r.AddContext(ctx, "ci", priv, []byte("pw"), slow)
			return err
		},
		"rotate": func(ctx context.Context) error {
			_, _, err := r.Rotate(ctx, "release", "", []byte("pw"), slow)
			return err
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := change(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want the context's end", name, err)
		}
		after, _ := os.ReadDir(r.Dir())
		if len(after) != len(before) {
			t.Errorf("%s: the keyring went from %d to %d files", name, len(before), len(after))
		}
		if e, err := r.Find("release"); err != nil || e.State != Active {
			t.Errorf("%s: release is %v, %v", name, e, err)
		}
	}
}
