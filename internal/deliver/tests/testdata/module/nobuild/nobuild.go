// Package nobuild has a test that does not compile.
package nobuild

// One is one.
func One() int { return 1 }
