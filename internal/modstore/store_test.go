package modstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testStore checks the Store contract on s, an empty store. Every backend
// runs it, so that the proxy can not tell them apart.
func testStore(t *testing.T, s Store) {
	defer testDirectoryKeys(t, s)
	ctx := t.Context()
	moduleKey, err := ModuleKey("github.com/Azure/x", "v1.0.0-rc.1+incompatible", Zip)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("create", func(t *testing.T) {
		for _, key := range []string{"create/a", moduleKey, "sumdb/sum.golang.org/lookup/golang.org/x/mod@v0.42.0"} {
			if err := s.Create(ctx, key, strings.NewReader("first "+key)); err != nil {
				t.Fatalf("Create(%q): %v", key, err)
			}
			checkContent(t, s, key, "first "+key)
			err := s.Create(ctx, key, strings.NewReader("second"))
			if !errors.Is(err, ErrExist) {
				t.Errorf("Create(%q) again: %v, want ErrExist", key, err)
			}
			checkContent(t, s, key, "first "+key)
		}
	})
	t.Run("empty object", func(t *testing.T) {
		if err := s.Create(ctx, "empty/a", strings.NewReader("")); err != nil {
			t.Fatal(err)
		}
		checkContent(t, s, "empty/a", "")
		if err := s.Create(ctx, "empty/a", strings.NewReader("x")); !errors.Is(err, ErrExist) {
			t.Errorf("Create over an empty object: %v, want ErrExist", err)
		}
	})
	t.Run("replace", func(t *testing.T) {
		if err := s.Replace(ctx, "replace/latest", strings.NewReader("tree 1")); err != nil {
			t.Fatalf("Replace of a new key: %v", err)
		}
		checkContent(t, s, "replace/latest", "tree 1")
		if err := s.Replace(ctx, "replace/latest", strings.NewReader("tree 22")); err != nil {
			t.Fatalf("Replace: %v", err)
		}
		checkContent(t, s, "replace/latest", "tree 22")
	})
	t.Run("open missing", func(t *testing.T) {
		for _, key := range []string{"missing/a", "missing"} {
			if obj, err := s.Open(ctx, key); !errors.Is(err, ErrNotExist) {
				if err == nil {
					obj.Close()
				}
				t.Errorf("Open(%q): %v, want ErrNotExist", key, err)
			}
		}
	})
	t.Run("invalid keys", func(t *testing.T) {
		for _, key := range []string{"", "/a", "a/", "a//b", "../a", "a/../b", "a/./b", ".", "a\\b", "a\x00b"} {
			if err := s.Create(ctx, key, strings.NewReader("x")); err == nil || errors.Is(err, ErrExist) {
				t.Errorf("Create(%q): %v, want an invalid key error", key, err)
			}
			if err := s.Replace(ctx, key, strings.NewReader("x")); err == nil {
				t.Errorf("Replace(%q) succeeded", key)
			}
			if obj, err := s.Open(ctx, key); err == nil || errors.Is(err, ErrNotExist) {
				if err == nil {
					obj.Close()
				}
				t.Errorf("Open(%q): %v, want an invalid key error", key, err)
			}
			if err := s.Delete(ctx, key); err == nil || errors.Is(err, ErrNotExist) {
				t.Errorf("Delete(%q): %v, want an invalid key error", key, err)
			}
		}
	})
	t.Run("list", func(t *testing.T) {
		for _, key := range []string{"list/m/@v/v1.0.0.zip", "list/m/@v/v1.0.0.zip.rec", "list/m/@v/v1.1.0.mod", "list/m/@v/sub/v2.0.0.zip", "list/m/@v2/v2.0.0.zip"} {
			if err := s.Create(ctx, key, strings.NewReader(key)); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"list/m/@v/", []string{"v1.0.0.zip", "v1.0.0.zip.rec", "v1.1.0.mod"}},
			{"list/m/@v/sub/", []string{"v2.0.0.zip"}},
			{"list/m/", nil},
			{"list/nothing/", nil},
		} {
			got, err := s.List(ctx, tc.prefix)
			if err != nil {
				t.Errorf("List(%q): %v", tc.prefix, err)
				continue
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		}
		if _, err := s.List(ctx, ""); err != nil {
			t.Errorf("List(\"\"): %v", err)
		}
		for _, prefix := range []string{"list/m/@v", "/", "list//", "../"} {
			if got, err := s.List(ctx, prefix); err == nil {
				t.Errorf("List(%q) = %q, want an error", prefix, got)
			}
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"list/", []string{"m/@v/sub/v2.0.0.zip", "m/@v/v1.0.0.zip", "m/@v/v1.0.0.zip.rec", "m/@v/v1.1.0.mod", "m/@v2/v2.0.0.zip"}},
			{"list/m/@v/sub/", []string{"v2.0.0.zip"}},
			{"list/nothing/", nil},
		} {
			got, err := s.ListAll(ctx, tc.prefix)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ListAll(%q) = %q, %v, want %q", tc.prefix, got, err, tc.want)
			}
		}
		for _, prefix := range []string{"", "list", "../", "list//"} {
			if got, err := s.ListAll(ctx, prefix); err == nil {
				t.Errorf("ListAll(%q) = %q, want an error", prefix, got)
			}
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := s.Create(ctx, "delete/a", strings.NewReader("a")); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "delete/a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Open(ctx, "delete/a"); !errors.Is(err, ErrNotExist) {
			t.Errorf("Open after Delete: %v, want ErrNotExist", err)
		}
		if names, err := s.List(ctx, "delete/"); err != nil || len(names) != 0 {
			t.Errorf("List after Delete = %q, %v", names, err)
		}
		if err := s.Delete(ctx, "delete/a"); !errors.Is(err, ErrNotExist) {
			t.Errorf("Delete again: %v, want ErrNotExist", err)
		}
		if err := s.Create(ctx, "delete/a", strings.NewReader("again")); err != nil {
			t.Errorf("Create after Delete: %v", err)
		}
		checkContent(t, s, "delete/a", "again")
	})
	t.Run("read all", func(t *testing.T) {
		if err := s.Create(ctx, "readall/a", strings.NewReader("0123456789")); err != nil {
			t.Fatal(err)
		}
		if data, err := ReadAll(ctx, s, "readall/a", 10); err != nil || string(data) != "0123456789" {
			t.Errorf("ReadAll with max the size = %q, %v", data, err)
		}
		_, err := ReadAll(ctx, s, "readall/a", 9)
		var tooLarge *TooLargeError
		if !errors.As(err, &tooLarge) || tooLarge.Key != "readall/a" || tooLarge.Size != 10 || tooLarge.Max != 9 {
			t.Errorf("ReadAll with max below the size: %v, want a TooLargeError of size 10", err)
		}
		if _, err := ReadAll(ctx, s, "readall/missing", 10); !errors.Is(err, ErrNotExist) {
			t.Errorf("ReadAll of a missing key: %v, want ErrNotExist", err)
		}
	})
	t.Run("cancelled create", func(t *testing.T) {
		for _, write := range []struct {
			name string
			f    func(context.Context, string, io.Reader) error
		}{{"Create", s.Create}, {"Replace", s.Replace}} {
			key := "cancel/" + write.name
			cctx, cancel := context.WithCancel(ctx)
			r := &cancellingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20)), after: 1, cancel: cancel}
			err := write.f(cctx, key, r)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s cancelled while reading: %v, want context.Canceled", write.name, err)
			}
			if obj, err := s.Open(ctx, key); !errors.Is(err, ErrNotExist) {
				if err == nil {
					obj.Close()
				}
				t.Errorf("Open after a cancelled %s: %v, want ErrNotExist", write.name, err)
			}
			if err := write.f(cctx, key, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: %v, want context.Canceled", write.name, err)
			}
			if names, err := s.List(ctx, "cancel/"); err != nil || len(names) != 0 {
				t.Errorf("List after a cancelled %s = %q, %v", write.name, names, err)
			}
		}
	})
	t.Run("concurrent create", func(t *testing.T) {
		const writers = 16
		const key = "concurrent/a"
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [writers]error
		)
		for i := range writers {
			wg.Go(func() {
				<-start
				errs[i] = s.Create(ctx, key, strings.NewReader(fmt.Sprintf("writer %d", i)))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("writers %d and %d both created %s", winner, i, key)
			case err == nil:
				winner = i
			case !errors.Is(err, ErrExist):
				t.Errorf("writer %d: %v, want nil or ErrExist", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no writer created the key")
		}
		checkContent(t, s, key, fmt.Sprintf("writer %d", winner))
	})
	t.Run("string", func(t *testing.T) {
		if s.String() == "" {
			t.Error("String() is empty")
		}
	})
}

// checkContent checks that key holds want, read through Open.
func checkContent(t *testing.T, s Store, key, want string) {
	t.Helper()
	obj, err := s.Open(t.Context(), key)
	if err != nil {
		t.Errorf("Open(%q): %v", key, err)
		return
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Errorf("read %q: %v", key, err)
	}
	if string(data) != want || obj.Size() != int64(len(want)) {
		t.Errorf("%q holds %q (size %d), want %q", key, data, obj.Size(), want)
	}
}

// cancellingReader cancels its context once it has returned after bytes,
// as a client that goes away in the middle of an upload. It returns at most
// 64 KiB a read, so the cancellation is noticed before the end.
type cancellingReader struct {
	r      io.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.read >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), 64<<10)])
	c.read += int64(n)
	return n, err
}

func TestDirStore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, d)
	if want := "directory " + root; d.String() != want {
		t.Errorf("String() = %q, want %q", d.String(), want)
	}

	// A crash leaves temporary files beside their final names; List leaves
	// them out, and so does it anything that is not a regular file.
	dir := filepath.Join(root, "hidden")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".v1.0.0.zip.tmp-123", "v1.0.0.zip"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("v1.0.0.zip", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if names, err := d.List(t.Context(), "hidden/"); err != nil || !slices.Equal(names, []string{"v1.0.0.zip"}) {
		t.Errorf("List with a temporary file, a directory and a link = %q, %v, want [v1.0.0.zip]", names, err)
	}

	// Cancelled and refused writes leave no temporary file behind.
	err = filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err == nil && strings.Contains(e.Name(), ".tmp-") && filepath.Dir(path) != dir {
			t.Errorf("temporary file left behind: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testDirectoryKeys checks, after testStore stored "create/a", that a key
// naming a "directory", or having an object's key as a prefix, holds
// nothing, in every backend; so does Delete of such a key, and a hidden
// key is refused.
func testDirectoryKeys(t *testing.T, s Store) {
	ctx := context.Background()
	for _, key := range []string{"create", "create/a/b"} {
		if obj, err := s.Open(ctx, key); !errors.Is(err, ErrNotExist) {
			if err == nil {
				obj.Close()
			}
			t.Errorf("Open(%q): %v, want ErrNotExist", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, ErrNotExist) {
			t.Errorf("Delete(%q): %v, want ErrNotExist", key, err)
		}
	}
	if names, err := s.List(ctx, "create/a/"); err != nil || len(names) != 0 {
		t.Errorf("List under an object = %q, %v", names, err)
	}
	if err := s.Create(ctx, "a/.hidden", strings.NewReader("x")); err == nil {
		t.Errorf("Create of a hidden key succeeded")
	}
}

// TestDirRemoveStale removes the temporary files of interrupted writes
// once they are old, and nothing else.
func TestDirRemoveStale(t *testing.T) {
	root := t.TempDir()
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := d.Create(ctx, "modules/m/@v/v1.0.0.zip", strings.NewReader("zip")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "modules", "m", "@v")
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{".v1.1.0.zip.tmp-123", ".v1.2.0.zip.tmp-456", "v1.0.0.zip"} {
		p := filepath.Join(dir, name)
		if name != "v1.0.0.zip" {
			os.WriteFile(p, []byte("partial"), 0o644)
		}
		if name != ".v1.2.0.zip.tmp-456" {
			os.Chtimes(p, old, old)
		}
	}
	n, err := d.RemoveStale(ctx, 20*time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("RemoveStale = %d, %v, want 1", n, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{".v1.2.0.zip.tmp-456", "v1.0.0.zip"}) {
		t.Errorf("left %q, want the young temporary file and the object", names)
	}
}
