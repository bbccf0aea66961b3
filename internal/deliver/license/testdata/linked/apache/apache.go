// Package apache is Apache-2.0-licensed, in two files.
package apache

// Name names the package.
const Name = "apache"
