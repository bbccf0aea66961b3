package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hegui.dev/hegui/internal/inputfile"
)

// restarter restarts the service after a switch: a command, or a signal
// to the process in a PID file. With a PID file it then waits until that
// process runs the binary of the release switched to.
type restarter struct {
	command string
	signal  syscall.Signal
	pidFile string
	// output receives the command's output.
	output io.Writer
}

func (c Config) restarter(root string, output io.Writer) (restarter, error) {
	r := restarter{command: c.Restart, output: output}
	if c.PIDFile != "" {
		r.pidFile = c.PIDFile
		if !filepath.IsAbs(r.pidFile) {
			r.pidFile = filepath.Join(root, r.pidFile)
		}
	}
	if c.Signal != "" {
		sig, err := ParseSignal(c.Signal)
		if err != nil {
			return r, err
		}
		r.signal = sig
	}
	return r, nil
}

// configured reports whether there is a way to restart the service.
func (r restarter) configured() bool { return r.command != "" || r.signal != 0 }

func (r restarter) String() string {
	switch {
	case r.command != "":
		return r.command
	case r.signal != 0:
		return fmt.Sprintf("%s to the process in %s", signalName(r.signal), r.pidFile)
	}
	return "nothing"
}

func signalName(s syscall.Signal) string {
	for name, sig := range signals {
		if sig == s {
			return "SIG" + name
		}
	}
	return s.String()
}

// restart restarts the service on release dir (version v) and, with a PID
// file, waits until the service's process runs a binary in dir. It gives
// up at ctx's deadline.
func (r restarter) restart(ctx context.Context, root, dir, v string) error {
	switch {
	case r.command != "":
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", r.command)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), releaseEnv(root, dir, v)...)
		cmd.Stdout, cmd.Stderr = r.output, r.output
		cmd.WaitDelay = 2 * time.Second
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("restart command %q did not finish in time: %v", r.command, ctx.Err())
			}
			return fmt.Errorf("restart command %q: %v", r.command, err)
		}
	case r.signal != 0:
		pid, err := readPID(r.pidFile)
		if err != nil {
			return err
		}
		if err := syscall.Kill(pid, r.signal); err != nil {
			return fmt.Errorf("send %s to process %d (from %s): %v", signalName(r.signal), pid, r.pidFile, err)
		}
	}
	if r.pidFile == "" {
		return nil
	}
	return r.waitRunning(ctx, dir)
}

// releaseEnv is what the restart command and health command are told.
func releaseEnv(root, dir, v string) []string {
	return []string{"HEGUI_RELEASE_ROOT=" + root, "HEGUI_RELEASE_DIR=" + dir, "HEGUI_RELEASE_VERSION=" + v}
}

// waitRunning waits until the process named by the PID file runs a
// binary inside dir: the kernel resolved current/ when it started the
// binary, so /proc/PID/exe names the release it runs.
func (r restarter) waitRunning(ctx context.Context, dir string) error {
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	want += string(filepath.Separator)
	var last error
	for {
		pid, err := readPID(r.pidFile)
		if err == nil {
			var exe string
			exe, err = os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			switch {
			case err != nil:
				err = fmt.Errorf("process %d (from %s) is not running", pid, r.pidFile)
			case !strings.HasPrefix(exe, want):
				err = fmt.Errorf("process %d (from %s) still runs %s", pid, r.pidFile, strings.TrimSuffix(exe, " (deleted)"))
			default:
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("the service did not start the new binary in time: %v", last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readPID reads a PID file: one positive decimal number.
func readPID(name string) (int, error) {
	data, err := inputfile.Read(context.Background(), name, 64)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("PID file %s does not exist: is the service running?", name)
		}
		return 0, fmt.Errorf("PID file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("PID file %s does not hold a process ID", name)
	}
	return pid, nil
}
