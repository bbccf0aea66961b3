package modproxy

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/tlog"

	"hegui.dev/hegui/internal/modstore"
)

// maxRequestPath bounds a request path: the longest module path the go
// command accepts is far shorter.
const maxRequestPath = 2048

// maxPathElement bounds one element of a request path, so that every
// stored name fits the 255 bytes file systems allow: the longest is the
// temporary file of a record, "." + VERSION + ".info.rec" + ".tmp-" and up
// to 10 digits (internal/atomicfile), 25 bytes more than the element:
// 255 - 25 = 230.
const maxPathElement = 230

// Kinds of request besides the module files (modstore.Info, Mod, Zip).
const (
	kindList   = "list"
	kindLatest = "latest"
	kindSumDB  = "sumdb"
)

// request is a parsed GOPROXY or checksum-database request path.
type request struct {
	kind    string // kindList, kindLatest, modstore.Info/Mod/Zip or kindSumDB
	module  string // unescaped module path
	version string // unescaped version, for Info/Mod/Zip
	// For kindSumDB: the database's name and the file below it
	// ("supported", "latest", "lookup/<escaped path>@<escaped version>",
	// "tile/8/0/001").
	sumdbName, sumdbFile string
}

// errBadPath is a request path that is not one the protocol has.
var errBadPath = errors.New("not a module proxy path")

// parseRequest reads a request's path (without the proxy's prefix,
// starting with "/"). It checks module paths and versions as the go
// command does, so nothing that reaches the store is "..", a case trick or
// an over-long name.
func parseRequest(p string) (request, error) {
	if len(p) > maxRequestPath {
		return request{}, fmt.Errorf("%w: longer than %d bytes", errBadPath, maxRequestPath)
	}
	if !strings.HasPrefix(p, "/") {
		return request{}, errBadPath
	}
	p = p[1:]
	for elem := range strings.SplitSeq(p, "/") {
		if len(elem) > maxPathElement {
			return request{}, fmt.Errorf("%w: a path element is longer than %d bytes", errBadPath, maxPathElement)
		}
	}
	if rest, ok := strings.CutPrefix(p, "sumdb/"); ok {
		return parseSumDB(rest)
	}
	if esc, ok := strings.CutSuffix(p, "/@latest"); ok {
		mod, err := module.UnescapePath(esc)
		if err != nil {
			return request{}, fmt.Errorf("%w: %v", errBadPath, err)
		}
		return request{kind: kindLatest, module: mod}, nil
	}
	esc, file, ok := strings.Cut(p, "/@v/")
	if !ok {
		return request{}, errBadPath
	}
	mod, err := module.UnescapePath(esc)
	if err != nil {
		return request{}, fmt.Errorf("%w: %v", errBadPath, err)
	}
	if file == "list" {
		return request{kind: kindList, module: mod}, nil
	}
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return request{}, errBadPath
	}
	ev, kind := file[:i], file[i+1:]
	switch kind {
	case modstore.Info, modstore.Mod, modstore.Zip:
	case modstore.SignatureExt, modstore.LogProofExt:
		// An internal module version's publication, for hegui mod verify.
	default:
		return request{}, errBadPath
	}
	version, err := module.UnescapeVersion(ev)
	if err != nil {
		return request{}, fmt.Errorf("%w: %v", errBadPath, err)
	}
	if kind == modstore.Info && !safeQuery(version) {
		// A query is passed on to the upstream in a URL path: nothing that
		// a URL would read as a fragment, a query or an escape.
		return request{}, fmt.Errorf("%w: %q is not a version query", errBadPath, version)
	}
	if kind != modstore.Info || module.CanonicalVersion(version) == version {
		// A .mod or .zip is only ever asked for by canonical version; an
		// .info may be a query ("master", a commit) the upstream resolves.
		if err := module.Check(mod, version); err != nil {
			return request{}, fmt.Errorf("%w: %v", errBadPath, err)
		}
		if module.CanonicalVersion(version) != version {
			return request{}, fmt.Errorf("%w: %s is not a canonical version", errBadPath, version)
		}
	}
	return request{kind: kind, module: mod, version: version}, nil
}

// parseSumDB reads the part of a checksum-database path after "sumdb/".
func parseSumDB(p string) (request, error) {
	name, file, ok := strings.Cut(p, "/")
	if !ok || name == "" {
		return request{}, errBadPath
	}
	r := request{kind: kindSumDB, sumdbName: name, sumdbFile: file}
	switch {
	case file == "supported" || file == "latest":
	case strings.HasPrefix(file, "lookup/"):
		esc, ev, ok := strings.Cut(strings.TrimPrefix(file, "lookup/"), "@")
		if !ok {
			return request{}, errBadPath
		}
		mod, err := module.UnescapePath(esc)
		if err != nil {
			return request{}, fmt.Errorf("%w: %v", errBadPath, err)
		}
		version, err := module.UnescapeVersion(ev)
		if err != nil {
			return request{}, fmt.Errorf("%w: %v", errBadPath, err)
		}
		if err := module.Check(mod, version); err != nil {
			return request{}, fmt.Errorf("%w: %v", errBadPath, err)
		}
		r.module, r.version = mod, version
	case strings.HasPrefix(file, "tile/"):
		t, err := tlog.ParseTilePath(file)
		if err != nil {
			return request{}, fmt.Errorf("%w: %v", errBadPath, err)
		}
		if t.Path() != file {
			return request{}, fmt.Errorf("%w: tile path %s is not in canonical form", errBadPath, file)
		}
	default:
		return request{}, errBadPath
	}
	if _, err := modstore.SumDBKey(name, file); err != nil {
		return request{}, fmt.Errorf("%w: %v", errBadPath, err)
	}
	return r, nil
}

// safeQuery reports whether a version query ("master", "v1.2", a commit)
// holds only letters, digits and ".-_+~".
func safeQuery(q string) bool {
	if q == "" || len(q) > maxPathElement {
		return false
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_+~", c) >= 0) {
			return false
		}
	}
	return true
}
