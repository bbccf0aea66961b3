// Package cli builds the hegui command line (Run) from one package per
// command group — certcmd, cryptocmd, delivercmd, keycmd, logcmd, scancmd,
// signcmd — over the shared cmdutil. A group's commands parse flags and
// call the packages that do the work; the work itself (building, scanning,
// serving, verifying) lives in those packages. Its tests run the whole
// command line, as a user would. A new group (proxy, kit, release, pii) is
// a new package and a line in newRootCmd.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"hegui.dev/hegui/internal/cli/certcmd"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/cli/cryptocmd"
	"hegui.dev/hegui/internal/cli/delivercmd"
	"hegui.dev/hegui/internal/cli/keycmd"
	"hegui.dev/hegui/internal/cli/kitcmd"
	"hegui.dev/hegui/internal/cli/logcmd"
	"hegui.dev/hegui/internal/cli/modcmd"
	"hegui.dev/hegui/internal/cli/piicmd"
	"hegui.dev/hegui/internal/cli/proxycmd"
	"hegui.dev/hegui/internal/cli/releasecmd"
	"hegui.dev/hegui/internal/cli/scancmd"
	"hegui.dev/hegui/internal/cli/signcmd"
	"hegui.dev/hegui/internal/cli/tlscheckcmd"
	"hegui.dev/hegui/internal/human"
)

// Exit codes. Scripts may rely on them.
const (
	ExitOK      = 0 // everything asked for holds
	ExitFailure = 1 // a check failed, or an operation could not be done
	ExitUsage   = 2 // the command line was wrong
)

// Run runs hegui with args (without the program name) and returns the exit code.
func Run(ctx context.Context, env *cmdutil.Env, args []string) int {
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
	var u cmdutil.UsageError
	if errors.As(err, &u) {
		return ExitUsage
	}
	return ExitFailure
}

func newRootCmd(env *cmdutil.Env) *cobra.Command {
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
		RunE:          cmdutil.ShowHelp,
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
		return cmdutil.UsageError{Err: fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	root.CompletionOptions.DisableDefaultCmd = true

	for _, add := range []func(*cmdutil.Env) *cobra.Command{
		newVersionCmd,
		delivercmd.NewDeliverCmd,
		delivercmd.NewVerifyCmd,
		delivercmd.NewInitCmd,
		scancmd.NewSBOMCmd,
		scancmd.NewLicensesCmd,
		scancmd.NewVulnCmd,
		scancmd.NewVulnDBCmd,
		scancmd.NewRescanCmd,
		scancmd.NewVetCmd,
		delivercmd.NewReportCmd,
		keycmd.NewKeyCmd,
		signcmd.NewSignCmd,
		signcmd.NewVerifyBlobCmd,
		certcmd.NewCertCmd,
		cryptocmd.NewDigestCmd,
		cryptocmd.NewMACCmd,
		cryptocmd.NewEncryptCmd,
		cryptocmd.NewDecryptCmd,
		logcmd.NewLogCmd,
		proxycmd.NewProxyCmd,
		modcmd.NewModCmd,
		kitcmd.NewKitCmd,
		piicmd.NewPIICmd,
		releasecmd.NewReleaseCmd,
		tlscheckcmd.NewTLSCheckCmd,
	} {
		root.AddCommand(add(env))
	}
	wrapArgErrors(root)
	return root
}

// wrapArgErrors makes positional-argument errors usage errors (exit 2).
func wrapArgErrors(cmd *cobra.Command) {
	if cmd.Args != nil {
		check := cmd.Args
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				if len(args) > 0 && c.HasSubCommands() {
					c.SuggestionsMinimumDistance = 2
					if near := c.SuggestionsFor(args[0]); len(near) > 0 {
						return cmdutil.UsageError{Err: fmt.Errorf("%w; did you mean %s? (see %s --help)", err, strings.Join(near, " or "), c.CommandPath())}
					}
				}
				return cmdutil.UsageError{Err: fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		wrapArgErrors(sub)
	}
}

func defaultKeyringDir(env *cmdutil.Env) string {
	if dir := env.Getenv("HEGUI_KEYRING"); dir != "" {
		return dir
	}
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "hegui", "keyring")
	}
	return filepath.Join(".hegui", "keyring")
}
