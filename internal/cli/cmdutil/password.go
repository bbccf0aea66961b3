package cmdutil

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
	EnvKeyPassword    = "HEGUI_KEY_PASSWORD"
	EnvNewKeyPassword = "HEGUI_NEW_KEY_PASSWORD"
)

// PasswordSource is one password a command needs: of the key it reads
// (--password-file, $HEGUI_KEY_PASSWORD) or of the key it writes
// (--new-password-file, $HEGUI_NEW_KEY_PASSWORD) when the two differ.
type PasswordSource struct {
	Env *Env
	// cmd is the command the flag belongs to: its context ends the read of
	// a password file that is a pipe nobody writes.
	Cmd      *cobra.Command
	File     string
	EnvName  string
	Prompt   string
	Confirm  bool // ask twice when prompting (for new passwords)
	Fallback *PasswordSource
	cached   []byte
}

// AddPasswordFlag adds --password-file for the key what names.
func AddPasswordFlag(cmd *cobra.Command, env *Env, what string) *PasswordSource {
	p := &PasswordSource{Env: env, Cmd: cmd, EnvName: EnvKeyPassword, Prompt: "Password for " + what + ": "}
	cmd.Flags().StringVar(&p.File, "password-file", "", "read the password of "+what+" from `FILE` (else $"+EnvKeyPassword+", else the terminal)")
	return p
}

// AddNewPasswordFlag adds --new-password-file for a key being written;
// without it, fallback's password is used when given.
func AddNewPasswordFlag(cmd *cobra.Command, env *Env, what string, fallback *PasswordSource) *PasswordSource {
	p := &PasswordSource{Env: env, Cmd: cmd, EnvName: EnvNewKeyPassword, Prompt: "New password for " + what + ": ", Confirm: true, Fallback: fallback}
	help := "read the password of " + what + " from `FILE` (else $" + EnvNewKeyPassword + ", else the terminal)"
	if fallback != nil {
		help = "read a new password for " + what + " from `FILE` (else $" + EnvNewKeyPassword + ", else the same password)"
	}
	cmd.Flags().StringVar(&p.File, "new-password-file", "", help)
	return p
}

// ErrNoPasswordSource is returned for an encrypted key where the command
// has no way to ask for its password (verify-blob given a private key).
var ErrNoPasswordSource = errors.New("the key is encrypted and this command takes no password: give its public key (.pub) instead")

// Get returns the password, asking only once per command. A nil source
// has no password to give.
func (p *PasswordSource) Get() ([]byte, error) {
	if p == nil {
		return nil, ErrNoPasswordSource
	}
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

func (p *PasswordSource) read() ([]byte, error) {
	if p.File != "" {
		// A password file may be a pipe (<(pass show release)) or
		// /dev/stdin, but never more than a key's worth of bytes.
		data, err := inputfile.ReadStream(p.Context(), p.File, inputfile.KeyLimit)
		if err != nil {
			return nil, fmt.Errorf("read password file: %w", err)
		}
		return bytes.TrimRight(data, "\r\n"), nil
	}
	if v := p.Env.Getenv(p.EnvName); v != "" {
		return []byte(v), nil
	}
	if p.Fallback != nil {
		return p.Fallback.Get()
	}
	if p.Env.ReadPassword == nil {
		return nil, fmt.Errorf("no terminal to ask for a password: give --password-file or set $%s", p.EnvName)
	}
	pw, err := p.Env.ReadPassword(p.Prompt)
	if err != nil {
		return nil, fmt.Errorf("%w: give --password-file or set $%s", err, p.EnvName)
	}
	if p.Confirm {
		again, err := p.Env.ReadPassword("Repeat the password: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pw, again) {
			return nil, errors.New("the passwords do not match")
		}
	}
	return pw, nil
}

// Context is the running command's context. Sources made outside a flag
// definition have none and read without one.
func (p *PasswordSource) Context() context.Context {
	if p.Cmd != nil && p.Cmd.Context() != nil {
		return p.Cmd.Context()
	}
	return context.Background()
}

// KeysFunc adapts the source to keys.PasswordFunc, which is called only for
// encrypted keys.
func (p *PasswordSource) KeysFunc() keys.PasswordFunc { return p.Get }
