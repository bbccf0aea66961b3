//go:build unix

package inputfile

import (
	"os"
	"syscall"
)

// noFollowFlags make the last element's open fail if it is a symbolic
// link, and keep a FIFO swapped in after the check from blocking the open.
const noFollowFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// openNonblocking opens name for reading without blocking on a FIFO that
// has no writer yet; reads of a regular file are unaffected.
func openNonblocking(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
