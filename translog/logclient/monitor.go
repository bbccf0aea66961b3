package logclient

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"hegui.dev/hegui/translog"
)

// Monitor follows a log. Each Poll reads the latest checkpoint, checks
// its signatures and its consistency with the one verified before, reads
// the new entries, checks that each is a valid audit event, and that with
// the earlier tree they hash to the signed root; then it saves the
// checkpoint in Store, so the next run starts there and reads nothing
// twice. It keeps the compact range of the verified tree, so a poll hashes
// only the new entries.
type Monitor struct {
	Client *Client
	Store  SeenStore
	// OnEntry, if set, receives each new entry once it is read and is a
	// valid audit event, before the poll has checked the new root.
	OnEntry func(index uint64, entry []byte)
	cur     translog.Checkpoint
	rng     *compact.Range
}

// Checkpoint is the last checkpoint the monitor verified (size 0 before
// the first Poll).
func (m *Monitor) Checkpoint() translog.Checkpoint { return m.cur }

// Poll verifies what the log added since the last poll and returns the
// checkpoint now verified. A fork, a rollback or a corrupt entry is an
// error (a *ForkError for the first two); after any error the next poll
// starts again from the checkpoint in Store.
func (m *Monitor) Poll(ctx context.Context) (translog.Checkpoint, error) {
	latest, err := m.Client.Checkpoint(ctx)
	if err != nil {
		return m.cur, err
	}
	if m.rng == nil {
		if err := m.start(ctx, latest); err != nil {
			return m.cur, err
		}
	}
	if _, err := m.Client.Consistency(ctx, m.cur, latest); err != nil {
		return m.cur, err
	}
	if latest.Size == m.cur.Size {
		return m.cur, nil
	}
	// On any error from here the range is dropped: the next poll rebuilds
	// it from the tiles of the checkpoint last verified.
	rng := m.rng
	m.rng = nil
	for i := m.cur.Size; i < latest.Size; i++ {
		entry, err := m.Client.Entry(ctx, i, latest.Size)
		if err != nil {
			return m.cur, err
		}
		if _, err := translog.ParseEvent(entry); err != nil {
			return m.cur, fmt.Errorf("entry %d is not a valid audit event: %w", i, err)
		}
		if err := rng.Append(translog.LeafHash(entry), nil); err != nil {
			return m.cur, err
		}
		if m.OnEntry != nil {
			m.OnEntry(i, entry)
		}
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return m.cur, err
	}
	if !bytes.Equal(root, latest.Root) {
		return m.cur, fmt.Errorf("entries %d..%d do not hash to the signed root of %s", m.cur.Size, latest.Size-1, latest)
	}
	if err := m.Store.Save(latest); err != nil {
		return m.cur, err
	}
	m.cur, m.rng = latest, rng
	return m.cur, nil
}

// Follow polls the log rounds times (0: until ctx ends), waiting interval
// between polls, and after each poll calls polled, if set, with the
// checkpoint verified before the poll and the one verified now (their
// sizes differ when the poll verified new entries). It returns the first
// error of a poll, and nil once the rounds are done or ctx ends between
// polls.
func (m *Monitor) Follow(ctx context.Context, interval time.Duration, rounds int, polled func(before, now translog.Checkpoint)) error {
	for round := 0; rounds == 0 || round < rounds; round++ {
		if round > 0 {
			wait := time.NewTimer(interval)
			select {
			case <-ctx.Done():
				wait.Stop()
				return nil
			case <-wait.C:
			}
		}
		before := m.cur
		now, err := m.Poll(ctx)
		if err != nil {
			return err
		}
		if polled != nil {
			polled(before, now)
		}
	}
	return nil
}

// start picks up from the checkpoint seen before, rebuilding its compact
// range from the tiles and checking it against that checkpoint's root.
func (m *Monitor) start(ctx context.Context, latest translog.Checkpoint) error {
	seen, ok, err := m.Store.Load(m.Client.Verifiers())
	if err != nil {
		return err
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	if !ok || seen.Size == 0 {
		m.rng = rf.NewEmptyRange(0)
		m.cur = translog.Checkpoint{Origin: m.Client.Origin(), Root: rfc6962.DefaultHasher.EmptyRoot()}
		return nil
	}
	if seen.Size > latest.Size {
		_, err := m.Client.Consistency(ctx, seen, latest) // a rollback: a *ForkError
		return err
	}
	rng, err := m.Client.TreeAt(ctx, seen.Size, latest.Size)
	if err != nil {
		return err
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return err
	}
	if !bytes.Equal(root, seen.Root) {
		return &ForkError{Seen: seen, Presented: seen, Reason: "the log's tiles for the size seen before hash to another root"}
	}
	m.rng, m.cur = rng, seen
	return nil
}
