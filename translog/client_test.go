// The tests of package logclient live here, beside the test logs, keys and
// trees of this package's tests (notekey_test.go, proof_test.go) that they
// read.

package translog_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/tessera/api/layout"
	"golang.org/x/mod/sumdb/tlog"

	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// tileFiles is a tlog-tiles log held in memory: its hash tiles made by
// x/mod/sumdb/tlog (whose height-8 tiles hold the same bytes as C2SP hash
// tiles), its entry bundles and a checkpoint, at paths from Tessera's
// layout. It serves them over HTTP and as a directory, so translog's
// client is checked against a second implementation of the tree.
type tileFiles struct {
	mu    sync.Mutex
	files map[string][]byte
}

// newTileFiles lays out tr's tree at each of sizes, as a log that grew
// through those sizes and kept its partial tiles; the checkpoint is that of
// the last size.
func newTileFiles(t testing.TB, tr *tlogTree, k logKeys, sizes ...int) *tileFiles {
	t.Helper()
	tf := &tileFiles{files: map[string][]byte{}}
	for _, n := range sizes {
		for level := 0; n>>(8*level) > 0; level++ {
			count := n >> (8 * level)
			for i := 0; i*256 < count; i++ {
				w := min(256, count-i*256)
				data, err := tlog.ReadTileData(tlog.Tile{H: 8, L: level, N: int64(i), W: w}, tr)
				if err != nil {
					t.Fatal(err)
				}
				tf.files[layout.TilePath(uint64(level), uint64(i), uint8(w%256))] = data
			}
		}
		for i := 0; i*256 < n; i++ {
			var b []byte
			end := min(n, (i+1)*256)
			for _, e := range tr.entries[i*256 : end] {
				b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
				b = append(b, e...)
			}
			tf.files[layout.EntriesPath(uint64(i), uint8((end-i*256)%256))] = b
		}
		tf.files[layout.CheckpointPath] = tr.signedCheckpoint(t, k, n).Raw
	}
	return tf
}

func (tf *tileFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tf.mu.Lock()
	data, ok := tf.files[strings.TrimPrefix(r.URL.Path, "/log/")]
	tf.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(data)
}

func (tf *tileFiles) set(path string, data []byte) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if data == nil {
		delete(tf.files, path)
		return
	}
	tf.files[path] = data
}

func (tf *tileFiles) get(path string) []byte {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	return bytes.Clone(tf.files[path])
}

// writeDir writes the files below a new directory and returns it.
func (tf *tileFiles) writeDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	tf.mu.Lock()
	defer tf.mu.Unlock()
	for p, data := range tf.files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// clients returns a client reading tf over HTTP and one reading it as a
// directory.
func (tf *tileFiles) clients(t testing.TB, k logKeys) map[string]*logclient.Client {
	t.Helper()
	srv := httptest.NewServer(tf)
	t.Cleanup(srv.Close)
	out := map[string]*logclient.Client{}
	for name, loc := range map[string]string{"http": srv.URL + "/log", "dir": tf.writeDir(t)} {
		src, err := logclient.OpenSource(loc, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := logclient.NewClient(src, k.verifiers)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = c
	}
	return out
}

func TestClientReadsTlogTiles(t *testing.T) {
	ctx := context.Background()
	k := newLogKeys(t, "log.example")
	entries := numberedEntries(600)
	tr := newTlogTree(t, entries)
	tf := newTileFiles(t, tr, k, 1, 100, 256, 300, 511, 512, 600)
	for name, c := range tf.clients(t, k) {
		t.Run(name, func(t *testing.T) {
			cp, err := c.Checkpoint(ctx)
			if err != nil {
				t.Fatalf("Checkpoint: %v", err)
			}
			if cp.Size != 600 || !bytes.Equal(cp.Root, tr.root(t, 600)) {
				t.Fatalf("Checkpoint = %v", cp)
			}
			for _, i := range []uint64{0, 1, 255, 256, 257, 511, 512, 599} {
				e, err := c.Entry(ctx, i, cp.Size)
				if err != nil {
					t.Fatalf("Entry(%d): %v", i, err)
				}
				if !bytes.Equal(e, entries[i]) {
					t.Fatalf("Entry(%d) = %q, want %q", i, e, entries[i])
				}
				p, err := c.Inclusion(ctx, e, i, cp)
				if err != nil {
					t.Fatalf("Inclusion(%d): %v", i, err)
				}
				if want := tr.inclusion(t, int(i), 600); len(p.Hashes) != len(want) {
					t.Fatalf("Inclusion(%d) has %d hashes, tlog's proof %d", i, len(p.Hashes), len(want))
				}
				parsed, err := translog.ParseInclusionProof(p.Marshal())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := parsed.Verify(e, k.verifiers); err != nil {
					t.Fatalf("offline Verify(%d): %v", i, err)
				}
			}
			if _, err := c.Entry(ctx, 600, cp.Size); err == nil {
				t.Fatal("Entry(600) of a 600-entry log succeeded")
			}
			if _, err := c.Inclusion(ctx, entries[3], 4, cp); err == nil {
				t.Fatal("Inclusion of entry 3 as index 4 succeeded")
			}
			// Inclusion in older checkpoints uses their partial tiles.
			for _, size := range []int{1, 100, 300, 511} {
				older := tr.signedCheckpoint(t, k, size)
				if _, err := c.Inclusion(ctx, entries[size-1], uint64(size-1), older); err != nil {
					t.Fatalf("Inclusion(%d) in size %d: %v", size-1, size, err)
				}
				hashes, err := c.Consistency(ctx, older, cp)
				if err != nil {
					t.Fatalf("Consistency(%d, 600): %v", size, err)
				}
				if err := translog.VerifyConsistency(older, cp, hashes); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := c.VerifyTree(ctx, cp, nil)
			if err != nil {
				t.Fatalf("VerifyTree: %v", err)
			}
			// Three bundles and level-0 tiles, and tile/1/000.p/2.
			if rep.Entries != 600 || rep.Bundles != 3 || rep.Tiles != 4 {
				t.Fatalf("VerifyTree report %+v", rep)
			}
			var calls []uint64
			if _, err := c.VerifyTree(ctx, tr.signedCheckpoint(t, k, 300), func(done, total uint64) {
				if total != 2 {
					t.Errorf("progress total %d, want 2", total)
				}
				calls = append(calls, done)
			}); err != nil {
				t.Fatalf("VerifyTree(300): %v", err)
			}
			if len(calls) != 2 || calls[1] != 2 {
				t.Fatalf("progress calls %v", calls)
			}
		})
	}
}

// TestVerifyTreeNamesCorruptFile damages one file at a time and checks that
// VerifyTree names it.
func TestVerifyTreeNamesCorruptFile(t *testing.T) {
	ctx := context.Background()
	k := newLogKeys(t, "log.example")
	tr := newTlogTree(t, numberedEntries(600))
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte {
			if off < 0 {
				off += len(b)
			}
			b[off] ^= 0x01
			return b
		}
	}
	tests := []struct {
		name   string
		path   string
		damage func([]byte) []byte
	}{
		{"level-0 full tile", "tile/0/001", flip(100)},
		{"level-0 partial tile", "tile/0/002.p/88", flip(-1)},
		{"level-1 tile", "tile/1/000.p/2", flip(40)},
		{"entry in a full bundle", "tile/entries/000", flip(5)},
		{"entry in the partial bundle", "tile/entries/002.p/88", flip(-2)},
		{"bundle cut short", "tile/entries/001", func(b []byte) []byte { return b[:len(b)-1] }},
		{"bundle with a missing entry", "tile/entries/002.p/88", func(b []byte) []byte { return b[:len(b)-len(`..{"entry":599}`)] }},
		{"tile cut short", "tile/0/000", func(b []byte) []byte { return b[:len(b)-32] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf := newTileFiles(t, tr, k, 600)
			orig := tf.get(tt.path)
			if orig == nil {
				t.Fatalf("no file %s", tt.path)
			}
			tf.set(tt.path, tt.damage(bytes.Clone(orig)))
			for name, c := range tf.clients(t, k) {
				cp, err := c.Checkpoint(ctx)
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.VerifyTree(ctx, cp, nil)
				var ce *logclient.CorruptionError
				if !errors.As(err, &ce) {
					t.Fatalf("%s: VerifyTree = %v, want a *CorruptionError", name, err)
				}
				if ce.Path != tt.path {
					t.Fatalf("%s: VerifyTree blames %s (%v), want %s", name, ce.Path, err, tt.path)
				}
			}
		})
	}

	t.Run("missing bundle", func(t *testing.T) {
		tf := newTileFiles(t, tr, k, 600)
		tf.set("tile/entries/001", nil)
		for name, c := range tf.clients(t, k) {
			cp, _ := c.Checkpoint(ctx)
			_, err := c.VerifyTree(ctx, cp, nil)
			if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "tile/entries/001") {
				t.Fatalf("%s: VerifyTree = %v, want a not-exist error naming the bundle", name, err)
			}
		}
	})
	t.Run("checkpoint for other entries", func(t *testing.T) {
		tf := newTileFiles(t, tr, k, 600)
		other := newTlogTree(t, numberedEntries(601)[1:])
		for name, c := range tf.clients(t, k) {
			_, err := c.VerifyTree(ctx, other.signedCheckpoint(t, k, 600), nil)
			var ce *logclient.CorruptionError
			if !errors.As(err, &ce) {
				t.Fatalf("%s: VerifyTree = %v, want a *CorruptionError", name, err)
			}
		}
	})
}

func TestClientConsistencyFork(t *testing.T) {
	ctx := context.Background()
	k := newLogKeys(t, "log.example")
	tr := newTlogTree(t, numberedEntries(40))
	fork := newTlogTree(t, append(numberedEntries(20), numberedEntries(40)[:20]...))
	tf := newTileFiles(t, tr, k, 20, 40)
	c := tf.clients(t, k)["http"]

	at20, at40 := tr.signedCheckpoint(t, k, 20), tr.signedCheckpoint(t, k, 40)
	if _, err := c.Consistency(ctx, at20, at40); err != nil {
		t.Fatalf("Consistency(20, 40): %v", err)
	}
	if h, err := c.Consistency(ctx, at40, at40); err != nil || h != nil {
		t.Fatalf("Consistency of a checkpoint with itself = %v, %v", h, err)
	}
	forkAt40 := fork.signedCheckpoint(t, k, 40)
	forkAt30 := fork.signedCheckpoint(t, k, 30)
	tests := []struct {
		name          string
		older, newer  translog.Checkpoint
		reasonContain string
	}{
		{"rolled back", at40, at20, "rolled back"},
		{"two roots for one size", at40, forkAt40, "two different roots"},
		{"older checkpoint from another history", forkAt30, at40, "consistency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Consistency(ctx, tt.older, tt.newer)
			var fe *logclient.ForkError
			if !errors.As(err, &fe) || !errors.Is(err, logclient.ErrFork) {
				t.Fatalf("Consistency = %v, want a *ForkError", err)
			}
			if fe.Seen.Size != tt.older.Size || fe.Presented.Size != tt.newer.Size || !strings.Contains(fe.Reason, tt.reasonContain) {
				t.Fatalf("ForkError %+v", fe)
			}
		})
	}
}

func TestAdvance(t *testing.T) {
	ctx := context.Background()
	k := newLogKeys(t, "log.example")
	tr := newTlogTree(t, numberedEntries(50))
	fork := newTlogTree(t, append(numberedEntries(10), numberedEntries(50)[20:]...))
	tf := newTileFiles(t, tr, k, 10, 30, 50)
	c := tf.clients(t, k)["dir"]
	store := logclient.NewSeenStore(filepath.Join(t.TempDir(), "state"))

	if _, ok, err := store.Load(k.verifiers); ok || err != nil {
		t.Fatalf("Load of an empty store = %v, %v", ok, err)
	}
	step := func(cp translog.Checkpoint, wantSeen uint64, wantFork bool) {
		t.Helper()
		seen, ok, err := c.Advance(ctx, store, cp)
		if wantFork {
			if !errors.Is(err, logclient.ErrFork) {
				t.Fatalf("Advance to %d = %v, want ErrFork", cp.Size, err)
			}
		} else if err != nil {
			t.Fatalf("Advance to %d: %v", cp.Size, err)
		}
		if ok != (wantSeen > 0) || (ok && seen.Size != wantSeen) {
			t.Fatalf("Advance to %d returned seen %d (%v), want %d", cp.Size, seen.Size, ok, wantSeen)
		}
	}
	saved := func() uint64 {
		t.Helper()
		cp, ok, err := store.Load(k.verifiers)
		if err != nil || !ok {
			t.Fatalf("Load = %v, %v", ok, err)
		}
		return cp.Size
	}
	step(tr.signedCheckpoint(t, k, 10), 0, false)
	step(tr.signedCheckpoint(t, k, 30), 10, false)
	step(tr.signedCheckpoint(t, k, 30), 30, false)
	if saved() != 30 {
		t.Fatalf("saved size %d", saved())
	}
	step(tr.signedCheckpoint(t, k, 10), 30, true)
	step(fork.signedCheckpoint(t, k, 30), 30, true)
	if saved() != 30 {
		t.Fatalf("a fork replaced the saved checkpoint: size %d", saved())
	}
	step(tr.signedCheckpoint(t, k, 50), 30, false)
	if saved() != 50 {
		t.Fatalf("saved size %d", saved())
	}

	// A saved checkpoint is verified again with the keys given.
	other := newLogKeys(t, "log.example")
	if _, _, err := store.Load(other.verifiers); err == nil {
		t.Fatal("Load verified the saved checkpoint with another log's keys")
	}
	if _, _, err := store.Load(nil); err == nil {
		t.Fatal("Load without keys succeeded")
	}
}

func TestDefaultStateDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, err := logclient.DefaultStateDir(env(map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}))
	if err != nil || got != filepath.Join("/x", "hegui", "translog") {
		t.Fatalf("with XDG_STATE_HOME: %q, %v", got, err)
	}
	got, err = logclient.DefaultStateDir(env(map[string]string{"HOME": "/h"}))
	if err != nil || got != filepath.Join("/h", ".local", "state", "hegui", "translog") {
		t.Fatalf("with HOME: %q, %v", got, err)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	k := newLogKeys(t, "log.example")
	if _, err := logclient.NewClient(nil, nil); err == nil {
		t.Fatal("NewClient without keys succeeded")
	}

	// An empty directory: no checkpoint yet, said plainly.
	src, err := logclient.OpenSource(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(src, k.verifiers)
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin() != "log.example" {
		t.Fatalf("Origin = %q", c.Origin())
	}
	if _, err := c.Checkpoint(ctx); err == nil || !strings.Contains(err.Error(), "no checkpoint yet") {
		t.Fatalf("Checkpoint of an empty directory = %v", err)
	}

	// A server answering 500, or a checkpoint larger than any real one.
	var status int
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write(body)
	}))
	defer srv.Close()
	src, err = logclient.OpenSource(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	status = http.StatusInternalServerError
	if _, err := src.ReadCheckpoint(ctx); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("ReadCheckpoint from a failing server = %v", err)
	}
	status = http.StatusNotFound
	if _, err := src.ReadTile(ctx, 0, 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadTile of a missing tile = %v, want fs.ErrNotExist", err)
	}
	status, body = http.StatusOK, bytes.Repeat([]byte("a"), 16<<10+1)
	if _, err := src.ReadCheckpoint(ctx); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("ReadCheckpoint of an oversized checkpoint = %v", err)
	}
	status, body = http.StatusOK, bytes.Repeat([]byte("a"), 8<<10+1)
	if _, err := src.ReadTile(ctx, 0, 0, 0); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("ReadTile of an oversized tile = %v", err)
	}

	for _, loc := range []string{"ftp://example.com/log", "http://", filepath.Join(t.TempDir(), "missing")} {
		if _, err := logclient.OpenSource(loc, nil); err == nil {
			t.Errorf("OpenSource(%q) succeeded", loc)
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := logclient.OpenSource(file, nil); err == nil {
		t.Error("OpenSource of a regular file succeeded")
	}
}

// TestSourceFallsBackToFullTile: a log may replace a partial tile with the
// full one after the checkpoint was read; both sources then read the full
// one.
func TestSourceFallsBackToFullTile(t *testing.T) {
	ctx := context.Background()
	tf := &tileFiles{files: map[string][]byte{
		"tile/0/000":       []byte("full tile"),
		"tile/entries/000": []byte("full bundle"),
		"tile/1/000.p/3":   []byte("partial tile"),
	}}
	srv := httptest.NewServer(tf)
	defer srv.Close()
	for _, loc := range []string{srv.URL + "/log/", tf.writeDir(t)} {
		src, err := logclient.OpenSource(loc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := src.ReadTile(ctx, 0, 0, 17); err != nil || string(b) != "full tile" {
			t.Errorf("%s: ReadTile(0, 0, 17) = %q, %v", loc, b, err)
		}
		if b, err := src.ReadEntryBundle(ctx, 0, 200); err != nil || string(b) != "full bundle" {
			t.Errorf("%s: ReadEntryBundle(0, 200) = %q, %v", loc, b, err)
		}
		if b, err := src.ReadTile(ctx, 1, 0, 3); err != nil || string(b) != "partial tile" {
			t.Errorf("%s: ReadTile(1, 0, 3) = %q, %v", loc, b, err)
		}
		if _, err := src.ReadEntryBundle(ctx, 1, 5); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: ReadEntryBundle of a missing bundle = %v", loc, err)
		}
	}
}

// eventEntries are n audit events in canonical form, as a log holds them.
func eventEntries(t testing.TB, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		e := translog.Event{Time: time.Date(2026, 11, 21, 8, 0, i, 0, time.UTC), Action: "user.login", Actor: fmt.Sprintf("user%d", i), Outcome: translog.OutcomeSuccess}
		c, err := e.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

// TestMonitor follows a log as it grows: each poll hands over only the new
// entries and saves the checkpoint, a new monitor on the same store starts
// where the last one stopped, and an entry that is not an audit event
// stops the poll without moving the saved checkpoint.
func TestMonitor(t *testing.T) {
	ctx := context.Background()
	k := newLogKeys(t, "log.example")
	entries := eventEntries(t, 40)
	tr := newTlogTree(t, entries)
	tf := newTileFiles(t, tr, k, 10)
	srv := httptest.NewServer(tf)
	t.Cleanup(srv.Close)
	src, err := logclient.OpenSource(srv.URL+"/log", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(src, k.verifiers)
	if err != nil {
		t.Fatal(err)
	}
	store := logclient.NewSeenStore(filepath.Join(t.TempDir(), "state"))
	var seen []uint64
	newMonitor := func() *logclient.Monitor {
		return &logclient.Monitor{Client: c, Store: store, OnEntry: func(i uint64, _ []byte) { seen = append(seen, i) }}
	}
	m := newMonitor()
	poll := func(m *logclient.Monitor, wantSize uint64, wantNew int) {
		t.Helper()
		seen = nil
		cp, err := m.Poll(ctx)
		if err != nil {
			t.Fatalf("poll to %d: %v", wantSize, err)
		}
		if cp.Size != wantSize || len(seen) != wantNew {
			t.Fatalf("poll: size %d with %d new entries, want %d with %d", cp.Size, len(seen), wantSize, wantNew)
		}
	}
	poll(m, 10, 10)
	poll(m, 10, 0)
	grown := newTileFiles(t, tr, k, 10, 25)
	for p, data := range grown.files {
		tf.set(p, data)
	}
	poll(m, 25, 15)
	poll(newMonitor(), 25, 0) // a new run reads nothing twice

	// A log whose next entry is not an audit event.
	bad := append(append([][]byte{}, entries[:25]...), []byte(`{"not":"an event"}`))
	badTree := newTlogTree(t, bad)
	for p, data := range newTileFiles(t, badTree, k, 10, 25, 26).files {
		tf.set(p, data)
	}
	if _, err := m.Poll(ctx); err == nil || !strings.Contains(err.Error(), "entry 25 is not a valid audit event") {
		t.Fatalf("poll over a bad entry: %v", err)
	}
	if cp, ok, err := store.Load(k.verifiers); err != nil || !ok || cp.Size != 25 {
		t.Errorf("after a failed poll the store holds %d (%v, %v), want 25", cp.Size, ok, err)
	}
}

// TestProvenEntry reads entries with their proofs from the latest
// checkpoint, over HTTP and from a directory: the bytes are the entry, the
// proof verifies offline, and an index past the end is an error.
func TestProvenEntry(t *testing.T) {
	ctx := context.Background()
	k := newLogKeys(t, "log.example")
	entries := numberedEntries(300)
	tr := newTlogTree(t, entries)
	tf := newTileFiles(t, tr, k, 100, 300)
	for name, c := range tf.clients(t, k) {
		t.Run(name, func(t *testing.T) {
			for _, i := range []uint64{0, 99, 256, 299} {
				entry, p, cp, err := c.ProvenEntry(ctx, i)
				if err != nil {
					t.Fatalf("ProvenEntry(%d): %v", i, err)
				}
				if !bytes.Equal(entry, entries[i]) || cp.Size != 300 || p.Index != i {
					t.Fatalf("ProvenEntry(%d) = %q, proof of %d in a checkpoint of %d", i, entry, p.Index, cp.Size)
				}
				if got, err := p.Verify(entry, k.verifiers); err != nil || got.Size != 300 {
					t.Fatalf("proof of %d: %v, %v", i, got, err)
				}
			}
			if _, _, _, err := c.ProvenEntry(ctx, 300); err == nil || !strings.Contains(err.Error(), "entry 300 does not exist") {
				t.Fatalf("ProvenEntry(300) of 300 entries: %v", err)
			}
		})
	}
	// An entry bundle that disagrees with the signed root: no proof.
	tf.set(layout.EntriesPath(0, 0), tf.get(layout.EntriesPath(1, 300%256)))
	for name, c := range tf.clients(t, k) {
		if _, _, _, err := c.ProvenEntry(ctx, 3); err == nil || !strings.Contains(err.Error(), "inclusion of entry 3") {
			t.Errorf("%s: ProvenEntry over a swapped entry bundle: %v", name, err)
		}
	}
}

// TestMonitorFollow polls a growing log round after round, reports each
// poll's checkpoints, stops when its context ends between polls and returns
// the error of a poll that fails.
func TestMonitorFollow(t *testing.T) {
	k := newLogKeys(t, "log.example")
	entries := eventEntries(t, 30)
	tr := newTlogTree(t, entries)
	tf := newTileFiles(t, tr, k, 10)
	srv := httptest.NewServer(tf)
	t.Cleanup(srv.Close)
	src, err := logclient.OpenSource(srv.URL+"/log", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(src, k.verifiers)
	if err != nil {
		t.Fatal(err)
	}
	store := logclient.NewSeenStore(filepath.Join(t.TempDir(), "state"))
	m := &logclient.Monitor{Client: c, Store: store}
	var polls []string
	err = m.Follow(context.Background(), time.Millisecond, 3, func(before, now translog.Checkpoint) {
		polls = append(polls, fmt.Sprintf("%d->%d", before.Size, now.Size))
		if len(polls) == 1 {
			for p, data := range newTileFiles(t, tr, k, 10, 25).files {
				tf.set(p, data)
			}
		}
	})
	if err != nil || strings.Join(polls, " ") != "0->10 10->25 25->25" {
		t.Fatalf("Follow for 3 rounds: %v, polls %v", err, polls)
	}

	// Until the context ends: it ends after the first poll, while Follow
	// waits an hour for the second.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	polls = nil
	err = m.Follow(ctx, time.Hour, 0, func(before, now translog.Checkpoint) {
		polls = append(polls, fmt.Sprintf("%d->%d", before.Size, now.Size))
		cancel()
	})
	if err != nil || strings.Join(polls, " ") != "25->25" {
		t.Fatalf("Follow until cancelled: %v, polls %v", err, polls)
	}

	// A poll that fails ends Follow with its error.
	bad := append(append([][]byte{}, entries[:25]...), []byte(`{"not":"an event"}`))
	for p, data := range newTileFiles(t, newTlogTree(t, bad), k, 10, 25, 26).files {
		tf.set(p, data)
	}
	polls = nil
	err = m.Follow(context.Background(), time.Millisecond, 0, func(before, now translog.Checkpoint) {
		polls = append(polls, fmt.Sprintf("%d->%d", before.Size, now.Size))
	})
	if err == nil || !strings.Contains(err.Error(), "entry 25 is not a valid audit event") || len(polls) != 0 {
		t.Fatalf("Follow over a bad entry: %v, polls %v", err, polls)
	}
}
