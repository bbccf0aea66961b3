package proxycmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/translog"
)

// PublishOptions are the choices of `hegui proxy publish`.
type PublishOptions struct {
	// Home is the proxy home whose store receives the module.
	Home string
	// Dir and Version are MODDIR@VERSION.
	Dir, Version string
	// Key is the publisher's key (--key).
	Key *cmdutil.KeyRef
	// Git takes the files from the version's git tag (--git), or from Rev
	// (--rev).
	Git bool
	Rev string
	// LogURL and LogKeys override proxy.yaml's internal.audit-log (--log,
	// --log-keys).
	LogURL, LogKeys string
}

func newPublishCmd(env *cmdutil.Env) *cobra.Command {
	var opts PublishOptions
	cmd := &cobra.Command{
		Use:   "publish HOME MODDIR@VERSION --key KEY",
		Short: "Sign, log and store a version of an internal module",
		Long: `Publish makes the module zip of the module in MODDIR at VERSION (x/mod/zip,
exactly as the go command makes it), signs the version's two go.sum lines with
the publisher's key (SM2 by default), records a module.publish event in the
audit log and stores the version in the proxy home HOME, where the proxy
serves it to the go command once the signature and the log proof verify.

The module's path must match proxy.yaml's internal.modules (the proxy never
asks the upstream or the checksum database about those). The audit log is
proxy.yaml's internal.audit-log (url, public-keys, token-env: the variable
holding a writer token, default HEGUI_LOG_TOKEN), or --log and --log-keys.

With --git the files come from the git tag VERSION (SUBDIR/VERSION for a
module below the repository's root), or from --rev, rather than from the
working tree; the .info time is then the commit's.

Versions are immutable: publishing the same content again does nothing, and
other content for a published version is refused.`,
		Example: `  hegui proxy publish /srv/goproxy ./libs/auth@v1.4.0 --key keyring:release
  hegui proxy publish /srv/goproxy .@v2.0.1 --git --key release.key`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Home = args[0]
			i := strings.LastIndex(args[1], "@")
			if i < 0 {
				return cmdutil.Usagef("want MODDIR@VERSION, such as ./lib@v1.2.0; got %q", args[1])
			}
			opts.Dir, opts.Version = cmp.Or(args[1][:i], "."), args[1][i+1:]
			return RunPublish(cmd.Context(), env, opts)
		},
	}
	opts.Key = cmdutil.AddKeyFlag(cmd, env, "key", "the publisher's private key")
	f := cmd.Flags()
	f.BoolVar(&opts.Git, "git", false, "take the files from the version's git tag, not the working tree")
	f.StringVar(&opts.Rev, "rev", "", "with --git: the git `REVISION` to publish instead of the tag")
	f.StringVar(&opts.LogURL, "log", "", "record the publication in the audit log at `URL` (default: proxy.yaml's internal.audit-log.url)")
	f.StringVar(&opts.LogKeys, "log-keys", "", "the audit log's verifier keys `FILE` (default: proxy.yaml's internal.audit-log.public-keys)")
	return cmd
}

// RunPublish runs `hegui proxy publish`.
func RunPublish(ctx context.Context, env *cmdutil.Env, o PublishOptions) error {
	if err := o.Key.Required("key"); err != nil {
		return err
	}
	if o.Rev != "" && !o.Git {
		return cmdutil.Usagef("--rev goes with --git")
	}
	if fi, err := os.Stat(o.Home); err != nil || !fi.IsDir() {
		return cmdutil.Usagef("%s is not a proxy home (hegui proxy serve %s makes one)", o.Home, o.Home)
	}
	cfg, err := modproxy.LoadConfig(o.Home)
	if err != nil {
		return err
	}
	internal, err := cfg.InternalPatterns()
	if err != nil {
		return err
	}
	alc := cfg.Internal.AuditLog
	logURL := cmp.Or(o.LogURL, alc.URL)
	keysFile := o.LogKeys
	if keysFile == "" && alc.PublicKeys != "" {
		keysFile = alc.PublicKeys
		if !filepath.IsAbs(keysFile) {
			keysFile = filepath.Join(o.Home, keysFile)
		}
	}
	if logURL == "" || keysFile == "" {
		return cmdutil.Usagef("no audit log: set internal.audit-log.url and public-keys in %s, or give --log and --log-keys", filepath.Join(o.Home, modproxy.ConfigFile))
	}
	logKeys, err := readLogKeys(ctx, keysFile)
	if err != nil {
		return err
	}
	tokenEnv := cmp.Or(alc.TokenEnv, "HEGUI_LOG_TOKEN")
	token := env.Getenv(tokenEnv)
	if token == "" {
		return fmt.Errorf("no audit-log writer token: set %s (hegui log writer add makes one with --actions module.publish)", tokenEnv)
	}
	key, err := o.Key.OpenSigner(ctx)
	if err != nil {
		return err
	}
	defer key.Close()
	store, err := cfg.OpenStore(ctx, o.Home)
	if err != nil {
		return err
	}
	tmp := filepath.Join(o.Home, modproxy.TempDir)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	pub, err := modsign.Publish(ctx, modsign.PublishOptions{
		Store: store, Dir: o.Dir, Version: o.Version, Git: o.Git, Rev: o.Rev, Internal: internal,
		Signer: key.Signer, LogURL: logURL, LogToken: token, LogKeys: logKeys, TempDir: tmp,
		Progress: env.Infof,
	})
	var immutable *modsign.ImmutableError
	if errors.As(err, &immutable) {
		return fmt.Errorf("refused: %w", err)
	}
	if err != nil {
		return err
	}
	st := pub.Statement
	if pub.Existing {
		env.Infof("%s is already published with the same content: nothing to do", st.Object())
	} else {
		env.Infof("signed by key %s; audit-log entry %d, proven in %s's checkpoint of %d entries", pub.KeyID, pub.Index, pub.Checkpoint.Origin, pub.Checkpoint.Size)
	}
	_, err = env.Stdout.Write(st.GoSum())
	return err
}

// readLogKeys reads an audit log's verifier keys file (log.pub).
func readLogKeys(ctx context.Context, file string) ([]note.Verifier, error) {
	data, err := inputfile.Read(ctx, file, inputfile.KeyLimit)
	if err != nil {
		return nil, fmt.Errorf("audit-log keys: %w", err)
	}
	v, err := translog.ParseVerifierKeys(data)
	if err != nil {
		return nil, fmt.Errorf("audit-log keys %s: %w", file, err)
	}
	return v, nil
}
