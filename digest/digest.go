// Package digest computes message digests and HMACs by name, SM3 among them,
// over streams of any length.
//
// SM3 is GB/T 32905-2016 (GM/T 0004-2012); HMAC-SM3 is RFC 2104 HMAC over
// SM3, as `openssl mac -digest SM3 HMAC` computes it. Sum hashes one stream
// with several algorithms in a single read, so a file's SHA-256 and SM3 cost
// one pass over the disk.
package digest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/emmansun/gmsm/sm3"

	"hegui.dev/hegui/internal/ctxio"
)

// Algorithm names a hash function.
type Algorithm string

// The hash functions hegui computes.
const (
	SM3    Algorithm = "sm3"
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
)

// Algorithms lists the supported hash functions.
var Algorithms = []Algorithm{SM3, SHA256, SHA512}

// ParseAlgorithm accepts "sm3", "sha256", "sha-256", "sha512" and "sha-512"
// in any case.
func ParseAlgorithm(name string) (Algorithm, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "") {
	case "sm3":
		return SM3, nil
	case "sha256":
		return SHA256, nil
	case "sha512":
		return SHA512, nil
	}
	return "", fmt.Errorf("unknown digest algorithm %q (want sm3, sha256 or sha512)", name)
}

// New returns a fresh hash state.
func (a Algorithm) New() hash.Hash {
	switch a {
	case SM3:
		return sm3.New()
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	}
	panic("digest: unknown algorithm " + string(a))
}

// NewHMAC returns an HMAC keyed with key over the algorithm.
func (a Algorithm) NewHMAC(key []byte) hash.Hash {
	return hmac.New(a.New, key)
}

// Sum reads r to its end once and returns its digest under each algorithm,
// in the order given, with the number of bytes read.
func Sum(ctx context.Context, r io.Reader, algs ...Algorithm) ([][]byte, int64, error) {
	hashes := make([]hash.Hash, len(algs))
	writers := make([]io.Writer, len(algs))
	for i, a := range algs {
		hashes[i] = a.New()
		writers[i] = hashes[i]
	}
	n, err := ctxio.Copy(ctx, io.MultiWriter(writers...), r)
	if err != nil {
		return nil, n, err
	}
	sums := make([][]byte, len(algs))
	for i, h := range hashes {
		sums[i] = h.Sum(nil)
	}
	return sums, n, nil
}
