// Package modsign signs internal module versions and verifies them.
//
// An internal module version is published (Publish) as its .info, .mod
// and .zip, plus two objects that make it trustworthy:
//
//	MODULE/@v/VERSION.sig   a DSSE envelope whose payload is the version's
//	                        two go.sum lines, signed by the publisher's key
//	                        (SM2 by default)
//	MODULE/@v/VERSION.tlog  the "module.publish" event recorded in the
//	                        transparency audit log for that payload, and its
//	                        inclusion proof in a checkpoint signed by the log
//
// Verify checks both offline against a Trust (the publishers' public keys
// and the log's verifier keys). The proxy runs it before it serves an
// internal module (StoreVerifier), and `hegui mod verify` runs it on a
// client for every internal line of a go.sum.
package modsign

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/mod/module"
)

// PayloadType is the DSSE payload type of a signed statement: the payload
// is exactly the version's two go.sum lines.
const PayloadType = "application/vnd.hegui.gosum.v1"

// PublishAction is the audit-log action of a publication.
const PublishAction = "module.publish"

// Statement is what a publisher signs: the go.sum hashes of one version's
// zip and go.mod.
type Statement struct {
	Module, Version string
	// ZipHash and ModHash are "h1:" hashes.
	ZipHash, ModHash string
}

// GoSum returns the statement as the two lines go.sum holds for the
// version, the zip's first: the signed payload.
func (s Statement) GoSum() []byte {
	return fmt.Appendf(nil, "%s %s %s\n%s %s/go.mod %s\n", s.Module, s.Version, s.ZipHash, s.Module, s.Version, s.ModHash)
}

// Object is how the statement's version is named in the audit log:
// "MODULE@VERSION".
func (s Statement) Object() string { return s.Module + "@" + s.Version }

// maxStatement bounds a statement: two lines of a module path, a version
// and a hash.
const maxStatement = 2048

// ParseStatement reads a signed payload: exactly two go.sum lines for one
// canonical version, the zip's then the go.mod's, each ending in a newline.
func ParseStatement(payload []byte) (Statement, error) {
	if len(payload) > maxStatement {
		return Statement{}, fmt.Errorf("signed go.sum lines: longer than %d bytes", maxStatement)
	}
	lines := strings.Split(string(payload), "\n")
	if len(lines) != 3 || lines[2] != "" {
		return Statement{}, fmt.Errorf("signed go.sum lines: want two lines, each ending in a newline")
	}
	zip, mod := strings.Fields(lines[0]), strings.Fields(lines[1])
	if len(zip) != 3 || len(mod) != 3 {
		return Statement{}, fmt.Errorf("signed go.sum lines: want MODULE VERSION HASH")
	}
	s := Statement{Module: zip[0], Version: zip[1], ZipHash: zip[2], ModHash: mod[2]}
	if mod[0] != s.Module || mod[1] != s.Version+"/go.mod" {
		return Statement{}, fmt.Errorf("signed go.sum lines: the second line is not the go.mod line of %s %s", s.Module, s.Version)
	}
	if err := module.Check(s.Module, s.Version); err != nil {
		return Statement{}, fmt.Errorf("signed go.sum lines: %v", err)
	}
	if module.CanonicalVersion(s.Version) != s.Version {
		return Statement{}, fmt.Errorf("signed go.sum lines: %s is not a canonical version", s.Version)
	}
	for _, h := range []string{s.ZipHash, s.ModHash} {
		if !strings.HasPrefix(h, "h1:") || len(h) != len("h1:")+44 {
			return Statement{}, fmt.Errorf("signed go.sum lines: %q is not an h1: hash", h)
		}
	}
	if !bytes.Equal(s.GoSum(), payload) {
		return Statement{}, fmt.Errorf("signed go.sum lines: not in go.sum's form (single spaces)")
	}
	return s, nil
}
