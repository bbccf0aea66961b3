//go:build !unix

package gotool

func lowerPriority(int) {}
