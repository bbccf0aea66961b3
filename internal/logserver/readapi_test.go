package logserver_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/transparency-dev/tessera/api"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

func TestReadAPI(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops")
	l := startLog(t, h)

	// Before the first append: Tessera publishes an empty checkpoint.
	empty := waitForSize(t, l.client, 0)
	if empty.Size != 0 {
		t.Fatalf("new log has size %d", empty.Size)
	}
	if rep, err := l.client.VerifyTree(context.Background(), empty, nil); err != nil || rep.Entries != 0 {
		t.Fatalf("VerifyTree of the empty log: %+v, %v", rep, err)
	}

	events := fillLog(t, l, token, "read", 300)
	cp := waitForSize(t, l.client, 300)
	pub, err := os.ReadFile(filepath.Join(h.Dir, logserver.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		method, path string
		status       int
		length       int    // body length, when not 0
		cache        string // Cache-Control, when not ""
	}{
		{"GET", "/checkpoint", http.StatusOK, len(cp.Raw), "no-cache"},
		{"GET", "/log.pub", http.StatusOK, len(pub), ""},
		{"GET", "/healthz", http.StatusOK, 3, ""},
		{"GET", "/tile/0/000", http.StatusOK, 256 * 32, "public, max-age=31536000, immutable"},
		{"GET", "/tile/0/001.p/44", http.StatusOK, 44 * 32, "public, max-age=31536000, immutable"},
		{"GET", "/tile/1/000.p/1", http.StatusOK, 32, ""},
		{"GET", "/tile/entries/000", http.StatusOK, 0, "public, max-age=31536000, immutable"},
		{"GET", "/tile/entries/001.p/44", http.StatusOK, 0, ""},
		// Files that do not exist (yet).
		{"GET", "/tile/0/001", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/002", http.StatusNotFound, 0, ""},
		{"GET", "/tile/entries/001", http.StatusNotFound, 0, ""},
		{"GET", "/tile/entries/x001/000", http.StatusNotFound, 0, ""},
		{"GET", "/tile/2/000.p/1", http.StatusNotFound, 0, ""},
		// Paths that are not tlog-tiles paths.
		{"GET", "/tile/", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/00", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/0000", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/x000", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/abc", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/000.p/0", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/000.p/256", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/000.p/", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/000/001", http.StatusNotFound, 0, ""},
		{"GET", "/tile/64/000", http.StatusNotFound, 0, ""},
		{"GET", "/tile/-1/000", http.StatusNotFound, 0, ""},
		{"GET", "/tile/abc/000", http.StatusNotFound, 0, ""},
		{"GET", "/tile/entries/000.p/999", http.StatusNotFound, 0, ""},
		{"GET", "/tile/0/..%2f..%2flog.yaml", http.StatusNotFound, 0, ""},
		{"GET", "/log.yaml", http.StatusNotFound, 0, ""},
		{"GET", "/keys/ed25519.pem", http.StatusNotFound, 0, ""},
		{"GET", "/writers", http.StatusNotFound, 0, ""},
		{"GET", "/add", http.StatusMethodNotAllowed, 0, ""},
		{"POST", "/checkpoint", http.StatusMethodNotAllowed, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, l.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%q)", resp.StatusCode, tt.status, body)
			}
			if tt.length != 0 && len(body) != tt.length {
				t.Fatalf("%d bytes, want %d", len(body), tt.length)
			}
			if tt.cache != "" && resp.Header.Get("Cache-Control") != tt.cache {
				t.Fatalf("Cache-Control %q, want %q", resp.Header.Get("Cache-Control"), tt.cache)
			}
		})
	}

	// The bundles hold exactly the appended events, in index order.
	for _, b := range []struct {
		path  string
		first uint64
		n     int
	}{{"/tile/entries/000", 0, 256}, {"/tile/entries/001.p/44", 256, 44}} {
		resp, err := http.Get(l.URL + b.path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var bundle api.EntryBundle
		if err := bundle.UnmarshalText(raw); err != nil {
			t.Fatalf("%s: %v", b.path, err)
		}
		if len(bundle.Entries) != b.n {
			t.Fatalf("%s holds %d entries, want %d", b.path, len(bundle.Entries), b.n)
		}
		for i, e := range bundle.Entries {
			if want := events[b.first+uint64(i)]; string(e) != string(want) {
				t.Fatalf("%s entry %d is %s, want %s", b.path, i, e, want)
			}
		}
	}
}

// TestClientRoundTrip reads a served log with translog's client: entries,
// inclusion proofs that also verify offline after a tlog-proof round trip,
// a consistency proof between two checkpoints, and a full verification of
// a tree with full and partial tiles.
func TestClientRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := newHome(t)
	token := addToken(t, h, "ops")
	l := startLog(t, h)
	vs := verifiersOf(t, h)
	if len(vs) != 2 || translog.VerifierAlgorithm(vs[0]) != "ed25519" || translog.VerifierAlgorithm(vs[1]) != "sm2" {
		t.Fatalf("log.pub holds %d keys", len(vs))
	}

	events := fillLog(t, l, token, "early", 200)
	older := waitForSize(t, l.client, 200)
	for idx, e := range fillLog(t, l, token, "late", 400) {
		events[idx] = e
	}
	cp := waitForSize(t, l.client, 600)
	if cp.Size != 600 || len(events) != 600 {
		t.Fatalf("checkpoint size %d with %d distinct indexes", cp.Size, len(events))
	}
	// Each key alone verifies the checkpoint: both signed it.
	for _, v := range vs {
		if _, err := translog.OpenCheckpoint(cp.Raw, []note.Verifier{v}); err != nil {
			t.Fatalf("checkpoint not signed by %s: %v", translog.VerifierAlgorithm(v), err)
		}
	}

	for _, idx := range []uint64{0, 1, 199, 200, 255, 256, 511, 512, 599} {
		entry, err := l.client.Entry(ctx, idx, cp.Size)
		if err != nil {
			t.Fatalf("Entry(%d): %v", idx, err)
		}
		if string(entry) != string(events[idx]) {
			t.Fatalf("Entry(%d) = %s, want %s", idx, entry, events[idx])
		}
		p, err := l.client.Inclusion(ctx, entry, idx, cp)
		if err != nil {
			t.Fatalf("Inclusion(%d): %v", idx, err)
		}
		p.Extra = []byte("release hello_1.2.0")
		parsed, err := translog.ParseInclusionProof(p.Marshal())
		if err != nil {
			t.Fatalf("ParseInclusionProof: %v", err)
		}
		if got, err := parsed.Verify(entry, vs); err != nil || got.Size != cp.Size {
			t.Fatalf("offline Verify(%d): %v", idx, err)
		}
		if _, err := parsed.Verify(events[(idx+1)%600], vs); err == nil {
			t.Fatalf("proof of entry %d verifies another entry", idx)
		}
		if idx < older.Size {
			if _, err := l.client.Inclusion(ctx, entry, idx, older); err != nil {
				t.Fatalf("Inclusion(%d) in the older checkpoint: %v", idx, err)
			}
		}
	}

	hashes, err := l.client.Consistency(ctx, older, cp)
	if err != nil {
		t.Fatalf("Consistency(200, 600): %v", err)
	}
	if len(hashes) == 0 {
		t.Fatal("empty consistency proof between different sizes")
	}
	if err := translog.VerifyConsistency(older, cp, hashes); err != nil {
		t.Fatal(err)
	}

	store := logclient.NewSeenStore(t.TempDir())
	if _, _, err := l.client.Advance(ctx, store, older); err != nil {
		t.Fatal(err)
	}
	if seen, ok, err := l.client.Advance(ctx, store, cp); err != nil || !ok || seen.Size != 200 {
		t.Fatalf("Advance(200 -> 600) = %v, %v, %v", seen.Size, ok, err)
	}

	for name, c := range map[string]*logclient.Client{"http": l.client, "dir": dirClient(t, h)} {
		rep, err := c.VerifyTree(ctx, cp, nil)
		if err != nil {
			t.Fatalf("%s: VerifyTree: %v", name, err)
		}
		if rep.Entries != 600 || rep.Bundles != 3 || rep.Tiles != 4 {
			t.Fatalf("%s: VerifyTree report %+v", name, rep)
		}
	}
}
