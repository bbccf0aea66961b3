// Package parse has a fuzz target.
package parse

import "strconv"

// Parse reads a number.
func Parse(s string) (int, error) { return strconv.Atoi(s) }
