// Package atomicfile writes files so that readers, and a crash, see either
// the old content or the new one, never a half-written file: data goes to a
// temporary file beside the target, which is synced and renamed into place
// only when complete.
//
// Atomic replacement is for regular files. A destination a user names
// (CreateOutput, WriteOutput) may be something else: a character device
// such as /dev/null, a named pipe, a symbolic link, the name of an open file
// descriptor such as /dev/stdout. Those are written the way a shell
// redirection writes them, and never replaced; see CreateOutput.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"hegui.dev/hegui/internal/inputfile"
)

// File is an output file being written. Commit publishes it; Abort (or a
// failed Commit) removes it. Abort after Commit does nothing, so
// `defer f.Abort()` is safe.
//
// A File that CreateOutput opened on a device or a pipe is written in
// place: Commit and Abort only close it, and what was written stays
// written.
type File struct {
	*os.File
	path      string
	exclusive bool
	inPlace   bool
	done      bool
}

// Create starts writing path with mode perm. If exclusive is set, Commit
// fails with an error satisfying errors.Is(err, fs.ErrExist) when path
// exists by then, and leaves the existing file alone.
func Create(path string, perm os.FileMode, exclusive bool) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return &File{File: tmp, path: path, exclusive: exclusive}, nil
}

// CreateOutput starts writing a result to path, a destination the user
// named (a -o FILE). What is at path decides how:
//
//   - Nothing, or a regular file: as Create, a temporary file that Commit
//     renames over path. With exclusive set, an existing file is refused
//     with an error satisfying errors.Is(err, fs.ErrExist).
//   - A symbolic link to a regular file, or to nothing yet: the file the
//     link finally names is replaced (or created) atomically, in its own
//     directory, and the link stays as it is. With exclusive set, the link
//     counts as an existing file.
//   - A character device (/dev/null, a terminal) or a named pipe: opened
//     for writing and written in place, as a shell redirection would; no
//     temporary file, no rename. Nothing is replaced, so exclusive does not
//     apply. Opening a named pipe waits for a reader.
//   - The name of an open file descriptor (/dev/stdout, /dev/fd/N, links
//     into /proc) that leads to a regular file: appended to in place, as
//     writing to the descriptor would, since its owner holds it open.
//   - Anything else (a directory, a socket, a block device): refused.
func CreateOutput(path string, perm os.FileMode, exclusive bool) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil && !fi.Mode().IsRegular() {
		if m := fi.Mode(); m&(fs.ModeNamedPipe|fs.ModeCharDevice) == 0 {
			return nil, &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("is %s; results go to regular files, character devices and named pipes", inputfile.Describe(m))}
		}
		return openInPlace(path, fi, 0)
	}
	target, viaDescriptor, err := followLinks(path)
	if err != nil {
		return nil, err
	}
	if viaDescriptor && fi != nil {
		return openInPlace(path, fi, os.O_APPEND)
	}
	if exclusive {
		if _, err := os.Lstat(path); err == nil {
			return nil, &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
	}
	return Create(target, perm, exclusive)
}

// followLinks follows path while it is a symbolic link and returns the
// name of the file it leads to, which may not exist yet. viaDescriptor
// reports a link found in /proc: the name of an open file descriptor.
func followLinks(path string) (target string, viaDescriptor bool, err error) {
	const maxLinks = 40 // as Linux's ELOOP limit
	for range maxLinks {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, viaDescriptor, nil
		}
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, viaDescriptor, nil
		}
		dir := filepath.Dir(path)
		if real, err := filepath.EvalSymlinks(dir); err == nil && (real == "/proc" || strings.HasPrefix(real, "/proc/")) {
			viaDescriptor = true
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		path = link
	}
	return "", false, &fs.PathError{Op: "write", Path: path, Err: errors.New("too many levels of symbolic links")}
}

// openInPlace opens the device, pipe or descriptor at path for writing and
// checks that it is still the file fi describes.
func openInPlace(path string, fi fs.FileInfo, flag int) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|flag, 0)
	if err != nil {
		return nil, err
	}
	got, err := f.Stat()
	if err == nil && !os.SameFile(got, fi) {
		err = &fs.PathError{Op: "write", Path: path, Err: errors.New("replaced by another file while it was being opened")}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{File: f, path: path, inPlace: true}, nil
}

// InPlace reports whether f is written in place (a device, a pipe, an open
// descriptor) rather than through a temporary file.
func (f *File) InPlace() bool { return f.inPlace }

// Commit syncs the data and moves it into place. For a File written in
// place it only closes it.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
	}
	if f.inPlace {
		f.done = true
		return f.Close()
	}
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if f.exclusive {
			err = os.Link(f.Name(), f.path)
			if errors.Is(err, fs.ErrExist) {
				err = fmt.Errorf("%s already exists: %w", f.path, fs.ErrExist)
			}
		} else {
			err = os.Rename(f.Name(), f.path)
		}
	}
	if err != nil {
		f.Abort()
		return err
	}
	f.done = true
	if f.exclusive {
		os.Remove(f.Name())
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort discards the data. A File written in place is only closed.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	if !f.inPlace {
		os.Remove(f.Name())
	}
}

// WriteFile writes data to path atomically, replacing any existing file.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

// WriteNew writes data to path atomically, failing if path exists (the
// error satisfies errors.Is(err, fs.ErrExist)).
func WriteNew(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, true)
}

// WriteOutput writes data to path, a destination the user named, as
// CreateOutput describes: a regular file atomically (with exclusive set,
// failing if it exists), a device or a pipe in place.
func WriteOutput(path string, data []byte, perm os.FileMode, exclusive bool) error {
	f, err := CreateOutput(path, perm, exclusive)
	if err != nil {
		return err
	}
	return writeAndCommit(f, data)
}

func write(path string, data []byte, perm os.FileMode, exclusive bool) error {
	f, err := Create(path, perm, exclusive)
	if err != nil {
		return err
	}
	return writeAndCommit(f, data)
}

func writeAndCommit(f *File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// SyncDir flushes a directory's entries, making a rename or removal in it
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
