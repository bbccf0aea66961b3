package proxycmd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/modproxy"
)

// WarmOptions are the choices of `hegui proxy warm`.
type WarmOptions struct {
	// Dir is the proxy home.
	Dir string
	// Files name what to warm: go.sum, go.mod or module lists; "-" is
	// standard input.
	Files []string
	// Upstream overrides the home's upstream (--upstream).
	Upstream string
}

func newWarmCmd(env *cmdutil.Env) *cobra.Command {
	var opts WarmOptions
	cmd := &cobra.Command{
		Use:   "warm DIR FILE...",
		Short: "Fetch, verify and store modules ahead of use",
		Long: `Warm stores in the proxy home DIR every module version the FILEs name,
fetched from the upstream and checked against the checksum database exactly as
serving them would, so that the proxy can later serve them offline. It needs
no running server; it may run while one serves DIR.

Each FILE is a go.sum (the whole module graph of a build, the best input), a
go.mod (its requirements only), or a list of modules, one per line, as
MODULE@VERSION or as ` + "`go list -m all`" + ` prints them; - reads standard input.
A go.sum line for a go.mod alone stores that go.mod alone.

Warming is idempotent and can be interrupted: what is stored is not fetched
again. It ends with a summary, and exits 1 when any module failed.`,
		Example: `  hegui proxy warm /srv/goproxy go.sum
  go list -m all | hegui proxy warm /srv/goproxy -`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir, opts.Files = args[0], args[1:]
			return RunWarm(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Upstream, "upstream", "", "fetch from this GOPROXY `URL` (default: proxy.yaml's upstream, else $GOPROXY)")
	return cmd
}

// RunWarm runs `hegui proxy warm`.
func RunWarm(ctx context.Context, env *cmdutil.Env, o WarmOptions) error {
	items, err := cmdutil.ReadModuleLists(ctx, env, o.Files)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, _, err := modproxy.Open(ctx, o.Dir, modproxy.HomeOptions{Upstream: o.Upstream, Getenv: env.Getenv, Log: logger})
	if err != nil {
		return err
	}
	if p.Offline() {
		return cmdutil.Usagef("%s is configured offline: warm needs an upstream (--upstream URL)", o.Dir)
	}
	env.Infof("warming %d module versions into %s (%s)", len(items), o.Dir, p)
	start := time.Now()
	last := time.Now()
	s := p.Warm(ctx, items, func(done, total int, r modproxy.WarmResult) {
		if r.Err != nil {
			env.Infof("  %s@%s: %v", r.Item.Module, r.Item.Version, r.Err)
		}
		if time.Since(last) >= 2*time.Second || done == total {
			last = time.Now()
			env.Infof("  %d/%d", done, total)
		}
	})
	env.Infof("%d module versions in %s: %d fetched and verified, %d already stored, %d failed",
		s.Items, time.Since(start).Round(time.Millisecond), s.Fetched, s.AlreadyStored, s.Failed)
	if s.Failed > 0 {
		return fmt.Errorf("%d of %d module versions could not be stored (listed above); run warm again once the cause is fixed: what is stored stays", s.Failed, s.Items)
	}
	return ctx.Err()
}
