package modstore

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/module"
)

// Kinds of module files, as the GOPROXY protocol names them.
const (
	Info = "info"
	Mod  = "mod"
	Zip  = "zip"
)

// Key suffixes of the objects kept beside a module file.
const (
	// RecordSuffix follows a module file's key for its Record.
	RecordSuffix = ".rec"
	// SignatureExt is an internal module version's signed go.sum lines
	// (MODULE/@v/VERSION.sig).
	SignatureExt = "sig"
	// LogProofExt is an internal module version's audit-log entry and
	// inclusion proof (MODULE/@v/VERSION.tlog).
	LogProofExt = "tlog"
)

// Top-level key prefixes.
const (
	modulesPrefix = "modules/"
	sumdbPrefix   = "sumdb/"
	// quarantinePrefix holds files that failed their check.
	quarantinePrefix = "quarantine/"
)

// VersionsKey is the prefix under which a module's files are kept
// ("modules/github.com/!azure/x/@v/"). The path must be a valid module
// path.
func VersionsKey(path string) (string, error) {
	esc, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	return modulesPrefix + esc + "/@v/", nil
}

// ModuleKey is the key of a module file: kind is Info, Mod, Zip,
// SignatureExt or LogProofExt. The version must be canonical semver.
func ModuleKey(path, version, kind string) (string, error) {
	switch kind {
	case Info, Mod, Zip, SignatureExt, LogProofExt:
	default:
		return "", fmt.Errorf("%q is not a kind of module file", kind)
	}
	if err := module.Check(path, version); err != nil {
		return "", err
	}
	if module.CanonicalVersion(version) != version {
		return "", fmt.Errorf("%s@%s: not a canonical version", path, version)
	}
	prefix, err := VersionsKey(path)
	if err != nil {
		return "", err
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return "", err
	}
	return prefix + ev + "." + kind, nil
}

// RecordKey is the key of the record of a module file.
func RecordKey(path, version, kind string) (string, error) {
	k, err := ModuleKey(path, version, kind)
	if err != nil {
		return "", err
	}
	return k + RecordSuffix, nil
}

// QuarantineKey is where a stored object that failed its check is kept:
// under quarantine/, with the time it was found.
func QuarantineKey(key string, at time.Time) string {
	return quarantinePrefix + at.UTC().Format("20060102T150405.000000000Z") + "/" + key
}

// SumDBKey is the key of a checksum-database object: name is the
// database's name ("sum.golang.org") and file the path the sumdb client
// uses below it ("lookup/golang.org/x/mod@v0.42.0", "tile/8/0/x001/234",
// "latest"). It refuses a file with an empty, "." or ".." element.
func SumDBKey(name, file string) (string, error) {
	if !validElem(name) || strings.Contains(name, "/") {
		return "", fmt.Errorf("checksum database name %q is not valid", name)
	}
	for elem := range strings.SplitSeq(file, "/") {
		if !validElem(elem) {
			return "", fmt.Errorf("checksum database file %q is not valid", file)
		}
	}
	return sumdbPrefix + name + "/" + file, nil
}

// validElem reports whether s is a harmless key element: not empty, not
// "." or "..", not hidden, printable ASCII without a backslash.
func validElem(s string) bool {
	if s == "" || s == "." || s == ".." || s[0] == '.' || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '\\' || c == ':' {
			return false
		}
	}
	return true
}

// ParseVersionName splits a name List returned under VersionsKey
// ("v1.0.0.zip") into the version and the kind, unescaping the version.
// ok is false for names that are not module files of a canonical version
// (records, temporary files).
func ParseVersionName(name string) (version, kind string, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return "", "", false
	}
	ev, kind := name[:i], name[i+1:]
	v, err := module.UnescapeVersion(ev)
	if err != nil || module.CanonicalVersion(v) != v {
		return "", "", false
	}
	return v, kind, true
}

// checkKey checks a key before any backend uses it: slash-separated
// elements, none empty, ".", "..", hidden (a leading "." is how Dir names
// its temporary files) or holding a NUL or a backslash. Both backends take
// the same keys.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("store key %q is not valid", key)
	}
	for elem := range strings.SplitSeq(key, "/") {
		if elem == "" || elem[0] == '.' || strings.ContainsRune(elem, 0) || strings.ContainsRune(elem, '\\') {
			return fmt.Errorf("store key %q is not valid", key)
		}
	}
	return nil
}
