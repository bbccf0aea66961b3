// Package logclient reads a hegui transparency log over HTTP or from its
// directory and checks it: checkpoints, entries, inclusion and consistency
// proofs (built from the log's tiles with Tessera's client), the last
// checkpoint seen (SeenStore, Client.Advance: a rolled-back or forked log
// is a *ForkError), the whole tree (Client.VerifyTree: a *CorruptionError
// names the first file that disagrees), and a log as it grows (Monitor:
// Poll, Follow). Package translog has the formats and proof checks it
// builds on; services need only that.
package logclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/translog"
)

// Client reads and checks a log: its checkpoint, entries and proofs. It
// trusts nothing it reads until a signature or a proof vouches for it.
type Client struct {
	src       Source
	verifiers []note.Verifier
}

// NewClient returns a client for the log that src reads, whose checkpoints
// must be signed by every key in verifiers.
func NewClient(src Source, verifiers []note.Verifier) (*Client, error) {
	if len(verifiers) == 0 {
		return nil, errors.New("no verifier keys for the log")
	}
	return &Client{src: src, verifiers: verifiers}, nil
}

// Origin is the log's name, as its keys carry it.
func (c *Client) Origin() string { return c.verifiers[0].Name() }

// Source returns where the client reads the log from.
func (c *Client) Source() Source { return c.src }

// Verifiers returns the keys the client checks checkpoints with.
func (c *Client) Verifiers() []note.Verifier { return c.verifiers }

// Checkpoint fetches the log's latest checkpoint and verifies it.
func (c *Client) Checkpoint(ctx context.Context) (translog.Checkpoint, error) {
	raw, err := c.src.ReadCheckpoint(ctx)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return translog.Checkpoint{}, errors.New("the log has no checkpoint yet: is it initialised and served from this location?")
		}
		return translog.Checkpoint{}, fmt.Errorf("read checkpoint: %w", err)
	}
	return translog.OpenCheckpoint(raw, c.verifiers)
}

// Entry returns entry index of the tree of size treeSize. The bytes are not
// checked here; Inclusion proves them.
func (c *Client) Entry(ctx context.Context, index, treeSize uint64) ([]byte, error) {
	if index >= treeSize {
		return nil, fmt.Errorf("entry %d does not exist: the log has %d entries", index, treeSize)
	}
	bundleIndex := index / layout.EntryBundleWidth
	p := layout.PartialTileSize(0, bundleIndex, treeSize)
	raw, err := c.src.ReadEntryBundle(ctx, bundleIndex, p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", layout.EntriesPath(bundleIndex, p), err)
	}
	var b api.EntryBundle
	if err := b.UnmarshalText(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", layout.EntriesPath(bundleIndex, p), err)
	}
	i := index % layout.EntryBundleWidth
	if i >= uint64(len(b.Entries)) {
		return nil, fmt.Errorf("%s holds %d entries, not entry %d", layout.EntriesPath(bundleIndex, p), len(b.Entries), index)
	}
	return b.Entries[i], nil
}

// Inclusion builds the inclusion proof of entry index in the tree of cp and
// checks it against entry before returning it, so a proof this returns
// always verifies.
func (c *Client) Inclusion(ctx context.Context, entry []byte, index uint64, cp translog.Checkpoint) (translog.InclusionProof, error) {
	if index >= cp.Size {
		return translog.InclusionProof{}, fmt.Errorf("entry %d is not covered by the checkpoint of size %d", index, cp.Size)
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, c.tilesSince())
	if err != nil {
		return translog.InclusionProof{}, fmt.Errorf("read tiles for size %d: %w", cp.Size, err)
	}
	hashes, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return translog.InclusionProof{}, fmt.Errorf("inclusion proof for %d: %w", index, err)
	}
	if err := translog.VerifyInclusion(translog.LeafHash(entry), index, hashes, cp); err != nil {
		return translog.InclusionProof{}, err
	}
	return translog.InclusionProof{Index: index, Hashes: hashes, Checkpoint: cp.Raw}, nil
}

// ProvenEntry reads entry index of the tree of the log's latest
// checkpoint and builds its inclusion proof, checked against the entry
// (see Inclusion). It returns the entry, the proof and the checkpoint.
func (c *Client) ProvenEntry(ctx context.Context, index uint64) ([]byte, translog.InclusionProof, translog.Checkpoint, error) {
	cp, err := c.Checkpoint(ctx)
	if err != nil {
		return nil, translog.InclusionProof{}, translog.Checkpoint{}, err
	}
	entry, err := c.Entry(ctx, index, cp.Size)
	if err != nil {
		return nil, translog.InclusionProof{}, translog.Checkpoint{}, err
	}
	p, err := c.Inclusion(ctx, entry, index, cp)
	if err != nil {
		return nil, translog.InclusionProof{}, translog.Checkpoint{}, err
	}
	return entry, p, cp, nil
}

// Consistency builds the consistency proof from older to newer and checks
// it before returning it. An error wrapping ErrFork means the two
// checkpoints cannot both be true of one append-only log.
func (c *Client) Consistency(ctx context.Context, older, newer translog.Checkpoint) ([][]byte, error) {
	if older.Size > newer.Size {
		return nil, &ForkError{Seen: older, Presented: newer, Reason: fmt.Sprintf("the log shrank from %d to %d entries (rolled back)", older.Size, newer.Size)}
	}
	if older.Size == newer.Size {
		if string(older.Root) != string(newer.Root) {
			return nil, &ForkError{Seen: older, Presented: newer, Reason: "two different roots for the same size"}
		}
		return nil, nil
	}
	if older.Size == 0 {
		return nil, nil
	}
	pb, err := client.NewProofBuilder(ctx, newer.Size, c.tilesSince())
	if err != nil {
		return nil, fmt.Errorf("read tiles for size %d: %w", newer.Size, err)
	}
	hashes, err := pb.ConsistencyProof(ctx, older.Size, newer.Size)
	if err != nil {
		return nil, fmt.Errorf("consistency proof %d to %d: %w", older.Size, newer.Size, err)
	}
	if err := translog.VerifyConsistency(older, newer, hashes); err != nil {
		return nil, &ForkError{Seen: older, Presented: newer, Reason: err.Error()}
	}
	return hashes, nil
}

// ErrFork is matched (errors.Is) by every ForkError.
var ErrFork = errors.New("log fork")

// ForkError reports two checkpoints of one log that no append-only history
// can explain: the log was rolled back, forked, or is showing different
// views to different clients.
type ForkError struct {
	Seen, Presented translog.Checkpoint
	Reason          string
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("log %s is inconsistent with the checkpoint seen before (%d entries) — fork or rollback: %s", e.Presented.Origin, e.Seen.Size, e.Reason)
}

// Is makes errors.Is(err, ErrFork) true.
func (e *ForkError) Is(target error) bool { return target == ErrFork }

// TreeAt returns the compact range of the tree of the first size entries,
// read from the tiles of the log's tree of latestSize entries (size ≤
// latestSize). Reading the later tree's tiles matters: a log deletes the
// partial tiles of sizes it has grown past, and tiles only ever gain nodes,
// so the later tiles hold every node the earlier tree had. The caller
// checks the range's root against a signed checkpoint before trusting it.
func (c *Client) TreeAt(ctx context.Context, size, latestSize uint64) (*compact.Range, error) {
	if size > latestSize {
		return nil, fmt.Errorf("size %d is beyond the log's %d entries", size, latestSize)
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	if size == 0 {
		return rf.NewEmptyRange(0), nil
	}
	latestTiles := func(ctx context.Context, level, index uint64, _ uint8) ([]byte, error) {
		return c.src.ReadTile(ctx, level, index, layout.PartialTileSize(level, index, latestSize))
	}
	nodes, err := client.FetchRangeNodes(ctx, size, latestTiles)
	if err != nil {
		return nil, fmt.Errorf("read the tree of size %d: %w", size, err)
	}
	return rf.NewRange(0, size, nodes)
}

// tilesSince returns a tile reader for a tree the log may have grown past
// since: when a partial tile of that tree is gone (logs delete the partial
// tiles of sizes they have grown past), it reads the tile of the log's
// current tree, which holds every node the smaller tree had.
func (c *Client) tilesSince() client.TileFetcherFunc {
	var latest uint64
	return func(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
		b, err := c.src.ReadTile(ctx, level, index, p)
		if err == nil || p == 0 || !errors.Is(err, fs.ErrNotExist) {
			return b, err
		}
		if latest == 0 {
			cp, cerr := c.Checkpoint(ctx)
			if cerr != nil {
				return nil, err
			}
			latest = cp.Size
		}
		return c.src.ReadTile(ctx, level, index, layout.PartialTileSize(level, index, latest))
	}
}

// CheckConsistent reads the current checkpoint of the log at location (a
// URL or a directory), verified with verifiers, and checks that it extends
// cp: the log has only grown since. It returns the current checkpoint.
func CheckConsistent(ctx context.Context, location string, cp translog.Checkpoint, verifiers []note.Verifier) (translog.Checkpoint, error) {
	src, err := OpenSource(location, nil)
	if err != nil {
		return translog.Checkpoint{}, err
	}
	c, err := NewClient(src, verifiers)
	if err != nil {
		return translog.Checkpoint{}, err
	}
	latest, err := c.Checkpoint(ctx)
	if err != nil {
		return translog.Checkpoint{}, fmt.Errorf("log %s: %w", location, err)
	}
	if _, err := c.Consistency(ctx, cp, latest); err != nil {
		return translog.Checkpoint{}, err
	}
	return latest, nil
}
