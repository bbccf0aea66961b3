package logserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// LockFile is the file in a log home that a running server holds an
// exclusive flock(2) on, when its storage driver allows one server at a
// time. The lock goes with the process: a server that is killed holds it
// no longer.
const LockFile = "serve.lock"

// ErrHomeInUse is the error of New while another server runs on the same
// log home.
var ErrHomeInUse = errors.New("another `hegui log serve` is running on it")

// lockHome takes the lock of the log home dir without waiting. Two
// Tessera POSIX appenders on one directory corrupt each other's view of
// the tree, so the second one must not start at all.
func lockHome(dir string) (*os.File, error) {
	name := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock log home %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("log home %s is in use: %w (it holds the lock on %s); stop that server first", dir, ErrHomeInUse, name)
		}
		return nil, fmt.Errorf("lock log home %s: flock %s: %w", dir, name, err)
	}
	return f, nil
}
