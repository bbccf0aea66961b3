//go:build !unix

package inputfile

import "os"

// noFollowFlags is empty where the system has no O_NOFOLLOW; Dir.Open
// still refuses a symbolic link found by Lstat and compares the opened
// file with it.
const noFollowFlags = 0

func openNonblocking(name string) (*os.File, error) { return os.Open(name) }
