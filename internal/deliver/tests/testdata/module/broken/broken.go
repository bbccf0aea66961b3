// Package broken has a bug its test finds.
package broken

// Double doubles x, or should.
func Double(x int) int { return x * 3 }
