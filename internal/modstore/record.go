package modstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// Sources of a stored module file.
const (
	// SourceUpstream is a file fetched from the upstream proxy and checked
	// against the checksum database.
	SourceUpstream = "upstream"
	// SourceInternal is an internal module published with `hegui proxy
	// publish`: signed and recorded in the audit log.
	SourceInternal = "internal"
)

// MaxRecordSize bounds a record when it is read back.
const MaxRecordSize = 16 << 10

// Record says what a stored module file is and how it was verified. It is
// written after the file, and a file without its record is not served: the
// record is what makes a store write complete.
type Record struct {
	// Module and Version name the module version; Kind is Info, Mod or Zip.
	Module  string `json:"module"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	// Size and SHA256 are the stored bytes' length and SHA-256 (hex); every
	// read is checked against them.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Hash is the file's go.sum hash ("h1:…") for Mod and Zip.
	Hash string `json:"hash,omitempty"`
	// Source is SourceUpstream or SourceInternal.
	Source string `json:"source"`
	// VerifiedBy says what the hash was checked against: a checksum
	// database's name, or "signature" for an internal module.
	VerifiedBy string `json:"verifiedBy,omitempty"`
	// Stored is when the file was stored.
	Stored time.Time `json:"stored"`
}

// Marshal encodes the record as one line of JSON.
func (r *Record) Marshal() ([]byte, error) {
	data, err := jsonv2.Marshal(r, jsonv2.Deterministic(true))
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ParseRecord decodes a record strictly and checks that it describes the
// named file.
func ParseRecord(data []byte, module, version, kind string) (*Record, error) {
	bad := func(format string, args ...any) error {
		return &RecordError{Module: module, Version: version, Kind: kind, Err: fmt.Errorf(format, args...)}
	}
	var r Record
	if err := jsonv2.Unmarshal(bytes.TrimSpace(data), &r, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, bad("%v", err)
	}
	if r.Module != module || r.Version != version || r.Kind != kind {
		return nil, bad("describes %s@%s %s", r.Module, r.Version, r.Kind)
	}
	if sum, err := hex.DecodeString(r.SHA256); err != nil || len(sum) != sha256.Size {
		return nil, bad("sha256 %q is not a SHA-256", r.SHA256)
	}
	if r.Size < 0 {
		return nil, bad("negative size")
	}
	if r.Source != SourceUpstream && r.Source != SourceInternal {
		return nil, bad("unknown source %q", r.Source)
	}
	return &r, nil
}

// RecordError is a stored record that cannot be read as the record of its
// module file: the file is not served.
type RecordError struct {
	Module, Version, Kind string
	Err                   error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record of %s@%s %s: %v", e.Module, e.Version, e.Kind, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ReadRecord reads the record of a module file; errors.Is(err,
// ErrNotExist) when there is none.
func ReadRecord(ctx context.Context, s Store, module, version, kind string) (*Record, error) {
	key, err := RecordKey(module, version, kind)
	if err != nil {
		return nil, err
	}
	data, err := ReadAll(ctx, s, key, MaxRecordSize)
	if err != nil {
		return nil, err
	}
	return ParseRecord(data, module, version, kind)
}

// MismatchError is a stored object whose bytes are not those its record
// describes: a corrupted or swapped file.
type MismatchError struct {
	Key  string
	Want string // the record's SHA-256 and size
	Got  string // what was read
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("stored %s does not match its record: want %s, read %s", e.Key, e.Want, e.Got)
}

// IsMismatch reports whether err is a MismatchError.
func IsMismatch(err error) bool {
	var m *MismatchError
	return errors.As(err, &m)
}
