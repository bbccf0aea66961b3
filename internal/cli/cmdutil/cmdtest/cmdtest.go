// Package cmdtest is what the command groups' tests share: an Env over
// buffers, so that a test calls a command's run function directly and
// reads what it printed.
package cmdtest

import (
	"bytes"
	"errors"

	"hegui.dev/hegui/internal/cli/cmdutil"
)

// Env is an Env over buffers: standard input is stdin, the environment is
// vars (nil for an empty one), and there is no terminal to ask for a
// password.
func Env(stdin []byte, vars map[string]string) (env *cmdutil.Env, stdout, stderr *bytes.Buffer) {
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	env = &cmdutil.Env{
		Stdin:        bytes.NewReader(stdin),
		Stdout:       stdout,
		Stderr:       stderr,
		Getenv:       func(name string) string { return vars[name] },
		ReadPassword: func(string) ([]byte, error) { return nil, errors.New("no terminal in this test") },
	}
	return env, stdout, stderr
}
