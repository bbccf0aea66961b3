// Package cli implements the hegui command line: one file per command group,
// each command an Options struct filled from flags and a run function that
// tests call through Run.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"hegui.dev/hegui/internal/human"
)

// Exit codes. Scripts may rely on them.
const (
	ExitOK      = 0 // everything asked for holds
	ExitFailure = 1 // a check failed, or an operation could not be done
	ExitUsage   = 2 // the command line was wrong
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

// infof prints an informational line on stderr unless --quiet was given.
// Results that scripts read go to stdout instead.
func (e *Env) infof(format string, args ...any) {
	if !e.Quiet {
		fmt.Fprintf(e.Stderr, format+"\n", args...)
	}
}

// Run runs hegui with args (without the program name) and returns the exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(env.Stderr, "hegui: "+human.OneLine(err.Error()))
	var u usageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitFailure
}

// usageError marks a command line mistake (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func newRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "hegui",
		Short: "Compliance deliveries for Go software, with national commercial cryptography",
		Long: `hegui (合规, "compliance") signs, verifies and attests Go software deliveries
with SM2/SM3/SM4 (and ECDSA P-256 and Ed25519), interoperable with OpenSSL 3.

Keys live in files, in a keyring with a lifecycle (ACTIVE, DEACTIVATED,
DESTROYED) or in PKCS#11 tokens. A key reference (--key) is one of:
  FILE                 a PEM or DER private key file
  keyring:NAME|ID      a key in the keyring (--keyring, $HEGUI_KEYRING)
  pkcs11:URI           a key in a PKCS#11 token (RFC 7512)`,
		Example: `  hegui key generate --alg sm2 --out release.key
  hegui sign --key release.key app.tar.gz
  hegui verify-blob --pub release.pub app.tar.gz`,
		Args:          cobra.NoArgs,
		RunE:          showHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if env.KeyringDir == "" {
				env.KeyringDir = defaultKeyringDir(env)
			}
			return nil
		},
	}
	root.PersistentFlags().BoolVarP(&env.Quiet, "quiet", "q", false, "print only results and errors")
	root.PersistentFlags().StringVar(&env.KeyringDir, "keyring", "", "keyring directory (default $HEGUI_KEYRING, else the user config directory's hegui/keyring)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	root.CompletionOptions.DisableDefaultCmd = true

	for _, add := range []func(*Env) *cobra.Command{
		newVersionCmd,
		newDeliverCmd,
		newVerifyCmd,
		newInitCmd,
		newSBOMCmd,
		newLicensesCmd,
		newVulnCmd,
		newVulnDBCmd,
		newVetCmd,
		newReportCmd,
		newKeyCmd,
		newSignCmd,
		newVerifyBlobCmd,
		newCertCmd,
		newDigestCmd,
		newMACCmd,
		newEncryptCmd,
		newDecryptCmd,
		newLogCmd,
	} {
		root.AddCommand(add(env))
	}
	wrapArgErrors(root)
	return root
}

// showHelp is the action of hegui and of command groups run without a
// subcommand; an unknown subcommand fails their NoArgs check instead.
func showHelp(cmd *cobra.Command, args []string) error { return cmd.Help() }

// wrapArgErrors makes positional-argument errors usage errors (exit 2).
func wrapArgErrors(cmd *cobra.Command) {
	if cmd.Args != nil {
		check := cmd.Args
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				if len(args) > 0 && c.HasSubCommands() {
					c.SuggestionsMinimumDistance = 2
					if near := c.SuggestionsFor(args[0]); len(near) > 0 {
						return usageError{fmt.Errorf("%w; did you mean %s? (see %s --help)", err, strings.Join(near, " or "), c.CommandPath())}
					}
				}
				return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		wrapArgErrors(sub)
	}
}

func defaultKeyringDir(env *Env) string {
	if dir := env.Getenv("HEGUI_KEYRING"); dir != "" {
		return dir
	}
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "hegui", "keyring")
	}
	return filepath.Join(".hegui", "keyring")
}
