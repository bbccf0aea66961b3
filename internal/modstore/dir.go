package modstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"hegui.dev/hegui/internal/atomicfile"
)

// Dir is a Store in a local directory: each key is a file under the root,
// written beside its final name and renamed into place when complete.
type Dir struct {
	root string
}

// NewDir returns the store rooted at dir, creating the directory.
func NewDir(dir string) (*Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	return &Dir{root: abs}, nil
}

// String implements Store.
func (d *Dir) String() string { return "directory " + d.root }

// Root is the directory the store keeps its files in.
func (d *Dir) Root() string { return d.root }

// path maps a key to its file, refusing keys that would leave the root.
func (d *Dir) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

type fileObject struct {
	*os.File
	size int64
}

func (f fileObject) Size() int64 { return f.size }

// Open implements Store.
func (d *Dir) Open(_ context.Context, key string) (Object, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if isNotExist(err) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: stored object is not a regular file", key)
	}
	return fileObject{f, fi.Size()}, nil
}

// Create implements Store.
func (d *Dir) Create(ctx context.Context, key string, r io.Reader) error {
	return d.write(ctx, key, r, true)
}

// Replace implements Store.
func (d *Dir) Replace(ctx context.Context, key string, r io.Reader) error {
	return d.write(ctx, key, r, false)
}

func (d *Dir) write(ctx context.Context, key string, r io.Reader, exclusive bool) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if exclusive {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s: %w", key, ErrExist)
		}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := atomicfile.Create(p, 0o644, exclusive)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", key, ErrExist)
		}
		return err
	}
	return nil
}

// RemoveStale removes the temporary files that writes interrupted by a
// crash left in the directory (".NAME.tmp-N", hidden from every read),
// once they are older than age: a write in progress is younger. It returns
// how many it removed.
func (d *Dir) RemoveStale(ctx context.Context, age time.Duration) (int, error) {
	removed := 0
	cutoff := time.Now().Add(-age)
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, ".") || !strings.Contains(name, ".tmp-") {
			return nil
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			if err := os.Remove(p); err == nil {
				removed++
			}
		}
		return nil
	})
	return removed, err
}

// List implements Store. Hidden names (temporary files) are left out.
func (d *Dir) List(_ context.Context, prefix string) ([]string, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("store prefix %q does not end in /", prefix)
	}
	dir := d.root
	if prefix != "" {
		p, err := d.path(strings.TrimSuffix(prefix, "/"))
		if err != nil {
			return nil, err
		}
		dir = p
	}
	entries, err := os.ReadDir(dir)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// ListAll implements Store.
func (d *Dir) ListAll(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" || !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("store prefix %q does not end in /", prefix)
	}
	dir, err := d.path(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return nil, err
	}
	var keys []string
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && isNotExist(err) {
				return fs.SkipAll
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.HasPrefix(e.Name(), ".") && p != dir {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete implements Store.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(p); isNotExist(err) || (err == nil && !fi.Mode().IsRegular()) {
		return fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	err = os.Remove(p)
	if isNotExist(err) {
		return fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	return err
}

// isNotExist reports an error that means the key holds nothing: the file
// is missing, or an element of its path is a file (ENOTDIR).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
