package logclient

import (
	"bytes"
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"hegui.dev/hegui/translog"
)

// TreeReport summarises a full verification of a log.
type TreeReport struct {
	Checkpoint translog.Checkpoint
	Entries    uint64 // entries hashed
	Tiles      int    // hash tiles compared
	Bundles    int    // entry bundles read
}

// CorruptionError names the first file of a log whose content does not
// match the rest of the log and its signed checkpoint.
type CorruptionError struct {
	Path   string // e.g. "tile/0/x001/234" or "tile/entries/005.p/17"
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("%s: %s", e.Path, e.Reason)
}

// fetchWindow is how many entry bundles VerifyTree reads ahead of the
// hashing; over HTTP it hides the round trips.
const fetchWindow = 16

// VerifyTree reads every entry of the tree of cp, recomputes the leaf
// hashes, every hash tile and the root, and checks them against the log's
// stored tiles and cp's signed root. The first mismatch is returned as a
// *CorruptionError that names the file: an entry bundle when the entries
// do not hash to the signed root, a hash tile when the entries do but the
// tile disagrees. progress, if not nil, is called after each bundle.
func (c *Client) VerifyTree(ctx context.Context, cp translog.Checkpoint, progress func(done, total uint64)) (TreeReport, error) {
	rep := TreeReport{Checkpoint: cp}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	nBundles := (cp.Size + layout.EntryBundleWidth - 1) / layout.EntryBundleWidth
	// upper[l] holds the hashes at tree level 8*l (l ≥ 1) as they complete:
	// exactly what the hash tiles of tile level l store.
	upper := [][][]byte{nil}
	var firstTileMismatch *CorruptionError
	var mismatchBundle string

	// The compact range reports every node it completes: those at tree
	// level 8*l are exactly what the hash tiles of tile level l store.
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level == 0 || id.Level%layout.TileHeight != 0 {
			return
		}
		l := int(id.Level / layout.TileHeight)
		for len(upper) <= l {
			upper = append(upper, nil)
		}
		upper[l] = append(upper[l], hash)
	}
	// Cancelling stops the readers ahead when verification ends early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := c.fetchBundles(ctx, nBundles, cp.Size)
	for i := uint64(0); i < nBundles; i++ {
		r, err := nextResult(ctx, results)
		if err != nil {
			return rep, err
		}
		if r.err != nil {
			return rep, r.err
		}
		for off := 0; off < len(r.leaves); off += 32 {
			if err := rng.Append(r.leaves[off:off+32], visit); err != nil {
				return rep, err
			}
		}
		n := uint64(len(r.leaves) / 32)
		rep.Entries += n
		rep.Bundles++
		rep.Tiles++
		if len(r.tile) < len(r.leaves) || !bytes.Equal(r.tile[:len(r.leaves)], r.leaves) {
			if firstTileMismatch == nil {
				mismatchBundle = r.bundlePath
				firstTileMismatch = &CorruptionError{Path: r.tilePath, Reason: fmt.Sprintf("its leaf hashes differ from those of the entries in %s", r.bundlePath)}
			}
		}
		if progress != nil {
			progress(i+1, nBundles)
		}
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return rep, err
	}
	if cp.Size == 0 {
		root = rfc6962.DefaultHasher.EmptyRoot()
	}
	if !bytes.Equal(root, cp.Root) {
		if firstTileMismatch != nil {
			// The level-0 tile and the entries disagree and the entries do
			// not give the signed root: the entries were changed.
			return rep, &CorruptionError{Path: mismatchBundle, Reason: "its entries do not hash to the signed checkpoint root (the hash tile " + firstTileMismatch.Path + " disagrees with them too)"}
		}
		return rep, &CorruptionError{Path: "checkpoint", Reason: fmt.Sprintf("the entries hash to a different root than the signed one for size %d", cp.Size)}
	}
	if firstTileMismatch != nil {
		return rep, firstTileMismatch
	}
	for level := uint64(1); level < uint64(len(upper)); level++ {
		hashes := upper[level]
		for idx := uint64(0); idx*layout.TileWidth < uint64(len(hashes)); idx++ {
			p := layout.PartialTileSize(level, idx, cp.Size)
			path := layout.TilePath(level, idx, p)
			tile, err := c.src.ReadTile(ctx, level, idx, p)
			if err != nil {
				return rep, fmt.Errorf("read %s: %w", path, err)
			}
			end := min(uint64(len(hashes)), (idx+1)*layout.TileWidth)
			want := bytes.Join(hashes[idx*layout.TileWidth:end], nil)
			rep.Tiles++
			if len(tile) < len(want) || !bytes.Equal(tile[:len(want)], want) {
				return rep, &CorruptionError{Path: path, Reason: "its hashes differ from those recomputed from the entries"}
			}
		}
	}
	return rep, nil
}

// nextResult waits for the next bundle in order.
func nextResult(ctx context.Context, results <-chan chan bundleResult) (bundleResult, error) {
	var ch chan bundleResult
	select {
	case ch = <-results:
	case <-ctx.Done():
		return bundleResult{}, ctx.Err()
	}
	if ch == nil {
		return bundleResult{}, ctx.Err()
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return bundleResult{}, ctx.Err()
	}
}

// bundleResult is one entry bundle, read and hashed, with its level-0
// hash tile.
type bundleResult struct {
	leaves               []byte // the entries' leaf hashes, concatenated
	tile                 []byte
	bundlePath, tilePath string
	err                  error
}

// fetchBundles reads and hashes entry bundle i and reads level-0 tile i
// for every i in order, up to fetchWindow ahead of the consumer, so the
// leaf hashing runs on every CPU while the consumer builds the tree. The returned channel
// yields one channel per bundle, in order.
func (c *Client) fetchBundles(ctx context.Context, n, size uint64) <-chan chan bundleResult {
	out := make(chan chan bundleResult, fetchWindow)
	go func() {
		defer close(out)
		for i := uint64(0); i < n; i++ {
			ch := make(chan bundleResult, 1)
			select {
			case out <- ch:
			case <-ctx.Done():
				return
			}
			go func(i uint64) {
				ch <- c.readBundle(ctx, i, size)
			}(i)
		}
	}()
	return out
}

// readBundle reads entry bundle i of a tree of the given size, checks it
// holds the entries the size needs, hashes them, and reads the matching
// level-0 tile.
func (c *Client) readBundle(ctx context.Context, i, size uint64) bundleResult {
	p := layout.PartialTileSize(0, i, size)
	r := bundleResult{bundlePath: layout.EntriesPath(i, p), tilePath: layout.TilePath(0, i, p)}
	raw, err := c.src.ReadEntryBundle(ctx, i, p)
	if err != nil {
		r.err = fmt.Errorf("read %s: %w", r.bundlePath, err)
		return r
	}
	want := layout.EntryBundleWidth
	if p > 0 {
		want = int(p)
	}
	var b api.EntryBundle
	if err := b.UnmarshalText(raw); err != nil {
		r.err = &CorruptionError{Path: r.bundlePath, Reason: "not an entry bundle: " + err.Error()}
		return r
	}
	if len(b.Entries) < want {
		r.err = &CorruptionError{Path: r.bundlePath, Reason: fmt.Sprintf("holds %d entries, the checkpoint needs %d", len(b.Entries), want)}
		return r
	}
	r.leaves = make([]byte, 0, want*32)
	for _, e := range b.Entries[:want] {
		r.leaves = append(r.leaves, translog.LeafHash(e)...)
	}
	if r.tile, err = c.src.ReadTile(ctx, 0, i, p); err != nil {
		r.err = fmt.Errorf("read %s: %w", r.tilePath, err)
	}
	return r
}
