// Package snapref stands for code copied with its own licence.
package snapref

// Name names the package.
const Name = "snapref"
