// Package cmdutil is what every command group shares: the Env a command
// touches the world through, usage errors (exit 2), output to stdout or
// -o FILE, inputs with progress, password sources, key references, and the
// module and certificate helpers several groups need.
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Env is what a command may touch of the world outside: streams, the
// environment and the terminal. Run fills it from the process; tests fill it
// themselves.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(string) string
	// Environ lists the whole environment, for commands that run programs
	// as the user's shell would (hegui kit doctor); nil means the
	// process's.
	Environ func() []string
	// StderrIsTerminal enables progress bars.
	StderrIsTerminal bool
	// ReadPassword reads a secret from the user's terminal after showing
	// prompt; it fails when there is no terminal.
	ReadPassword func(prompt string) ([]byte, error)
	// Quiet suppresses informational output (set by --quiet).
	Quiet bool
	// KeyringDir is the keyring directory (set by --keyring).
	KeyringDir string
}

// ProcessEnv is the Env of the running process.
func ProcessEnv() *Env {
	return &Env{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		Environ:          os.Environ,
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		ReadPassword:     readTerminalPassword,
	}
}

// readTerminalPassword prompts on the controlling terminal, so that a
// password is never read from a pipe by accident.
func readTerminalPassword(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errors.New("no terminal to ask for a password")
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	pw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	return pw, err
}

// Infof prints an informational line on stderr unless --quiet was given.
// Results that scripts read go to stdout instead.
func (e *Env) Infof(format string, args ...any) {
	if !e.Quiet {
		fmt.Fprintf(e.Stderr, format+"\n", args...)
	}
}

// UsageError marks a command line mistake (exit code 2).
type UsageError struct{ Err error }

func (u UsageError) Error() string { return u.Err.Error() }
func (u UsageError) Unwrap() error { return u.Err }

// Usagef is a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return UsageError{Err: fmt.Errorf(format, args...)}
}

// ShowHelp is the action of hegui and of command groups run without a
// subcommand; an unknown subcommand fails their NoArgs check instead.
func ShowHelp(cmd *cobra.Command, args []string) error { return cmd.Help() }

// OneOf reports whether s is one of allowed.
func OneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

// EnvLogToken holds the bearer token of the audit log commands append to.
const EnvLogToken = "HEGUI_LOG_TOKEN"
