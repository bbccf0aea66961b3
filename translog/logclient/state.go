package logclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/translog"
)

// SeenStore keeps, per log, the latest checkpoint a client has verified, so
// the next run can prove the log only grew since: a log that was rolled back
// or shows this client a different history is reported as a fork.
type SeenStore struct {
	dir string
}

// NewSeenStore keeps checkpoints in dir, creating it when needed.
func NewSeenStore(dir string) SeenStore { return SeenStore{dir: dir} }

// DefaultStateDir returns $XDG_STATE_HOME/hegui/translog, or
// ~/.local/state/hegui/translog.
func DefaultStateDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "hegui", "translog"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: set XDG_STATE_HOME or HOME, or pass --state: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "hegui", "translog"), nil
}

func (s SeenStore) path(origin string) string {
	sum := sha256.Sum256([]byte(origin))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:8])+".checkpoint")
}

// Load returns the checkpoint last saved for the log of verifiers, verified
// again, and whether there was one.
func (s SeenStore) Load(verifiers []note.Verifier) (translog.Checkpoint, bool, error) {
	if len(verifiers) == 0 {
		return translog.Checkpoint{}, false, errors.New("no verifier keys")
	}
	p := s.path(verifiers[0].Name())
	raw, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return translog.Checkpoint{}, false, nil
	}
	if err != nil {
		return translog.Checkpoint{}, false, err
	}
	cp, err := translog.OpenCheckpoint(raw, verifiers)
	if err != nil {
		return translog.Checkpoint{}, false, fmt.Errorf("saved checkpoint %s: %w", p, err)
	}
	return cp, true, nil
}

// Save records cp as the latest checkpoint seen for its log.
func (s SeenStore) Save(cp translog.Checkpoint) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path(cp.Origin), cp.Raw, 0o600)
}

// Advance checks that latest is consistent with the checkpoint seen before
// (if any) and then records latest as seen. It returns the earlier
// checkpoint and whether there was one. A *ForkError means the log was
// rolled back or forked; latest is then not recorded.
func (c *Client) Advance(ctx context.Context, store SeenStore, latest translog.Checkpoint) (translog.Checkpoint, bool, error) {
	seen, ok, err := store.Load(c.verifiers)
	if err != nil {
		return translog.Checkpoint{}, false, err
	}
	if ok {
		if _, err := c.Consistency(ctx, seen, latest); err != nil {
			return seen, true, err
		}
		if seen.Size == latest.Size {
			return seen, true, nil
		}
	}
	return seen, ok, store.Save(latest)
}
