package logserver_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/transparency-dev/tessera/api/layout"
)

// TestProofsAfterTheLogGrew proves against an older checkpoint after the
// log has grown and its partial tiles of the older size are gone, as
// Tessera's garbage collection leaves them: the client reads the newer
// tiles, which hold every node of the older tree.
func TestProofsAfterTheLogGrew(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	l := startLog(t, h)
	ctx := context.Background()
	first := l.appendBatch(t, token, numberedEvents(t, "a", 10))
	old := waitForSize(t, l.client, 10)
	l.appendBatch(t, token, numberedEvents(t, "b", 20))
	latest := waitForSize(t, l.client, 30)
	l.stop(t)

	// What garbage collection would remove: the partial tile and bundle of
	// size 10.
	for _, p := range []string{layout.TilePath(0, 0, 10), layout.EntriesPath(0, 10)} {
		if err := os.Remove(filepath.Join(h.StaticDir(), filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	c := dirClient(t, h)
	entry, err := c.Entry(ctx, first[3], latest.Size)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inclusion(ctx, entry, first[3], old); err != nil {
		t.Errorf("inclusion in the older checkpoint: %v", err)
	}
	if _, err := c.Consistency(ctx, old, latest); err != nil {
		t.Errorf("consistency: %v", err)
	}
	r, err := c.TreeAt(ctx, old.Size, latest.Size)
	if err != nil {
		t.Fatal(err)
	}
	if root, _ := r.GetRootHash(nil); !bytes.Equal(root, old.Root) {
		t.Error("TreeAt: the older tree's root differs from its checkpoint")
	}
}
