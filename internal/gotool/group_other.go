//go:build !unix

package gotool

import "os/exec"

// stopGroup leaves cmd to exec.CommandContext, which kills the go command
// alone when its context ends.
func stopGroup(cmd *exec.Cmd) {}

// killGroup has no process group to kill.
func killGroup(cmd *exec.Cmd) {}
