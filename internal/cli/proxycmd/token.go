package proxycmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/modproxy"
)

func newTokenCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage the tokens clients read the proxy with",
		Args:  cobra.NoArgs,
		RunE:  cmdutil.ShowHelp,
	}
	cmd.AddCommand(newTokenAddCmd(env))
	return cmd
}

// TokenAddOptions are the choices of `hegui proxy token add`.
type TokenAddOptions struct {
	// Dir is the proxy home.
	Dir string
	// Name names the client (a person, a CI system).
	Name string
}

func newTokenAddCmd(env *cmdutil.Env) *cobra.Command {
	var opts TokenAddOptions
	return &cobra.Command{
		Use:   "add DIR NAME",
		Short: "Make a token for a client and print it",
		Long: `Add makes a random token for the client NAME, adds its SHA-256 to DIR/tokens
and prints the token on standard output, once: the proxy keeps only the hash.
Once DIR/tokens exists, the proxy answers 401 to requests without a known
token (unless proxy.yaml sets auth.anonymous). A running proxy reads the file
when it starts.

Clients give the token through GOAUTH, as a bearer token or as the password of
a .netrc entry for the proxy's host (docs/proxy.md).`,
		Example: `  hegui proxy token add /srv/goproxy ci > ci.token`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir, opts.Name = args[0], args[1]
			return RunTokenAdd(cmd.Context(), env, opts)
		},
	}
}

// RunTokenAdd runs `hegui proxy token add`.
func RunTokenAdd(_ context.Context, env *cmdutil.Env, o TokenAddOptions) error {
	token, err := modproxy.NewToken()
	if err != nil {
		return err
	}
	line, err := modproxy.TokenLine(o.Name, token)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.Dir, modproxy.TokensFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	names, _, err := modproxy.ParseTokens(old)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	for _, n := range names {
		if n == o.Name {
			return fmt.Errorf("%s already has a token in %s: remove its line to replace it", o.Name, path)
		}
	}
	var buf bytes.Buffer
	buf.Write(old)
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		buf.WriteByte('\n')
	}
	buf.WriteString(line + "\n")
	f, err := atomicfile.Create(path, 0o600, false)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(buf.Bytes()); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, token)
	env.Infof("added %s to %s; restart the proxy to use it", o.Name, path)
	return nil
}
