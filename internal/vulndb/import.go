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

	"hegui.dev/hegui/internal/inputfile"
)

// Limits on what Import reads. The source is a file or directory someone
// handed over, and every entry it holds is kept in memory until the
// database is written, so each is bounded well above the Go database
// (about 4,300 entries, 8 MB unpacked, 1 MB as a .tar.gz) and well below
// what would hurt the machine. An archive that breaks one is refused
// before anything is written.
const (
	// maxEntrySize bounds one OSV entry; the largest in the Go database
	// is a few tens of kilobytes.
	maxEntrySize = 4 << 20
	// maxArchiveSize bounds a .zip or .tar.gz as stored.
	maxArchiveSize = 256 << 20
	// maxUnpackedSize bounds everything read from the source: the OSV
	// entries of a directory or .zip, and the whole unpacked stream of a
	// .tar.gz, the files skipped included.
	maxUnpackedSize = 256 << 20
	// maxSourceFiles bounds the files of an archive (any name) or the
	// OSV entry files of a directory.
	maxSourceFiles = 100_000
	// maxClockSkew is how far in the future a "modified" time may be: a
	// mirror's clock may be ahead of ours, but a date further ahead would
	// make the database look new for as long as the date lies ahead.
	maxClockSkew = 24 * time.Hour
)

// importLimits are the limits one import applies.
type importLimits struct {
	entry, archive, unpacked int64
	files                    int
}

func defaultImportLimits() importLimits {
	return importLimits{entry: maxEntrySize, archive: maxArchiveSize, unpacked: maxUnpackedSize, files: maxSourceFiles}
}

// ImportOptions adjust Import.
type ImportOptions struct {
	// Modified dates the database. Zero: the newest "modified" time of
	// the entries; when no entry has one, the database has no date and
	// its age is unknown.
	Modified time.Time
	// Now is the time of the import (for tests); zero means time.Now().
	// Dates more than a day after it are refused.
	Now time.Time

	// limits replaces the default limits (for tests).
	limits *importLimits
}

// ImportResult says what Import did.
type ImportResult struct {
	*Info
	// Skipped counts entries that affect no Go package (other ecosystems).
	Skipped int
	// Undated is set when no entry had a modification time and no date
	// was given: the database's age is unknown, and a delivery's policy
	// counts it as too old.
	Undated bool
}

// Import reads the OSV entries in src (a directory searched recursively
// for *.json, a .zip or a .tar.gz) and writes a database to dest,
// replacing the one there. Every entry must be valid and dated no later
// than a day after the import; the first that is not stops the import with
// its file named, and dest is left untouched. So does a source beyond the
// limits (too large, too many files, an archive that unpacks to too much)
// or one that is not a directory or a regular file.
func Import(ctx context.Context, src, dest string, opts ImportOptions) (*ImportResult, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opts.Modified.After(now.Add(maxClockSkew)) {
		return nil, fmt.Errorf("the date given for the database, %s, is in the future", opts.Modified.Format(time.RFC3339))
	}
	imp := &importer{ctx: ctx, set: newEntrySet(now), limits: defaultImportLimits()}
	if opts.limits != nil {
		imp.limits = *opts.limits
	}
	var err error
	fi, statErr := os.Stat(src)
	switch {
	case statErr != nil:
		return nil, fmt.Errorf("read OSV entries: %w", statErr)
	case fi.IsDir():
		err = imp.readDir(src)
	case strings.HasSuffix(src, ".zip"):
		err = imp.readZip(src)
	case strings.HasSuffix(src, ".tar.gz") || strings.HasSuffix(src, ".tgz"):
		err = imp.readTarGz(src)
	default:
		return nil, fmt.Errorf("%s: want a directory of OSV JSON files, a .zip or a .tar.gz", src)
	}
	if err != nil {
		return nil, err
	}
	set := imp.set
	res := &ImportResult{Skipped: set.dropOtherEcosystems()}
	if len(set.byID) == 0 {
		return nil, fmt.Errorf("%s holds no Go OSV entries", src)
	}
	modified := opts.Modified
	if modified.IsZero() {
		modified = set.newest()
	}
	res.Undated = modified.IsZero()
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

// importer reads one source into set, keeping count of what it has read
// against its limits.
type importer struct {
	ctx      context.Context
	set      *entrySet
	limits   importLimits
	files    int   // files counted against limits.files
	unpacked int64 // bytes counted against limits.unpacked
}

// countFile counts one more file of src.
func (imp *importer) countFile(src string) error {
	imp.files++
	if imp.files > imp.limits.files {
		return fmt.Errorf("%s holds more than %d files, the most hegui imports: import the Go entries only (osv.dev's Go/all.zip)", src, imp.limits.files)
	}
	return nil
}

// countBytes counts n more bytes read from src.
func (imp *importer) countBytes(src string, n int64) error {
	imp.unpacked += n
	if imp.unpacked > imp.limits.unpacked {
		return imp.tooMuch(src)
	}
	return nil
}

func (imp *importer) tooMuch(src string) error {
	return fmt.Errorf("%s unpacks to more than %s, the most hegui imports: import the Go entries only (osv.dev's Go/all.zip)", src, mib(imp.limits.unpacked))
}

func (imp *importer) entryTooLarge(from string) error {
	return fmt.Errorf("%s: larger than %s, the most hegui reads for one OSV entry", from, mib(imp.limits.entry))
}

// mib formats a limit for messages.
func mib(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// openArchive opens the archive file name: a regular file (a FIFO would
// block the import, a device would never end) of at most the archive limit.
func (imp *importer) openArchive(name string) (*os.File, int64, error) {
	f, fi, err := inputfile.Open(name)
	if err != nil {
		return nil, 0, fmt.Errorf("read OSV entries: %w", err)
	}
	if fi.Size() > imp.limits.archive {
		f.Close()
		return nil, 0, fmt.Errorf("%s is larger than %s, the most hegui imports: import the Go entries only (osv.dev's Go/all.zip)", name, mib(imp.limits.archive))
	}
	return f, fi.Size(), nil
}

// readEntry reads one entry from r, refusing more than the entry limit
// and stopping when the import is cancelled.
func (imp *importer) readEntry(r io.Reader, from string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(&ctxReader{ctx: imp.ctx, r: r}, imp.limits.entry+1))
	if err != nil {
		var tm *tooMuchError
		switch {
		case errors.As(err, &tm):
			return nil, tm.err
		case imp.ctx.Err() != nil:
			return nil, imp.ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if int64(len(data)) > imp.limits.entry {
		return nil, imp.entryTooLarge(from)
	}
	return data, nil
}

func (imp *importer) readDir(root string) error {
	dir, err := inputfile.OpenDir(root)
	if err != nil {
		return fmt.Errorf("read OSV entries: %w", err)
	}
	defer dir.Close()
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := imp.ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !isEntryName(p) {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		if err := imp.countFile(root); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		// Opened beneath root without following a symbolic link, so that
		// a link swapped in after the walk saw a file reaches nothing else.
		data, err := dir.Read(imp.ctx, filepath.ToSlash(rel), imp.limits.entry)
		var tl *inputfile.TooLargeError
		switch {
		case errors.As(err, &tl):
			return imp.entryTooLarge(p)
		case err != nil:
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := imp.countBytes(root, int64(len(data))); err != nil {
			return err
		}
		return imp.set.add(p, data)
	})
}

func (imp *importer) readZip(name string) error {
	f, size, err := imp.openArchive(name)
	if err != nil {
		return err
	}
	defer f.Close()
	z, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(z.File) > imp.limits.files {
		return fmt.Errorf("%s holds more than %d files, the most hegui imports: import the Go entries only (osv.dev's Go/all.zip)", name, imp.limits.files)
	}
	// The sizes the archive declares refuse a bomb before any of it is
	// unpacked; the reads below are bounded all the same, for an archive
	// that lies about them.
	var declared uint64
	for _, zf := range z.File {
		if zf.FileInfo().IsDir() || !isEntryName(zf.Name) {
			continue
		}
		if zf.UncompressedSize64 > uint64(imp.limits.entry) {
			return imp.entryTooLarge(name + ":" + zf.Name)
		}
		declared += zf.UncompressedSize64
		if declared > uint64(imp.limits.unpacked) {
			return imp.tooMuch(name)
		}
	}
	for _, zf := range z.File {
		if err := imp.ctx.Err(); err != nil {
			return err
		}
		if zf.FileInfo().IsDir() || !isEntryName(zf.Name) {
			continue
		}
		from := name + ":" + zf.Name
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		data, err := imp.readEntry(rc, from)
		rc.Close()
		if err != nil {
			return err
		}
		if err := imp.countBytes(name, int64(len(data))); err != nil {
			return err
		}
		if err := imp.set.add(from, data); err != nil {
			return err
		}
	}
	return nil
}

func (imp *importer) readTarGz(name string) error {
	f, _, err := imp.openArchive(name)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// Every byte gunzipped counts, the files skipped and the tar headers
	// included: a gigabyte of zeros in a file named README is a bomb too.
	tr := tar.NewReader(&ctxReader{ctx: imp.ctx, r: gz, count: func(n int) error { return imp.countBytesOf(name, n) }})
	for {
		if err := imp.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return imp.streamError(name, err)
		}
		if err := imp.countFile(name); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || !isEntryName(h.Name) {
			continue
		}
		from := name + ":" + h.Name
		if h.Size > imp.limits.entry {
			return imp.entryTooLarge(from)
		}
		data, err := imp.readEntry(tr, from)
		if err != nil {
			return err
		}
		if err := imp.set.add(from, data); err != nil {
			return err
		}
	}
}

// countBytesOf is countBytes for a stream, whose reads it sees as they
// happen; it returns a *tooMuchError so that the tar reader passes it on.
func (imp *importer) countBytesOf(src string, n int) error {
	if err := imp.countBytes(src, int64(n)); err != nil {
		return &tooMuchError{err}
	}
	return nil
}

// streamError reports an error from reading the archive name's stream:
// the limit or the cancellation as they are, anything else as a damaged
// archive.
func (imp *importer) streamError(name string, err error) error {
	var tm *tooMuchError
	switch {
	case errors.As(err, &tm):
		return tm.err
	case imp.ctx.Err() != nil:
		return imp.ctx.Err()
	}
	return fmt.Errorf("%s: %w", name, err)
}

// tooMuchError is a limit reached while a stream was read.
type tooMuchError struct{ err error }

func (e *tooMuchError) Error() string { return e.err.Error() }
func (e *tooMuchError) Unwrap() error { return e.err }

// ctxReader reads r until ctx is cancelled, passing the size of every read
// to count, if set, which can stop the reading with an error.
type ctxReader struct {
	ctx   context.Context
	r     io.Reader
	count func(int) error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if c.count != nil && n > 0 {
		if cerr := c.count(n); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}
