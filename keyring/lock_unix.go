//go:build unix

package keyring

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lock creates the keyring directory if needed and takes an exclusive
// lock on it, waiting for other hegui processes to finish their changes.
// The returned function releases it.
func (r *Keyring) lock() (func(), error) {
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keyring: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(r.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock keyring: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock keyring: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
