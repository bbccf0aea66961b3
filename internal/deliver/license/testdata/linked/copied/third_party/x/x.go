// Package x sits under a directory whose licence covers it.
package x

// Name names the package.
const Name = "x"
