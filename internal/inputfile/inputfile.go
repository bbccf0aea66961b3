// Package inputfile reads the files hegui is handed, which it must not trust
// to be what their names say: a key, a password file, an SBOM a user names,
// or any file inside a delivery someone else made.
//
// Every read is bounded by a size limit suited to what the file is, refuses
// what is not a regular file (a FIFO would block the reader forever, a
// device such as /dev/zero would fill memory), and stops when its context is
// cancelled. Files inside a directory that came from elsewhere (a delivery)
// are opened through an os.Root, never following a symbolic link, so that
// nothing outside the directory can be reached through one.
//
// It is not for files hegui itself writes and reads back in the same run.
package inputfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"hegui.dev/hegui/internal/ctxio"
)

// Limits for the kinds of file hegui reads whole into memory. They are far
// above anything hegui writes and far below what could hurt the machine.
const (
	// KeyLimit bounds keys, certificates, certificate chains, password
	// files and other small PEM or text files.
	KeyLimit = 1 << 20
	// DocumentLimit bounds JSON and YAML documents: manifests, envelopes,
	// provenance, SBOMs, reports, vulnerability entries, configuration.
	DocumentLimit = 64 << 20
)

// TooLargeError reports a file over its size limit.
type TooLargeError struct {
	Name  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s, the most hegui reads for a file of its kind", e.Name, formatSize(e.Limit))
}

// NotRegularError reports a file that is not a regular file.
type NotRegularError struct {
	Name string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Name, Describe(e.Mode))
}

// Describe names a kind of file for messages: "a symbolic link", "a named
// pipe (FIFO)", "a directory", ...
func Describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	default:
		return "not a regular file"
	}
}

// Read reads the regular file at name (a symbolic link the user gave is
// followed), at most limit bytes. A FIFO, a device, a socket or a directory
// is refused without being opened for reading.
func Read(ctx context.Context, name string, limit int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Name: name, Mode: fi.Mode()}
	}
	f, err := openNonblocking(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkSame(f, fi, name); err != nil {
		return nil, err
	}
	return readLimited(ctx, f, name, limit, fi.Size())
}

// ReadStream is Read that also accepts a named pipe or a character device
// (a password given as <(pass show x), or /dev/stdin). Reading it stops at
// limit bytes and when ctx is cancelled, even if the writer never writes.
func ReadStream(ctx context.Context, name string, limit int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	m := fi.Mode()
	if m.IsRegular() {
		return Read(ctx, name, limit)
	}
	if m&fs.ModeNamedPipe == 0 && m&fs.ModeCharDevice == 0 {
		return nil, &NotRegularError{Name: name, Mode: m}
	}
	f, err := openNonblocking(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	data, err := readLimited(ctx, f, name, limit, -1)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("read %s: %w", name, ctx.Err())
	}
	return data, err
}

// Open opens the regular file at name for streaming (hashing, signing,
// encrypting a file of any size). A FIFO, a device, a socket or a
// directory is refused.
func Open(name string) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &NotRegularError{Name: name, Mode: fi.Mode()}
	}
	f, err := openNonblocking(name)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSame(f, fi, name); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// checkSame makes sure the file opened is the regular file that was
// checked, and not something swapped in between.
func checkSame(f *os.File, want fs.FileInfo, name string) error {
	got, err := f.Stat()
	if err != nil {
		return err
	}
	if !got.Mode().IsRegular() {
		return &NotRegularError{Name: name, Mode: got.Mode()}
	}
	if !os.SameFile(got, want) {
		return fmt.Errorf("%s was replaced while it was being opened", name)
	}
	return nil
}

func readLimited(ctx context.Context, f *os.File, name string, limit, size int64) ([]byte, error) {
	if size > limit {
		return nil, &TooLargeError{Name: name, Limit: limit}
	}
	var buf strings.Builder
	if size > 0 {
		buf.Grow(int(size))
	}
	w := &limitedWriter{w: &buf, left: limit}
	if _, err := ctxio.Copy(ctx, w, f); err != nil {
		if errors.Is(err, errOverLimit) {
			return nil, &TooLargeError{Name: name, Limit: limit}
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return []byte(buf.String()), nil
}

var errOverLimit = errors.New("over the limit")

type limitedWriter struct {
	w    io.Writer
	left int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, errOverLimit
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// Dir is a directory whose files came from elsewhere: every file is opened
// beneath it, without following symbolic links, and must be a regular file.
type Dir struct {
	root *os.Root
	name string
}

// OpenDir opens the directory at name.
func OpenDir(name string) (*Dir, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", name)
	}
	root, err := os.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	return &Dir{root: root, name: name}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Name is the directory's path as given to OpenDir.
func (d *Dir) Name() string { return d.name }

// CheckName refuses names that cannot be a file of the directory: empty,
// absolute, with "." or ".." elements, backslashes or control characters.
func CheckName(rel string) error {
	switch {
	case rel == "":
		return errors.New("empty file name")
	case strings.ContainsFunc(rel, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return fmt.Errorf("file name %q holds a control character or a backslash", rel)
	case path.IsAbs(rel) || !fs.ValidPath(rel):
		return fmt.Errorf("file name %q is not a clean relative path", rel)
	}
	return nil
}

// Lstat describes rel without following a symbolic link at any element of
// its path. A symbolic link on the way is reported as a NotRegularError.
func (d *Dir) Lstat(rel string) (fs.FileInfo, error) {
	if err := CheckName(rel); err != nil {
		return nil, err
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := d.root.Lstat(p)
		if err != nil {
			return nil, err
		}
		if i < len(parts)-1 && !fi.IsDir() {
			return nil, &NotRegularError{Name: p, Mode: fi.Mode()}
		}
		if i == len(parts)-1 {
			return fi, nil
		}
	}
	return nil, fs.ErrNotExist
}

// Open opens the regular file rel for streaming and returns it with its
// description.
func (d *Dir) Open(rel string) (*os.File, fs.FileInfo, error) {
	fi, err := d.Lstat(rel)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &NotRegularError{Name: rel, Mode: fi.Mode()}
	}
	f, err := d.root.OpenFile(rel, os.O_RDONLY|noFollowFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSame(f, fi, rel); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// Read reads the regular file rel, at most limit bytes.
func (d *Dir) Read(ctx context.Context, rel string, limit int64) ([]byte, error) {
	f, fi, err := d.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(ctx, f, rel, limit, fi.Size())
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
