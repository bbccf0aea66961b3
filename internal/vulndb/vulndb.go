// Package vulndb keeps an offline Go vulnerability database in the layout
// govulncheck reads with -db file://DIR (the layout of vuln.go.dev, v1):
//
//	index/db.json       {"modified": TIME}
//	index/modules.json  [{"path": MODULE, "vulns": [{"id", "modified", "fixed"}]}]
//	index/vulns.json    [{"id", "modified", "aliases"}]
//	ID/<id>.json        one OSV entry each
//
// It builds one from OSV entries (a directory, a .zip such as OSV's
// all.zip, or a .tar.gz), updates one from a mirror URL, and describes one
// (digest, modification time, age) for the record a delivery keeps.
// Writes are atomic: a database is built beside its destination and moved
// into place whole, so a failed import or update leaves the old one intact.
package vulndb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Layout file names, relative to the database root.
const (
	dbFile      = "index/db.json"
	modulesFile = "index/modules.json"
	vulnsFile   = "index/vulns.json"
	entryDir    = "ID"
)

// EnvPath is the environment variable that names the default database.
const EnvPath = "HEGUI_VULNDB"

// DefaultPath is $HEGUI_VULNDB (read with getenv), else the vulndb folder
// in the user's cache directory (~/.cache/hegui/vulndb on Linux).
func DefaultPath(getenv func(string) string) string {
	if p := getenv(EnvPath); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "hegui", "vulndb")
}

// Info describes a database.
type Info struct {
	// Path is the database root, absolute.
	Path string `json:"path"`
	// URL is what govulncheck's -db takes: file:///abs/path.
	URL string `json:"url"`
	// Modified is the database's modification time (index/db.json).
	Modified time.Time `json:"modified"`
	// Entries and Modules count the OSV entries and the modules indexed.
	Entries int `json:"entries"`
	Modules int `json:"modules"`
	// Digest is "sha256:HEX" over every file of the database (path and
	// content), so two databases with the same digest are the same.
	Digest string `json:"digest"`
}

// Age is how old the database is at t.
func (i *Info) Age(t time.Time) time.Duration { return t.Sub(i.Modified) }

// dbMeta is index/db.json.
type dbMeta struct {
	Modified time.Time `json:"modified"`
}

// moduleMeta is one element of index/modules.json.
type moduleMeta struct {
	Path  string      `json:"path"`
	Vulns []moduleRef `json:"vulns"`
}

type moduleRef struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

// vulnMeta is one element of index/vulns.json.
type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// Open checks that dir holds a database and describes it, digest
// included.
func Open(dir string) (*Info, error) {
	info, err := OpenIndex(dir)
	if err != nil {
		return nil, err
	}
	return info, info.Hash()
}

// OpenIndex is Open without the digest, which reads every file: call Hash
// when it is needed (a scan can run meanwhile).
func OpenIndex(dir string) (*Info, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, modulesFile)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(abs); serr != nil {
				return nil, fmt.Errorf("no vulnerability database at %s (create one with `hegui vulndb import OSV_DIR` or `hegui vulndb update`)", abs)
			}
			return nil, fmt.Errorf("%s is not a vulnerability database: it has no %s", abs, modulesFile)
		}
		return nil, err
	}
	info := &Info{Path: abs, URL: fileURL(abs)}
	var meta dbMeta
	if err := readJSON(filepath.Join(abs, dbFile), &meta); err != nil {
		return nil, err
	}
	info.Modified = meta.Modified
	var mods []moduleMeta
	if err := readJSON(filepath.Join(abs, modulesFile), &mods); err != nil {
		return nil, err
	}
	info.Modules = len(mods)
	return info, nil
}

// Hash fills in Digest and Entries.
func (i *Info) Hash() error {
	var err error
	i.Digest, i.Entries, err = treeDigest(i.Path)
	return err
}

// fileURL is the file:// URL of an absolute path.
func fileURL(abs string) string { return "file://" + filepath.ToSlash(abs) }

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %s", path, jsonError(err))
	}
	return nil
}

// treeDigest hashes the database: SHA-256 over the sorted lines
// "PATH SHA256(CONTENT)\n", one per file. It also counts the entries.
func treeDigest(root string) (string, int, error) {
	var lines []string
	entries := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		lines = append(lines, rel+" "+hex.EncodeToString(sum[:])+"\n")
		if strings.HasPrefix(rel, entryDir+"/") {
			entries++
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), entries, nil
}

// ReadEntry returns the OSV entry id of the database in dir, or nil if it
// has none.
func ReadEntry(dir, id string) (*Entry, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("%q is not an entry id", id)
	}
	data, err := os.ReadFile(filepath.Join(dir, entryDir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseEntry(data)
}
