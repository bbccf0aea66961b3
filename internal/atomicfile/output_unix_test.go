//go:build unix

package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// readFIFO makes a named pipe at path and reads everything written to it
// on another goroutine. The returned function waits for what was read; if
// nothing opened the pipe for writing by then, it unblocks the reader and
// fails the test.
func readFIFO(t *testing.T, path string) func() []byte {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(path) // waits for a writer
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		got <- data
	}()
	return func() []byte {
		t.Helper()
		select {
		case data := <-got:
			return data
		case <-time.After(10 * time.Second):
			t.Errorf("%s was never opened for writing", path)
			// Opening the pipe for reading and writing never blocks and
			// lets the reader's open return, unless the pipe was replaced.
			if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
				f.Close()
			}
			select {
			case data := <-got:
				return data
			case <-time.After(time.Second):
				return nil
			}
		}
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

// TestOutputToFIFO: a named pipe is written in place, with or without
// exclusive, and stays a named pipe; no temporary file is made beside it.
func TestOutputToFIFO(t *testing.T) {
	for _, exclusive := range []bool{false, true} {
		t.Run(fmt.Sprint("exclusive=", exclusive), func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "pipe")
			wait := readFIFO(t, fifo)
			if err := WriteOutput(fifo, []byte("result"), 0o644, exclusive); err != nil {
				t.Fatal(err)
			}
			if got := wait(); string(got) != "result" {
				t.Errorf("the reader got %q", got)
			}
			fi, err := os.Lstat(fifo)
			if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
				t.Fatalf("the pipe was replaced: %v, %v", fi.Mode(), err)
			}
			if names := entries(t, dir); !slices.Equal(names, []string{"pipe"}) {
				t.Errorf("directory holds %v", names)
			}
		})
	}
}

// TestOutputToDevNull: /dev/null is written in place and is still the
// same character device afterwards. It runs only when TestOutputToFIFO's
// decision (a pipe is written in place) holds, so that a regression cannot
// replace the machine's /dev/null.
func TestOutputToDevNull(t *testing.T) {
	dir := t.TempDir()
	wait := readFIFO(t, filepath.Join(dir, "pipe"))
	f, err := CreateOutput(filepath.Join(dir, "pipe"), 0o644, false)
	if err != nil {
		t.Fatal(err)
	}
	inPlace := f.InPlace()
	f.Commit()
	wait()
	if !inPlace {
		t.Fatal("a named pipe is not written in place; not trying /dev/null")
	}

	before, err := os.Stat("/dev/null")
	if err != nil || before.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is not a character device before the test: %v", err)
	}
	for _, exclusive := range []bool{false, true} {
		if err := WriteOutput("/dev/null", []byte("discarded"), 0o644, exclusive); err != nil {
			t.Errorf("exclusive=%v: %v", exclusive, err)
		}
	}
	after, err := os.Stat("/dev/null")
	if err != nil || after.Mode()&fs.ModeCharDevice == 0 || !os.SameFile(before, after) {
		t.Fatalf("/dev/null was replaced: now %v", after.Mode())
	}
}

// TestOutputThroughSymlink: an output path that is a symbolic link keeps
// the link and atomically replaces the regular file it leads to, also
// through a chain of relative links into another directory; a dangling link
// makes its target. With exclusive, a link is an existing file.
func TestOutputThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o755)
	target := filepath.Join(other, "target")
	os.WriteFile(target, []byte("old"), 0o644)
	os.Symlink(filepath.Join("other", "target"), filepath.Join(dir, "hop"))
	link := filepath.Join(dir, "link")
	os.Symlink("hop", link)
	oldTarget, _ := os.Stat(target)

	if err := WriteOutput(link, []byte("new"), 0o640, false); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, filepath.Join(dir, "hop")} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", l, err)
		}
	}
	data, _ := os.ReadFile(target)
	newTarget, _ := os.Stat(target)
	if string(data) != "new" || newTarget.Mode().Perm() != 0o640 {
		t.Errorf("target holds %q, mode %v", data, newTarget.Mode())
	}
	if os.SameFile(oldTarget, newTarget) {
		t.Error("the target was rewritten in place, not replaced")
	}
	if names := entries(t, other); !slices.Equal(names, []string{"target"}) {
		t.Errorf("the target's directory holds %v", names)
	}

	err := WriteOutput(link, []byte("refused"), 0o644, true)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("exclusive write through a link: err = %v, want fs.ErrExist", err)
	}
	if data, _ := os.ReadFile(target); string(data) != "new" {
		t.Errorf("exclusive write changed the target to %q", data)
	}

	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join("other", "made"), dangling)
	if err := WriteOutput(dangling, []byte("made"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(other, "made")); err != nil || string(data) != "made" {
		t.Errorf("dangling link's target: %q, %v", data, err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the dangling link was replaced: %v", err)
	}
}

// TestOutputToDescriptor: /dev/fd/N of an open regular file is appended to
// in place, as writing to the descriptor would, not replaced.
func TestOutputToDescriptor(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/dev/fd/N leads through /proc on Linux only")
	}
	path := filepath.Join(t.TempDir(), "stdout")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("earlier\n")
	before, _ := os.Stat(path)
	if err := WriteOutput(fmt.Sprintf("/dev/fd/%d", f.Fd()), []byte("result\n"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	data, _ := os.ReadFile(path)
	if string(data) != "earlier\nresult\n" || !os.SameFile(before, after) {
		t.Errorf("descriptor's file holds %q (same file: %v)", data, os.SameFile(before, after))
	}
}

// TestOutputRefusesOtherKinds: a directory and a socket are not outputs;
// nothing is made beside them.
func TestOutputRefusesOtherKinds(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, p := range []string{sub, sock} {
		if err := WriteOutput(p, []byte("x"), 0o644, false); err == nil {
			t.Errorf("%s: written", p)
		}
	}
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&fs.ModeSocket == 0 {
		t.Errorf("the socket was replaced: %v", err)
	}
	if names := entries(t, dir); !slices.Equal(names, []string{"sock", "sub"}) {
		t.Errorf("directory holds %v", names)
	}
}
