package modproxy

import (
	"bytes"
	"fmt"
	"testing"
)

// TestRecentTilesBound fills recentTiles past its budget: the oldest tiles
// leave first, what is kept stays within the budget, and a tile larger
// than the budget is not kept.
func TestRecentTilesBound(t *testing.T) {
	var r recentTiles
	tile := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 8<<10) }
	n := maxRecentTiles/(8<<10) + 10
	for i := range n {
		r.put(fmt.Sprint(i), tile(i))
		r.put(fmt.Sprint(i), tile(255)) // a second put of a path changes nothing
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
}
