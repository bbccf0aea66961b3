package modproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/singleflight"

	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/modverify"
)

// DefaultSumDB is the go command's default checksum database and its
// verifier key (cmd/go/internal/modfetch/key.go in Go 1.26).
const DefaultSumDB = modverify.DefaultSumDB

// Limits on what the checksum database sends.
const (
	maxSumDBLookup = 64 << 10 // a lookup: a record and a signed tree head
	maxSumDBTile   = 64 << 10 // a tile of height 8 is 8 KiB of hashes; data tiles are larger
	maxSumDBLatest = 16 << 10
)

// checksumDB verifies module hashes against a checksum database through
// the upstream (x/mod/sumdb's client), keeping every lookup and tile it
// verified in the store. Those cached objects are what the proxy's own
// /sumdb/ endpoint serves, so clients verify offline what the proxy
// verified online.
type checksumDB struct {
	name     string // "sum.golang.org"
	key      string // the verifier key, "name+hash+key"
	url      string // where its server paths (/lookup/..., /tile/...) are read
	up       *upstream
	store    modstore.Store
	log      *slog.Logger
	offline  bool
	configMu sync.Mutex         // serialises WriteConfig's compare-and-swap
	tiles    singleflight.Group // one upstream read of a tile at a time
	recent   recentTiles        // tiles read lately
}

// tileTimeout bounds one upstream read of a tile shared by lookups.
const tileTimeout = 2 * time.Minute

func newChecksumDB(key, url string, up *upstream, store modstore.Store, log *slog.Logger, offline bool) (*checksumDB, error) {
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("checksum database key %q: %v", key, err)
	}
	return &checksumDB{name: v.Name(), key: key, url: strings.TrimSuffix(url, "/"), up: up, store: store, log: log, offline: offline}, nil
}

// lookup returns the go.sum lines the checksum database holds for
// path@version (version may end in "/go.mod"), verified against its signed
// tree. A fresh client per call keeps a failed fetch from being remembered
// (x/mod's client caches errors for its lifetime); the verified tiles and
// the latest tree head live in the store, so nothing is fetched twice, and
// lookups running at once (prefetches) share their reads of a tile.
func (db *checksumDB) lookup(ctx context.Context, path, version string) ([]string, error) {
	ops := &sumdbOps{db: db, ctx: ctx}
	c := sumdb.NewClient(ops)
	lines, err := c.Lookup(path, version)
	if err != nil {
		// One of the tiles read may be what failed: the next lookup
		// reads them again.
		ops.mu.Lock()
		for _, p := range ops.tilesRead {
			db.recent.drop(p)
		}
		ops.mu.Unlock()
	}
	if ops.securityErr != nil {
		return nil, ops.securityErr
	}
	return lines, err
}

// sumdbOps is the sumdb client's view of the store and the upstream.
type sumdbOps struct {
	db          *checksumDB
	ctx         context.Context
	securityErr error

	mu        sync.Mutex // the client reads tiles in parallel
	tilesRead []string   // from the upstream or recentTiles, not the store
}

func (o *sumdbOps) ReadRemote(path string) ([]byte, error) {
	if o.db.offline {
		return nil, fmt.Errorf("checksum database %s: %s is not stored and the proxy is offline", o.db.name, path)
	}
	if strings.HasPrefix(path, "/lookup/") {
		return o.db.up.getAll(o.ctx, o.db.url, path, maxSumDBLookup)
	}
	if !strings.HasPrefix(path, "/tile/") {
		return o.db.up.getAll(o.ctx, o.db.url, path, maxSumDBTile)
	}
	// Lookups under way at once mostly need the same tiles near the top
	// of the tree: one read each, which the caller's cancellation does
	// not fail for the others. Each client still verifies what it is
	// given and writes it to the store itself.
	if data, ok := o.db.recent.get(path); ok {
		o.readTile(path)
		return data, nil
	}
	ch := o.db.tiles.DoChan(path, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(o.ctx), tileTimeout)
		defer cancel()
		data, err := o.db.up.getAll(ctx, o.db.url, path, maxSumDBTile)
		if err == nil {
			o.db.recent.put(path, data)
		}
		return data, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		o.readTile(path)
		return res.Val.([]byte), nil
	case <-o.ctx.Done():
		return nil, o.ctx.Err()
	}
}

func (o *sumdbOps) readTile(path string) {
	o.mu.Lock()
	o.tilesRead = append(o.tilesRead, path)
	o.mu.Unlock()
}

func (o *sumdbOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.db.key), nil
	}
	if file == o.db.name+"/latest" {
		data, err := o.db.readStored(o.ctx, "latest", maxSumDBLatest)
		if errors.Is(err, modstore.ErrNotExist) {
			return nil, nil // start from an empty tree
		}
		return data, err
	}
	return nil, fmt.Errorf("unknown checksum database configuration %q", file)
}

func (o *sumdbOps) WriteConfig(file string, old, new []byte) error {
	if file != o.db.name+"/latest" {
		return fmt.Errorf("unknown checksum database configuration %q", file)
	}
	o.db.configMu.Lock()
	defer o.db.configMu.Unlock()
	cur, err := o.db.readStored(o.ctx, "latest", maxSumDBLatest)
	if err != nil && !errors.Is(err, modstore.ErrNotExist) {
		return err
	}
	if !bytes.Equal(cur, old) {
		return sumdb.ErrWriteConflict
	}
	key, err := modstore.SumDBKey(o.db.name, "latest")
	if err != nil {
		return err
	}
	return o.db.store.Replace(o.ctx, key, bytes.NewReader(new))
}

func (o *sumdbOps) ReadCache(file string) ([]byte, error) {
	name, rest, ok := strings.Cut(file, "/")
	if !ok || name != o.db.name {
		return nil, modstore.ErrNotExist
	}
	return o.db.readStored(o.ctx, rest, maxSumDBLookup)
}

func (o *sumdbOps) WriteCache(file string, data []byte) {
	name, rest, ok := strings.Cut(file, "/")
	if !ok || name != o.db.name {
		return
	}
	key, err := modstore.SumDBKey(o.db.name, rest)
	if err != nil {
		o.db.log.Warn("checksum database: not caching", "file", file, "err", err)
		return
	}
	if err := o.db.store.Create(o.ctx, key, bytes.NewReader(data)); err != nil && !errors.Is(err, modstore.ErrExist) {
		o.db.log.Warn("checksum database: caching failed", "file", file, "err", err)
	}
}

func (o *sumdbOps) Log(msg string) { o.db.log.Debug("checksum database: " + msg) }

func (o *sumdbOps) SecurityError(msg string) {
	o.db.log.Error("checksum database security error", "db", o.db.name, "msg", msg)
	o.securityErr = fmt.Errorf("checksum database %s: SECURITY ERROR: %s", o.db.name, msg)
}

// readStored reads a cached object of the database ("latest",
// "lookup/...", "tile/...").
func (db *checksumDB) readStored(ctx context.Context, file string, max int64) ([]byte, error) {
	key, err := modstore.SumDBKey(db.name, file)
	if err != nil {
		return nil, err
	}
	return modstore.ReadAll(ctx, db.store, key, max)
}

// open opens a cached object of the database for serving.
func (db *checksumDB) open(ctx context.Context, file string) (modstore.Object, error) {
	key, err := modstore.SumDBKey(db.name, file)
	if err != nil {
		return nil, err
	}
	return db.store.Open(ctx, key)
}

// fetchLatest reads the database's latest signed tree head from the
// upstream, checks its signature and returns it.
func (db *checksumDB) fetchLatest(ctx context.Context) ([]byte, error) {
	data, err := db.up.getAll(ctx, db.url, "/latest", maxSumDBLatest)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(db.key)
	if err != nil {
		return nil, err
	}
	if _, err := note.Open(data, note.VerifierList(v)); err != nil {
		return nil, fmt.Errorf("checksum database %s: latest tree head: %v", db.name, err)
	}
	return data, nil
}

// copyTo writes a stored object to w.
func copyObject(w io.Writer, obj modstore.Object) error {
	defer obj.Close()
	_, err := io.Copy(w, obj)
	return err
}
