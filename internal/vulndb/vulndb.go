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
//
// A database's age is what a delivery's policy holds it to, so the date is
// never invented: it is the newest "modified" time of the entries (or the
// mirror's, or the date given to the import), a date more than a day in
// the future is refused, and a database none of whose entries is dated has
// no date at all (index/db.json says "0001-01-01T00:00:00Z"): its age is
// unknown, and it counts as older than any limit.
package vulndb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"hegui.dev/hegui/internal/inputfile"
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
	// Modified is the database's modification time (index/db.json);
	// zero when it is not known (see AgeKnown).
	Modified time.Time `json:"modified,omitzero"`
	// Entries and Modules count the OSV entries and the modules indexed.
	Entries int `json:"entries"`
	Modules int `json:"modules"`
	// Digest is "sha256:HEX" over every file of the database (path and
	// content), so two databases with the same digest are the same.
	Digest string `json:"digest"`
}

// Age is how old the database is at t. A database of unknown age is
// older than any limit: its Age is the largest Duration.
func (i *Info) Age(t time.Time) time.Duration {
	if !i.AgeKnown() {
		return math.MaxInt64
	}
	return t.Sub(i.Modified)
}

// AgeKnown reports whether the database has a modification time. One
// built from entries that carry none, without a date given to the
// import, has not.
func (i *Info) AgeKnown() bool { return !i.Modified.IsZero() }

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
	if err := readJSON(filepath.Join(abs, dbFile), maxMetaSize, &meta); err != nil {
		return nil, err
	}
	info.Modified = meta.Modified
	var mods []moduleMeta
	if err := readJSON(filepath.Join(abs, modulesFile), maxIndexSize, &mods); err != nil {
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

// readJSON decodes the file at path, of at most limit bytes. The database
// directory is one a user names, so its files are read as untrusted: a
// FIFO or an oversized file in it is refused, not waited for or loaded.
// The files are regular and bounded, so the read needs no cancelling.
func readJSON(path string, limit int64, v any) error {
	data, err := inputfile.Read(context.Background(), path, limit)
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
		sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		lines = append(lines, rel+" "+sum+"\n")
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

// fileSHA256 is the hex SHA-256 of the regular file at p, read as a
// stream: the digest covers files of any size without holding them.
func fileSHA256(p string) (string, error) {
	f, _, err := inputfile.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadEntry returns the OSV entry id of the database in dir, or nil if it
// has none.
func ReadEntry(dir, id string) (*Entry, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("%q is not an entry id", id)
	}
	data, err := inputfile.Read(context.Background(), filepath.Join(dir, entryDir, id+".json"), maxEntrySize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseEntry(data)
}

// ReadModuleIndex reads the database's index of modules: for each module
// path, the IDs of the entries that affect some version of it.
func ReadModuleIndex(dir string) (map[string][]string, error) {
	var mods []moduleMeta
	if err := readJSON(filepath.Join(dir, modulesFile), maxIndexSize, &mods); err != nil {
		return nil, err
	}
	index := make(map[string][]string, len(mods))
	for _, m := range mods {
		for _, v := range m.Vulns {
			index[m.Path] = append(index[m.Path], v.ID)
		}
	}
	return index, nil
}
