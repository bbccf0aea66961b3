package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/keys"
)

// Where passwords come from, in order: a file named by a flag, an
// environment variable, the terminal. Never a flag value: those end up in
// shell history and process listings.
const (
	envKeyPassword    = "HEGUI_KEY_PASSWORD"
	envNewKeyPassword = "HEGUI_NEW_KEY_PASSWORD"
)

// passwordSource is one password a command needs: of the key it reads
// (--password-file, $HEGUI_KEY_PASSWORD) or of the key it writes
// (--new-password-file, $HEGUI_NEW_KEY_PASSWORD) when the two differ.
type passwordSource struct {
	env *Env
	// cmd is the command the flag belongs to: its context ends the read of
	// a password file that is a pipe nobody writes.
	cmd      *cobra.Command
	file     string
	envName  string
	prompt   string
	confirm  bool // ask twice when prompting (for new passwords)
	fallback *passwordSource
	cached   []byte
}

func addPasswordFlag(cmd *cobra.Command, env *Env, what string) *passwordSource {
	p := &passwordSource{env: env, cmd: cmd, envName: envKeyPassword, prompt: "Password for " + what + ": "}
	cmd.Flags().StringVar(&p.file, "password-file", "", "read the password of "+what+" from `FILE` (else $"+envKeyPassword+", else the terminal)")
	return p
}

func addNewPasswordFlag(cmd *cobra.Command, env *Env, what string, fallback *passwordSource) *passwordSource {
	p := &passwordSource{env: env, cmd: cmd, envName: envNewKeyPassword, prompt: "New password for " + what + ": ", confirm: true, fallback: fallback}
	help := "read the password of " + what + " from `FILE` (else $" + envNewKeyPassword + ", else the terminal)"
	if fallback != nil {
		help = "read a new password for " + what + " from `FILE` (else $" + envNewKeyPassword + ", else the same password)"
	}
	cmd.Flags().StringVar(&p.file, "new-password-file", "", help)
	return p
}

// get returns the password, asking only once per command.
func (p *passwordSource) get() ([]byte, error) {
	if p.cached != nil {
		return p.cached, nil
	}
	pw, err := p.read()
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, errors.New("empty password")
	}
	p.cached = pw
	return pw, nil
}

func (p *passwordSource) read() ([]byte, error) {
	if p.file != "" {
		// A password file may be a pipe (<(pass show release)) or
		// /dev/stdin, but never more than a key's worth of bytes.
		data, err := inputfile.ReadStream(p.context(), p.file, inputfile.KeyLimit)
		if err != nil {
			return nil, fmt.Errorf("read password file: %w", err)
		}
		return bytes.TrimRight(data, "\r\n"), nil
	}
	if v := p.env.Getenv(p.envName); v != "" {
		return []byte(v), nil
	}
	if p.fallback != nil {
		return p.fallback.get()
	}
	pw, err := p.env.ReadPassword(p.prompt)
	if err != nil {
		return nil, fmt.Errorf("%w: give --password-file or set $%s", err, p.envName)
	}
	if p.confirm {
		again, err := p.env.ReadPassword("Repeat the password: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pw, again) {
			return nil, errors.New("the passwords do not match")
		}
	}
	return pw, nil
}

// context is the running command's context. Sources made outside a flag
// definition have none and read without one.
func (p *passwordSource) context() context.Context {
	if p.cmd != nil && p.cmd.Context() != nil {
		return p.cmd.Context()
	}
	return context.Background()
}

// keysFunc adapts the source to keys.PasswordFunc, which is called only for
// encrypted keys.
func (p *passwordSource) keysFunc() keys.PasswordFunc { return p.get }
