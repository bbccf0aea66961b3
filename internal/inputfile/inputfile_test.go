//go:build unix

package inputfile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it has not returned in ten seconds:
// a read that should be refused at once must not wait.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still reading after 10 s", what)
	}
}

func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{fifo, "/dev/zero", dir} {
		within(t, name, func() {
			_, err := Read(context.Background(), name, KeyLimit)
			var nr *NotRegularError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Read(%s): err = %v, want a NotRegularError", name, err)
			}
			if _, _, err := Open(name); !errors.As(err, &nr) {
				t.Errorf("Open(%s): err = %v, want a NotRegularError", name, err)
			}
		})
	}
}

func TestReadLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, bytes.Repeat([]byte("x"), 100), 0o644)
	if data, err := Read(context.Background(), path, 100); err != nil || len(data) != 100 {
		t.Errorf("at the limit: %d bytes, %v", len(data), err)
	}
	_, err := Read(context.Background(), path, 99)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "larger than 99 bytes") {
		t.Errorf("over the limit: err = %v", err)
	}
}

// TestReadStreamDevice: a character device is read up to the limit and
// refused beyond it, never read without end.
func TestReadStreamDevice(t *testing.T) {
	within(t, "/dev/zero", func() {
		_, err := ReadStream(context.Background(), "/dev/zero", KeyLimit)
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Errorf("ReadStream(/dev/zero): err = %v, want a TooLargeError", err)
		}
	})
}

// TestReadStreamPipe: a named pipe is read to its end; a writer that never
// writes nor closes is given up on when the context ends.
func TestReadStreamPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	writer := func(data string, keepOpen bool) chan struct{} {
		release := make(chan struct{})
		go func() {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for the reader
			if err != nil {
				return
			}
			w.WriteString(data)
			if keepOpen {
				<-release
			}
			w.Close()
		}()
		return release
	}
	// A reader that finds no writer yet sees an empty pipe, so let the
	// writer wait for the reader first.
	writer("secret\n", false)
	time.Sleep(100 * time.Millisecond)
	within(t, "pipe", func() {
		data, err := ReadStream(context.Background(), fifo, KeyLimit)
		if err != nil || string(data) != "secret\n" {
			t.Errorf("ReadStream(pipe) = %q, %v", data, err)
		}
	})

	release := writer("", true)
	defer close(release)
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	within(t, "silent pipe", func() {
		_, err := ReadStream(ctx, fifo, KeyLimit)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ReadStream(silent pipe): err = %v, want the context's end", err)
		}
	})
}
