// Package copied is MIT-licensed and links code copied from elsewhere: a
// file from the Go project (go.LICENSE), a package with its own licence
// (internal/snapref) and one under a licensed directory (third_party/x).
package copied

import (
	"example.com/copied/internal/snapref"
	"example.com/copied/third_party/x"
)

// Name names the package and what it links.
const Name = "copied " + snapref.Name + " " + x.Name
