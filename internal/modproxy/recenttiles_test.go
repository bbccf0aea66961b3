package modproxy

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestRecentTilesBound fills recentTiles past its budget: the oldest tiles
// leave first, what is kept stays within the budget, and a tile larger
// than the budget is not kept.
func TestRecentTilesBound(t *testing.T) {
	var r recentTiles
	tile := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 8<<10) }
	n := maxRecentTiles/(8<<10) + 10
	for i := range n {
		r.put(fmt.Sprint(i), tile(255))
		r.put(fmt.Sprint(i), tile(i)) // put again: the new bytes, counted once
	}
	if r.size > maxRecentTiles {
		t.Errorf("%d bytes kept, over the %d budget", r.size, maxRecentTiles)
	}
	for i := range n {
		data, ok := r.get(fmt.Sprint(i))
		if want := i >= 10; ok != want {
			t.Errorf("tile %d kept: %v, want %v", i, ok, want)
		}
		if ok && !bytes.Equal(data, tile(i)) {
			t.Errorf("tile %d: other bytes", i)
		}
	}
	r.put("huge", make([]byte, maxRecentTiles+1))
	if _, ok := r.get("huge"); ok {
		t.Error("a tile over the budget was kept")
	}
	if _, ok := r.get(fmt.Sprint(n - 1)); !ok {
		t.Error("the tile over the budget pushed the others out")
	}
	if len(r.order) > 2*len(r.tiles) {
		t.Errorf("%d paths in order for %d tiles kept", len(r.order), len(r.tiles))
	}
}

// TestRecentTilesLeave: a stored tile is dropped; a tile older than
// recentTileLife is not given out (one that failed verification is read
// again) and leaves at the next put; tiles put and dropped leave nothing
// behind in the order kept.
func TestRecentTilesLeave(t *testing.T) {
	now := time.Unix(0, 0)
	r := recentTiles{now: func() time.Time { return now }}
	r.put("a", []byte("a"))
	r.put("b", []byte("bb"))
	r.drop("a")
	if _, ok := r.get("a"); ok {
		t.Error("a dropped tile is given out")
	}
	if data, ok := r.get("b"); !ok || string(data) != "bb" {
		t.Errorf("b: %q %v", data, ok)
	}
	now = now.Add(recentTileLife)
	if _, ok := r.get("b"); ok {
		t.Error("a tile as old as recentTileLife is given out")
	}
	r.put("c", []byte("ccc"))
	if len(r.tiles) != 1 || r.size != 3 || len(r.order) != 1 {
		t.Errorf("after a put past b's life: %d tiles, %d bytes, %d in order; want c alone", len(r.tiles), r.size, len(r.order))
	}
	r.drop("c")
	for i := range 10000 {
		now = now.Add(time.Millisecond)
		p := fmt.Sprint(i)
		r.put(p, []byte(p))
		r.drop(p)
	}
	if len(r.tiles) != 0 || r.size != 0 {
		t.Errorf("%d tiles, %d bytes kept after all were dropped", len(r.tiles), r.size)
	}
	if len(r.order) > 1 {
		t.Errorf("%d paths in order after 10,000 tiles put and dropped, want at most the last", len(r.order))
	}
}
