// Package modstore keeps what the module proxy serves: module files
// (.info, .mod, .zip), the records that say how each was verified, internal
// modules' signatures, and the checksum database's lookups and tiles. A
// Store is a flat namespace of immutable objects under slash-separated keys;
// Dir keeps them in a local directory, and other backends (object storage)
// implement the same four methods.
//
// Keys are built by this package's functions (ModuleKey, SumDBKey) from
// case-encoded module paths and versions, so a key never holds "..", an
// upper-case letter that a case-insensitive file system would fold, or a
// character a backend would treat specially.
package modstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrNotExist is returned (wrapped) by Open and Delete for a key that holds
// nothing.
var ErrNotExist = errors.New("not stored")

// ErrExist is returned (wrapped) by Create for a key that already holds an
// object: stored objects are immutable.
var ErrExist = errors.New("already stored")

// Store is where the proxy keeps objects. Implementations are safe for
// concurrent use, and a write is all or nothing: a reader (and a restart
// after a crash) sees either no object or the whole of it.
type Store interface {
	// Open returns the object stored under key.
	Open(ctx context.Context, key string) (Object, error)
	// Create stores the content of r under key unless the key already
	// holds an object (ErrExist), in which case the existing object is left
	// as it is. A failed Create stores nothing.
	Create(ctx context.Context, key string, r io.Reader) error
	// Replace stores the content of r under key whether or not it holds an
	// object: for the few objects that change (the checksum database's
	// latest tree head, a quarantined object's replacement).
	Replace(ctx context.Context, key string, r io.Reader) error
	// List returns the names of the objects directly under prefix, which
	// ends in "/": for "m/@v/" it returns "v1.0.0.zip", not deeper keys.
	// An empty prefix lists the top-level names.
	List(ctx context.Context, prefix string) ([]string, error)
	// ListAll returns the keys of every object below prefix (which ends in
	// "/"), at any depth, relative to prefix and sorted; hidden names are
	// left out.
	ListAll(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object under key.
	Delete(ctx context.Context, key string) error
	// String names the store for messages ("directory /srv/proxy").
	String() string
}

// Object is an opened stored object.
type Object interface {
	io.ReadCloser
	// Size is the object's length in bytes.
	Size() int64
}

// ReadAll reads the whole object under key, refusing one larger than max
// bytes.
func ReadAll(ctx context.Context, s Store, key string, max int64) ([]byte, error) {
	obj, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	if obj.Size() > max {
		return nil, &TooLargeError{Key: key, Size: obj.Size(), Max: max}
	}
	data, err := io.ReadAll(io.LimitReader(obj, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Key: key, Size: int64(len(data)), Max: max}
	}
	return data, nil
}

// TooLargeError is a stored object larger than its reader accepts.
type TooLargeError struct {
	Key       string
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return "stored object " + e.Key + " is larger than " + formatSize(e.Max)
}

func formatSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
