// Package atomicfile writes files so that readers, and a crash, see either
// the old content or the new one, never a half-written file: data goes to a
// temporary file beside the target, which is synced and renamed into place
// only when complete.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an output file being written. Commit publishes it; Abort (or a
// failed Commit) removes it. Abort after Commit does nothing, so
// `defer f.Abort()` is safe.
type File struct {
	*os.File
	path      string
	exclusive bool
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

// Commit syncs the data and moves it into place.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
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

// Abort discards the data.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
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

func write(path string, data []byte, perm os.FileMode, exclusive bool) error {
	f, err := Create(path, perm, exclusive)
	if err != nil {
		return err
	}
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
