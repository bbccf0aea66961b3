package modproxy

import (
	"sync"
	"time"
)

// recentTiles holds the checksum-database tiles read from the upstream in
// the last recentTileLife. A lookup verifies the tiles it reads before it
// stores them; another lookup that needs one in between (another branch of
// the tree, a consistency proof) finds it here rather than reading it
// again. A tile at a path never changes (tlog), and every lookup verifies
// what it is given, so nothing here is trusted unchecked.
//
// A tile leaves when the lookup that read it fails (it may be what failed:
// the next lookup reads it again); when it is older than recentTileLife,
// by which time a lookup has stored it; and, past maxRecentTiles bytes,
// oldest first.
type recentTiles struct {
	mu    sync.Mutex
	tiles map[string]recentTile
	order []recentRef // in the order put; may name tiles gone since
	size  int
	seq   uint64
	now   func() time.Time // time.Now; a test sets its own
}

type recentTile struct {
	data []byte
	at   time.Time
	seq  uint64
}

type recentRef struct {
	path string
	seq  uint64
}

const (
	maxRecentTiles = 4 << 20
	recentTileLife = 30 * time.Second
)

func (r *recentTiles) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// get returns a tile put less than recentTileLife ago and not dropped.
func (r *recentTiles) get(path string) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tiles[path]
	if !ok || r.clock().Sub(t.at) >= recentTileLife {
		return nil, false
	}
	return t.data, true
}

// put keeps a tile just read from the upstream.
func (r *recentTiles) put(path string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(data) > maxRecentTiles {
		return
	}
	if r.tiles == nil {
		r.tiles = map[string]recentTile{}
	}
	now := r.clock()
	r.remove(path)
	// Out go the tiles gone or too old at the front, then the oldest
	// until the new one fits.
	for len(r.order) > 0 {
		front := r.order[0]
		t, live := r.tiles[front.path]
		live = live && t.seq == front.seq
		if live && now.Sub(t.at) < recentTileLife && r.size+len(data) <= maxRecentTiles {
			break
		}
		if live {
			r.remove(front.path)
		}
		r.order = r.order[1:]
	}
	r.seq++
	r.tiles[path] = recentTile{data: data, at: now, seq: r.seq}
	r.order = append(r.order, recentRef{path, r.seq})
	r.size += len(data)
}

// drop forgets a tile a failed lookup read.
func (r *recentTiles) drop(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.remove(path)
}

func (r *recentTiles) remove(path string) {
	if t, ok := r.tiles[path]; ok {
		r.size -= len(t.data)
		delete(r.tiles, path)
	}
}
