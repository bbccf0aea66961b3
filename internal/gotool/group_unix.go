//go:build unix

package gotool

import (
	"os/exec"
	"syscall"
)

// stopGroup starts cmd in a process group of its own and makes ending its
// context interrupt the whole group: the go command, and the test
// binaries and whatever they started, which a signal to the go command
// alone would leave running.
func stopGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
}

// killGroup kills what is left of cmd's process group after it has been
// waited for: processes a test started and did not stop. The group's id is
// not reused while any of its processes lives.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
