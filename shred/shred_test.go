package shred

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"hegui.dev/hegui/internal/peertest"
)

// subjectKey names subjects in the tests (a fixture, not a secret).
var subjectKey = []byte("a test subject key")

func newWrapper(t *testing.T) SM2Wrapper {
	t.Helper()
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return SM2Wrapper{Public: &priv.PublicKey, Private: priv}
}

// stores are the stores the tests run against: a directory and MariaDB.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	return map[string]Store{"file": FileStore{Dir: t.TempDir()}, "mariadb": mariaDBStore(t)}
}

// mariaDBStore is an SQLStore in a database of the test's own on the
// local MariaDB.
func mariaDBStore(t *testing.T) Store {
	t.Helper()
	db, err := sql.Open("mysql", peertest.MariaDB(t)+"?parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := SQLStore{DB: db}
	if err := s.EnsureSchema(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShredder(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			var audited []string
			var mu sync.Mutex
			s := &Shredder{Store: store, Wrapper: newWrapper(t), SubjectKey: subjectKey, Auditor: AuditFunc(func(_ context.Context, subject, keyID string, at time.Time) error {
				mu.Lock()
				defer mu.Unlock()
				audited = append(audited, subject+" "+keyID)
				return nil
			})}
			alice, bob := "user:alice@example.cn", "user:bob"
			r1, err := s.Encrypt(ctx, alice, []byte("身份证 11010519491231002X"))
			if err != nil {
				t.Fatal(err)
			}
			r2, _ := s.Encrypt(ctx, alice, []byte{0xff, 0x00})
			rb, _ := s.Encrypt(ctx, bob, []byte("bob's"))
			if got, err := s.Decrypt(ctx, alice, r1); err != nil || string(got) != "身份证 11010519491231002X" {
				t.Fatalf("Decrypt = %q, %v", got, err)
			}
			// A record is its subject's: not another's, not changed.
			if _, err := s.Decrypt(ctx, bob, r1); err == nil {
				t.Fatal("alice's record decrypted as bob's")
			}
			changed := append([]byte(nil), r1...)
			changed[len(changed)-1] ^= 1
			if _, err := s.Decrypt(ctx, alice, changed); err == nil {
				t.Fatal("a changed record decrypted")
			}
			// Export for portability.
			doc, err := s.Export(ctx, alice, [][]byte{r1, r2})
			if err != nil || !json.Valid(doc) || !strings.Contains(string(doc), `"text": "身份证 11010519491231002X"`) || !strings.Contains(string(doc), `"base64": "/wA="`) {
				t.Fatalf("Export: %v\n%s", err, doc)
			}
			// Forget alice: her records are gone, bob's are not; the
			// erasure is recorded once; forgetting again is no error.
			if err := s.Forget(ctx, alice); err != nil {
				t.Fatal(err)
			}
			if err := s.Forget(ctx, alice); err != nil {
				t.Fatalf("forgetting twice: %v", err)
			}
			if _, err := s.Decrypt(ctx, alice, r1); !errors.Is(err, ErrDestroyed) {
				t.Fatalf("after Forget: %v", err)
			}
			if got, err := s.Decrypt(ctx, bob, rb); err != nil || string(got) != "bob's" {
				t.Fatalf("bob after alice was forgotten: %q %v", got, err)
			}
			if len(audited) != 1 || !strings.HasPrefix(audited[0], SubjectName(subjectKey, alice)+" ") {
				t.Fatalf("audited %q", audited)
			}
			// Alice comes back: a new key; her old records stay erased.
			r3, err := s.Encrypt(ctx, alice, []byte("new"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := s.Decrypt(ctx, alice, r3); err != nil || string(got) != "new" {
				t.Fatalf("after coming back: %q %v", got, err)
			}
			if _, err := s.Decrypt(ctx, alice, r1); !errors.Is(err, ErrDestroyed) {
				t.Fatalf("an old record after coming back: %v", err)
			}
			if err := s.Forget(ctx, "user:nobody"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("forgetting a stranger: %v", err)
			}
			// Many first writes at once agree on one key.
			var wg sync.WaitGroup
			records := make([][]byte, 8)
			errs := make([]error, 8)
			for i := range records {
				wg.Go(func() {
					records[i], errs[i] = s.Encrypt(ctx, "user:carol", []byte("c"))
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("concurrent first writes: %v", err)
			}
			for i, r := range records {
				if got, err := s.Decrypt(ctx, "user:carol", r); err != nil || string(got) != "c" {
					t.Fatalf("concurrent record %d: %q %v", i, got, err)
				}
			}
		})
	}
}

// TestFileStoreErases checks what is on disk after Forget: no key file,
// no wrapped key anywhere in the directory, a tombstone.
func TestFileStoreErases(t *testing.T) {
	dir := t.TempDir()
	s := &Shredder{Store: FileStore{Dir: dir}, Wrapper: newWrapper(t), SubjectKey: subjectKey}
	if _, err := s.Encrypt(t.Context(), "user:alice", []byte("x")); err != nil {
		t.Fatal(err)
	}
	h := SubjectName(subjectKey, "user:alice")
	key, _ := s.Store.Load(t.Context(), h)
	if err := s.Forget(t.Context(), "user:alice"); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		if strings.Contains(string(data), string(key.Wrapped)) || strings.Contains(string(data), "wrapped") {
			t.Errorf("%s still holds the wrapped key", p)
		}
		if strings.Contains(p, "user:alice") || strings.Contains(string(data), "alice") {
			t.Errorf("%s names the subject", p)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(dir, h[:2], h+".destroyed")); err != nil {
		t.Fatalf("no tombstone: %v", err)
	}
	if _, err := (FileStore{Dir: dir}).Load(t.Context(), "../../etc/passwd"); err == nil {
		t.Fatal("a path as a subject hash")
	}
}

// forgetting is a store that erases the subject right after the first
// load, as a Forget running between Encrypt's load and its seal would.
type forgetting struct {
	Store
	once sync.Once
}

func (f *forgetting) Load(ctx context.Context, h string) (Key, error) {
	k, err := f.Store.Load(ctx, h)
	if err == nil {
		f.once.Do(func() { f.Store.Destroy(ctx, h) })
	}
	return k, err
}

// TestEncryptRacingForget: a record sealed under a key destroyed meanwhile
// is an error, not a record nobody can read.
func TestEncryptRacingForget(t *testing.T) {
	inner := FileStore{Dir: t.TempDir()}
	s := &Shredder{Store: inner, Wrapper: newWrapper(t), SubjectKey: subjectKey}
	if _, err := s.Encrypt(t.Context(), "user:dave", []byte("first")); err != nil {
		t.Fatal(err)
	}
	s.Store = &forgetting{Store: inner}
	if r, err := s.Encrypt(t.Context(), "user:dave", []byte("second")); !errors.Is(err, ErrDestroyed) {
		t.Fatalf("Encrypt while erased: %x, %v", r, err)
	}
}

func TestSubjectKey(t *testing.T) {
	s := &Shredder{Store: FileStore{Dir: t.TempDir()}, Wrapper: newWrapper(t)}
	if _, err := s.Encrypt(t.Context(), "user:erin", []byte("x")); err == nil || !strings.Contains(err.Error(), "SubjectKey") {
		t.Fatalf("no SubjectKey: %v", err)
	}
	if SubjectName(subjectKey, "13812345678") == SubjectName([]byte("another key, 16+ b"), "13812345678") {
		t.Fatal("the name does not depend on the key")
	}
}

// TestFileStoreDestroyCutShort: a destroy stopped after it claimed the
// key file counts as done, and the next one finishes it.
func TestFileStoreDestroyCutShort(t *testing.T) {
	fs := FileStore{Dir: t.TempDir()}
	h := SubjectName(subjectKey, "user:frank")
	if err := fs.Create(t.Context(), h, Key{ID: "0011223344556677", Wrapped: []byte("wrapped-key-bytes")}); err != nil {
		t.Fatal(err)
	}
	live, dead := fs.paths(h)
	if err := os.Rename(live, live+".destroying"); err != nil { // the crash
		t.Fatal(err)
	}
	if _, err := fs.Load(t.Context(), h); !errors.Is(err, ErrDestroyed) {
		t.Fatalf("Load after a cut-short destroy: %v", err)
	}
	if id, err := fs.Destroy(t.Context(), h); err != nil || id != "0011223344556677" {
		t.Fatalf("Destroy again: %q %v", id, err)
	}
	if _, err := os.Stat(live + ".destroying"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the claimed file is left: %v", err)
	}
	if _, err := os.Stat(dead); err != nil {
		t.Fatalf("no tombstone: %v", err)
	}
}
