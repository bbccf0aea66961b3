package translog

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// ProofHeader is the first line of a C2SP tlog-proof.
const ProofHeader = "c2sp.org/tlog-proof@v1"

// maxProofHashes bounds an inclusion or consistency proof: a tree of 2^64
// leaves needs at most 64 hashes (consistency: 2×64).
const maxProofHashes = 128

// LeafHash returns the RFC 6962 leaf hash of an entry: SHA-256(0x00 || entry).
func LeafHash(entry []byte) []byte {
	return rfc6962.DefaultHasher.HashLeaf(entry)
}

// InclusionProof is an offline-verifiable proof that an entry is in a log,
// in the C2SP tlog-proof format: the entry's index, the RFC 6962 audit path
// and the signed checkpoint the path leads to.
type InclusionProof struct {
	Index uint64
	// Hashes is the audit path from the leaf's sibling up to the root's
	// child.
	Hashes [][]byte
	// Checkpoint is the signed checkpoint, verbatim.
	Checkpoint []byte
	// Extra is opaque, unauthenticated application data (may be nil).
	Extra []byte
}

// Marshal encodes p as a C2SP tlog-proof.
func (p InclusionProof) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ProofHeader + "\n")
	if len(p.Extra) > 0 {
		b.WriteString("extra " + base64.StdEncoding.EncodeToString(p.Extra) + "\n")
	}
	fmt.Fprintf(&b, "index %d\n", p.Index)
	for _, h := range p.Hashes {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseInclusionProof decodes a C2SP tlog-proof. It does not verify it.
func ParseInclusionProof(data []byte) (InclusionProof, error) {
	var p InclusionProof
	if len(data) > MaxCheckpointSize+maxProofHashes*48+1024 {
		return p, errors.New("tlog-proof: too large")
	}
	head, cp, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok {
		return p, errors.New("tlog-proof: no blank line before the checkpoint")
	}
	// Lines end in LF alone; bufio.ScanLines would quietly drop a CR and
	// base64 ignores one, so refuse CRs before either sees them.
	if bytes.IndexByte(head, '\r') >= 0 {
		return p, errors.New("tlog-proof: lines must end in LF, not CRLF")
	}
	sc := bufio.NewScanner(bytes.NewReader(head))
	if !sc.Scan() || sc.Text() != ProofHeader {
		return p, fmt.Errorf("tlog-proof: the first line is not %q", ProofHeader)
	}
	if !sc.Scan() {
		return p, errors.New("tlog-proof: no index line")
	}
	line := sc.Text()
	if rest, ok := strings.CutPrefix(line, "extra "); ok {
		extra, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return p, fmt.Errorf("tlog-proof: extra: %w", err)
		}
		p.Extra = extra
		if !sc.Scan() {
			return p, errors.New("tlog-proof: no index line")
		}
		line = sc.Text()
	}
	num, ok := strings.CutPrefix(line, "index ")
	idx, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || (len(num) > 1 && num[0] == '0') {
		return p, fmt.Errorf("tlog-proof: %q is not \"index N\"", clip(line))
	}
	p.Index = idx
	for sc.Scan() {
		h, err := base64.StdEncoding.DecodeString(sc.Text())
		if err != nil || len(h) != 32 {
			return p, fmt.Errorf("tlog-proof: %q is not a base64 SHA-256 hash", clip(sc.Text()))
		}
		if len(p.Hashes) == maxProofHashes {
			return p, errors.New("tlog-proof: too many hashes")
		}
		p.Hashes = append(p.Hashes, h)
	}
	p.Checkpoint = bytes.Clone(cp)
	return p, nil
}

// Verify checks that entry is at p.Index in the tree of p's checkpoint and
// that the checkpoint is signed by every key in verifiers. It returns the
// verified checkpoint.
func (p InclusionProof) Verify(entry []byte, verifiers []note.Verifier) (Checkpoint, error) {
	cp, err := OpenCheckpoint(p.Checkpoint, verifiers)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := VerifyInclusion(LeafHash(entry), p.Index, p.Hashes, cp); err != nil {
		return Checkpoint{}, err
	}
	return cp, nil
}

// VerifyInclusion checks an RFC 6962 inclusion proof of the leaf with hash
// leafHash at index in the tree of cp.
func VerifyInclusion(leafHash []byte, index uint64, hashes [][]byte, cp Checkpoint) error {
	if index >= cp.Size {
		return fmt.Errorf("inclusion: index %d is not in a tree of size %d", index, cp.Size)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, leafHash, hashes, cp.Root); err != nil {
		return fmt.Errorf("inclusion of entry %d in tree size %d: %w", index, cp.Size, err)
	}
	return nil
}

// VerifyConsistency checks an RFC 6962 consistency proof that the tree of
// older is a prefix of the tree of newer.
func VerifyConsistency(older, newer Checkpoint, hashes [][]byte) error {
	if older.Size > newer.Size {
		return fmt.Errorf("consistency: size %d is older than %d", newer.Size, older.Size)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, older.Size, newer.Size, hashes, older.Root, newer.Root); err != nil {
		return fmt.Errorf("consistency from size %d to %d: %w", older.Size, newer.Size, err)
	}
	return nil
}
