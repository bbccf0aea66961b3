package translog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// MaxCheckpointSize is the largest signed checkpoint read: a few lines of
// text and a few signatures fit many times over.
const MaxCheckpointSize = 16 << 10

// Checkpoint is a verified C2SP tlog-checkpoint: the log's origin, its size
// and the RFC 6962 root hash of the tree of that size, and the signed note
// it was read from.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	// Raw is the signed note exactly as the log published it.
	Raw []byte
}

// ErrCheckpointSignature means a checkpoint is not signed by every key the
// client trusts for the log.
var ErrCheckpointSignature = errors.New("checkpoint signature")

// OpenCheckpoint verifies a signed checkpoint against the log's verifier
// keys and parses it. Every key in verifiers must have signed it, so a log
// configured with Ed25519 and SM2 keys is held to both; other signatures
// (witness cosignatures) are allowed and ignored. The origin is the keys'
// name.
func OpenCheckpoint(raw []byte, verifiers []note.Verifier) (Checkpoint, error) {
	if len(verifiers) == 0 {
		return Checkpoint{}, errors.New("no verifier keys for the log")
	}
	if len(raw) > MaxCheckpointSize {
		return Checkpoint{}, fmt.Errorf("checkpoint is larger than %d bytes", MaxCheckpointSize)
	}
	origin := verifiers[0].Name()
	n, err := note.Open(raw, note.VerifierList(verifiers...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return Checkpoint{}, fmt.Errorf("%w: no signature by a trusted key for %q", ErrCheckpointSignature, origin)
		}
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrCheckpointSignature, err)
	}
	for _, v := range verifiers {
		if !signedBy(n, v) {
			return Checkpoint{}, fmt.Errorf("%w: missing the %s signature of key %s+%08x", ErrCheckpointSignature, algorithmName(v), v.Name(), v.KeyHash())
		}
	}
	var c log.Checkpoint
	if _, err := c.Unmarshal([]byte(n.Text)); err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint body: %w", err)
	}
	if c.Origin != origin {
		return Checkpoint{}, fmt.Errorf("checkpoint is for log %q, the keys are for %q", c.Origin, origin)
	}
	return Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Hash, Raw: bytes.Clone(raw)}, nil
}

func signedBy(n *note.Note, v note.Verifier) bool {
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return true
		}
	}
	return false
}

func algorithmName(v note.Verifier) string {
	if a := VerifierAlgorithm(v); a != "" {
		return a
	}
	return "log"
}

// String describes the checkpoint in one line.
func (c Checkpoint) String() string {
	return fmt.Sprintf("%s size %d root %s", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}
