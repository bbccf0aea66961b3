//go:build unix

package gotool

import "syscall"

// lowerPriority gives a process the lowest scheduling priority (nice 19).
// It is best effort: a failure only means the process competes normally.
func lowerPriority(pid int) { _ = syscall.Setpriority(syscall.PRIO_PROCESS, pid, 19) }
