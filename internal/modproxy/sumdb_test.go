package modproxy_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hegui.dev/hegui/internal/modproxy"
)

// TestSumDBTilesReadOnce fetches several go.mod files through a proxy at
// once, each verified by its own checksum-database lookup, while the
// upstream takes 300 ms to answer for a tile: the lookups need the same
// tiles near the top of the tree at the same time, and the proxy reads
// each of them from the upstream once.
func TestSumDBTilesReadOnce(t *testing.T) {
	up := upstream(t)
	var mu sync.Mutex
	tiles := map[string]int{}
	relay := startHostileUpstream(t, up, func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/tile/") {
			mu.Lock()
			tiles[r.URL.Path]++
			mu.Unlock()
			time.Sleep(300 * time.Millisecond)
		}
		return false
	})
	p := startProxy(t, "", modproxy.Options{Upstream: relay.URL, Prefetch: -1})
	mods := []string{
		uuidModule + "/@v/" + uuidVersion + ".mod",
		crashModule + "/@v/" + crashVersion + ".mod",
		cobraModule + "/@v/" + cobraVersion + ".mod",
		"golang.org/x/sync/@v/v0.10.0.mod",
	}
	var wg sync.WaitGroup
	for _, m := range mods {
		wg.Go(func() {
			if code, body := get(t, p.URL+"/"+m); code != http.StatusOK {
				t.Errorf("%s: %d %s", m, code, body)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(tiles) == 0 {
		t.Fatal("no tile was read from the upstream")
	}
	for path, n := range tiles {
		if n > 1 {
			t.Errorf("%s read from the upstream %d times", path, n)
		}
	}
	t.Logf("%d tiles read for %d lookups", len(tiles), len(mods))
}

// TestSumDBDamagedTileReadAgain: the upstream damages the first tile it
// sends. The go.mod whose lookup read it is refused (the tile does not
// verify), and asked for again at once, is fetched and verified: the
// damaged tile was not kept for the next lookup.
func TestSumDBDamagedTileReadAgain(t *testing.T) {
	up := upstream(t)
	var once sync.Once
	damaged := ""
	relay := startHostileUpstream(t, up, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/tile/") {
			return false
		}
		hit := false
		once.Do(func() { hit = true; damaged = r.URL.Path })
		if !hit {
			return false
		}
		data := readUpstream(t, up+r.URL.Path)
		data[len(data)/2] ^= 0x01
		w.Write(data)
		return true
	})
	p := startProxy(t, "", modproxy.Options{Upstream: relay.URL, Prefetch: -1})
	modPath := "/" + uuidModule + "/@v/" + uuidVersion + ".mod"
	if code, body := get(t, p.URL+modPath); code == http.StatusOK {
		t.Fatalf("the go.mod was served although tile %s was damaged: %s", damaged, body)
	} else {
		t.Logf("with %s damaged: %d %s", damaged, code, strings.TrimSpace(body))
	}
	if code, body := get(t, p.URL+modPath); code != http.StatusOK {
		t.Errorf("asked again: %d %s", code, body)
	}
}
