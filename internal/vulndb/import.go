package vulndb

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// maxEntrySize bounds one OSV entry; the largest in the Go database is a
// few tens of kilobytes.
const maxEntrySize = 4 << 20

// ImportOptions adjust Import.
type ImportOptions struct {
	// Modified dates the database. Zero: the newest "modified" time of
	// the entries, or, when no entry has one, Now.
	Modified time.Time
	// Now is the time of the import (for tests); zero means time.Now().
	Now time.Time
}

// ImportResult says what Import did.
type ImportResult struct {
	*Info
	// Skipped counts entries that affect no Go package (other ecosystems).
	Skipped int
	// DatedByImport is set when no entry had a modification time and no
	// date was given, so the database is dated by the import itself.
	DatedByImport bool
}

// Import reads the OSV entries in src (a directory searched recursively
// for *.json, a .zip or a .tar.gz) and writes a database to dest,
// replacing the one there. Every entry must be valid; the first that is
// not stops the import with its file named, and dest is left untouched.
func Import(ctx context.Context, src, dest string, opts ImportOptions) (*ImportResult, error) {
	set := newEntrySet()
	var err error
	fi, statErr := os.Stat(src)
	switch {
	case statErr != nil:
		return nil, fmt.Errorf("read OSV entries: %w", statErr)
	case fi.IsDir():
		err = readDir(ctx, src, set)
	case strings.HasSuffix(src, ".zip"):
		err = readZip(ctx, src, set)
	case strings.HasSuffix(src, ".tar.gz") || strings.HasSuffix(src, ".tgz"):
		err = readTarGz(ctx, src, set)
	default:
		return nil, fmt.Errorf("%s: want a directory of OSV JSON files, a .zip or a .tar.gz", src)
	}
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Skipped: set.dropOtherEcosystems()}
	if len(set.byID) == 0 {
		return nil, fmt.Errorf("%s holds no Go OSV entries", src)
	}
	modified := opts.Modified
	if modified.IsZero() {
		modified = set.newest()
	}
	if modified.IsZero() {
		modified = opts.Now
		if modified.IsZero() {
			modified = time.Now()
		}
		res.DatedByImport = true
	}
	if res.Info, err = set.write(dest, modified.UTC().Truncate(time.Second)); err != nil {
		return nil, err
	}
	return res, nil
}

// dropOtherEcosystems removes the entries with no Go package and counts them.
func (s *entrySet) dropOtherEcosystems() int {
	n := 0
	for id, r := range s.byID {
		goPkgs := r.entry.Affected[:0:0]
		for _, a := range r.entry.Affected {
			if a.Package.Ecosystem == "" || a.Package.Ecosystem == "Go" {
				goPkgs = append(goPkgs, a)
			}
		}
		if len(goPkgs) == 0 {
			delete(s.byID, id)
			n++
			continue
		}
		r.entry.Affected = goPkgs
	}
	return n
}

func isEntryName(name string) bool {
	base := path.Base(name)
	return strings.HasSuffix(base, ".json") && !strings.HasPrefix(base, ".")
}

func readDir(ctx context.Context, root string, set *entrySet) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !isEntryName(p) {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := readLimited(f, p)
		if err != nil {
			return err
		}
		return set.add(p, data)
	})
}

func readZip(ctx context.Context, name string, set *entrySet) error {
	z, err := zip.OpenReader(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer z.Close()
	for _, f := range z.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.FileInfo().IsDir() || !isEntryName(f.Name) {
			continue
		}
		from := name + ":" + f.Name
		if f.UncompressedSize64 > maxEntrySize {
			return fmt.Errorf("%s: larger than %d MiB", from, maxEntrySize>>20)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		data, err := readLimited(rc, from)
		rc.Close()
		if err != nil {
			return err
		}
		if err := set.add(from, data); err != nil {
			return err
		}
	}
	return nil
}

func readTarGz(ctx context.Context, name string, set *entrySet) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tr := tar.NewReader(gz)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if h.Typeflag != tar.TypeReg || !isEntryName(h.Name) {
			continue
		}
		from := name + ":" + h.Name
		data, err := readLimited(tr, from)
		if err != nil {
			return err
		}
		if err := set.add(from, data); err != nil {
			return err
		}
	}
}

// readLimited reads r whole, refusing more than maxEntrySize bytes.
func readLimited(r io.Reader, from string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxEntrySize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if len(data) > maxEntrySize {
		return nil, fmt.Errorf("%s: larger than %d MiB", from, maxEntrySize>>20)
	}
	return data, nil
}
