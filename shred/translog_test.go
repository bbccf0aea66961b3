package shred_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/shred"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// These tests erase subjects with a real hegui log server recording the
// erasures, and read the log back as an auditor would: through its signed
// checkpoint and inclusion proofs, trusting only the log's log.pub.

// logSubjectKey names subjects in these tests (a fixture, not a secret).
var logSubjectKey = []byte("a test subject key for the log")

// erasedAt is the Shredder's clock, so the event's time is known.
var erasedAt = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

// testLog is a log home served by the real log server on 127.0.0.1.
type testLog struct {
	home      *logserver.Home
	token     string // a writer allowed subject.* only
	verifiers []note.Verifier
	url       string
	stop      func()
}

// newTestLog initialises a log home with a writer for erasures and serves
// it.
func newTestLog(t *testing.T) *testLog {
	t.Helper()
	h, err := logserver.Init(filepath.Join(t.TempDir(), "log"), logserver.InitOptions{Origin: "audit.test.example/shred"})
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{home: h}
	if l.token, err = logserver.AddToken(h.Dir, "crm", []string{"subject.*"}); err != nil {
		t.Fatal(err)
	}
	// The keys a reader of the log is given: both the Ed25519 and the SM2
	// signature of every checkpoint are checked.
	if l.verifiers, err = translog.ReadVerifierKeys(filepath.Join(h.Dir, logserver.PublicKeyFile)); err != nil {
		t.Fatal(err)
	}
	if len(l.verifiers) != 2 {
		t.Fatalf("log.pub holds %d keys, want Ed25519 and SM2", len(l.verifiers))
	}
	l.serve(t)
	return l
}

// serve starts the server on the log home; stop closes it.
func (l *testLog) serve(t *testing.T) {
	t.Helper()
	h, err := logserver.Open(l.home.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// The shortest interval Tessera's POSIX driver allows: each erasure
	// waits for a checkpoint.
	h.Config.CheckpointInterval = logserver.Duration(100 * time.Millisecond)
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	l.url = hs.URL
	stopped := false
	l.stop = func() {
		if stopped {
			return
		}
		stopped = true
		hs.Close()
		if err := srv.Close(context.Background()); err != nil {
			t.Errorf("closing the log server: %v", err)
		}
	}
	t.Cleanup(l.stop)
}

// auditor records erasures in the log as the service "service:crm".
func (l *testLog) auditor(t *testing.T) translog.ErasureAuditor {
	t.Helper()
	app, err := translog.NewHTTPAppender(l.url, l.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	return translog.ErasureAuditor{Appender: app, Actor: "service:crm"}
}

// erasure is a subject.erase entry of the log, proven included.
type erasure struct {
	index uint64
	entry []byte
}

// erasures reads the log's latest checkpoint, verified with log.pub, and
// every entry it covers, and returns the subject.erase events, each with
// its inclusion proof checked offline against that checkpoint.
func (l *testLog) erasures(t *testing.T) []erasure {
	t.Helper()
	ctx := t.Context()
	src, err := logclient.OpenSource(l.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(src, l.verifiers)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.Checkpoint(ctx)
	if err != nil {
		t.Fatalf("the log's checkpoint: %v", err)
	}
	var out []erasure
	for i := range cp.Size {
		entry, err := c.Entry(ctx, i, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Inclusion(ctx, entry, i, cp)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		// The proof as a reader keeps it (C2SP tlog-proof), checked
		// with nothing but log.pub.
		parsed, err := translog.ParseInclusionProof(p.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := parsed.Verify(entry, l.verifiers); err != nil || got.Size != cp.Size {
			t.Fatalf("entry %d: offline proof: %v", i, err)
		}
		e, err := translog.ParseEvent(entry)
		if err != nil {
			t.Fatalf("entry %d is not an audit event: %v", i, err)
		}
		if e.Action == translog.ErasureAction {
			out = append(out, erasure{index: i, entry: entry})
		}
	}
	return out
}

// wantErasure is the entry an erasure of the subject named name, key
// keyID, must be: its canonical bytes.
func wantErasure(t *testing.T, name, keyID string) []byte {
	t.Helper()
	e := translog.Event{
		Time: erasedAt, Actor: "service:crm", Action: "subject.erase", Object: "subject:" + name,
		Outcome: translog.OutcomeSuccess, Attributes: map[string]string{"key_id": keyID},
	}
	c, err := e.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// filesContaining lists the files below dir that contain s.
func filesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(s)) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func newShredder(t *testing.T, auditor shred.Auditor) *shred.Shredder {
	t.Helper()
	master, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &shred.Shredder{
		Store:      shred.FileStore{Dir: t.TempDir()},
		Wrapper:    shred.SM2Wrapper{Public: &master.PublicKey, Private: master},
		SubjectKey: logSubjectKey,
		Auditor:    auditor,
		Now:        func() time.Time { return erasedAt },
	}
}

// TestErasureRecordedInLog: Forget returns once the erasure is in the
// log's signed tree; the entry names the subject by SubjectName and its
// key, and nothing the log stores holds the application's name for the
// subject; the other subject is neither erased nor named.
func TestErasureRecordedInLog(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t)
	s := newShredder(t, l.auditor(t))
	alice, bob := "user:alice@example.cn", "user:bob@example.cn"
	aliceName, bobName := shred.SubjectName(logSubjectKey, alice), shred.SubjectName(logSubjectKey, bob)
	ra, err := s.Encrypt(ctx, alice, []byte("alice's record"))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := s.Encrypt(ctx, bob, []byte("bob's record"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.Store.Load(ctx, aliceName)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Forget(ctx, alice); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	// No waiting here: Forget returned, so the latest checkpoint covers
	// the event.
	got := l.erasures(t)
	if len(got) != 1 {
		t.Fatalf("the log holds %d erasures, want 1", len(got))
	}
	if want := wantErasure(t, aliceName, key.ID); !bytes.Equal(got[0].entry, want) {
		t.Fatalf("entry %d is\n%s\nwant\n%s", got[0].index, got[0].entry, want)
	}

	if _, err := s.Decrypt(ctx, alice, ra); !errors.Is(err, shred.ErrDestroyed) {
		t.Fatalf("alice's record after Forget: %v", err)
	}
	if plain, err := s.Decrypt(ctx, bob, rb); err != nil || string(plain) != "bob's record" {
		t.Fatalf("bob's record after alice was erased: %q, %v", plain, err)
	}

	// What the log keeps on disk (keys, writers, tiles, entry bundles,
	// Tessera's state) holds alice's SubjectName, and neither her own name
	// nor anything of bob's.
	l.stop()
	if files := filesContaining(t, l.home.Dir, aliceName); len(files) == 0 {
		t.Fatalf("no file below %s holds the logged SubjectName: the search below would find nothing either", l.home.Dir)
	}
	for _, secret := range []string{alice, "alice", bob, bobName} {
		if files := filesContaining(t, l.home.Dir, secret); len(files) > 0 {
			t.Errorf("the log's storage holds %q in %v", secret, files)
		}
	}
}

// TestErasureWhileLogDown: with the log down, Forget still destroys the
// key and says the event was not recorded; forgetting again records
// nothing, and the event recorded once the log is back is proven in it.
func TestErasureWhileLogDown(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t)
	s := newShredder(t, l.auditor(t))
	alice := "user:alice@example.cn"
	aliceName := shred.SubjectName(logSubjectKey, alice)
	ra, err := s.Encrypt(ctx, alice, []byte("alice's record"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.Store.Load(ctx, aliceName)
	if err != nil {
		t.Fatal(err)
	}

	l.stop()
	err = s.Forget(ctx, alice)
	var down *translog.UnavailableError
	if !errors.As(err, &down) || !strings.Contains(err.Error(), "the key "+key.ID+" was destroyed, but recording it failed") {
		t.Fatalf("Forget with the log down = %v, want the key destroyed and a *translog.UnavailableError", err)
	}
	if strings.Contains(err.Error(), alice) {
		t.Errorf("the error names the subject as the application does: %v", err)
	}
	if _, err := s.Decrypt(ctx, alice, ra); !errors.Is(err, shred.ErrDestroyed) {
		t.Fatalf("alice's record after a Forget whose recording failed: %v", err)
	}
	if _, err := s.Store.Load(ctx, aliceName); !errors.Is(err, shred.ErrDestroyed) {
		t.Fatalf("the key after a Forget whose recording failed: %v", err)
	}
	// The key is gone: forgetting again is done already, and records
	// nothing; recording is the caller's.
	if err := s.Forget(ctx, alice); err != nil {
		t.Fatalf("Forget again: %v", err)
	}

	l.serve(t)
	if got := l.erasures(t); len(got) != 0 {
		t.Fatalf("the log holds %d erasures before it was recorded again", len(got))
	}
	if err := l.auditor(t).Destroyed(ctx, aliceName, key.ID, erasedAt); err != nil {
		t.Fatalf("recording the erasure again: %v", err)
	}
	got := l.erasures(t)
	if len(got) != 1 || !bytes.Equal(got[0].entry, wantErasure(t, aliceName, key.ID)) {
		t.Fatalf("the log holds %d erasures, want alice's: %+v", len(got), got)
	}
}
