// Package proxycmd is `hegui proxy`: a module proxy that verifies
// everything it serves (modproxy, modstore) and publishes internal modules
// signed and logged (modsign).
package proxycmd

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/httpserve"
	"hegui.dev/hegui/internal/modproxy"
)

// NewProxyCmd makes `hegui proxy` and its subcommands.
func NewProxyCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run a Go module proxy that verifies everything it serves",
		Long: `Proxy runs a Go module proxy (the GOPROXY protocol and a checksum-database
proxy) for intranets and air-gapped networks. Every public module file it
serves was checked against the checksum database before it was stored, and
every read is checked again against the stored hash; internal modules are
served only while their publisher's SM2 signature and audit-log proof hold.

A proxy home (DIR) holds proxy.yaml (optional), the tokens file and the store.
Developers and CI point the go command at it (docs/proxy.md):

  GOPROXY=http://proxy.intra:8081 GOSUMDB=sum.golang.org GONOSUMDB=corp.example.com`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	cmd.AddCommand(newServeCmd(env), newWarmCmd(env), newPublishCmd(env), newExportCmd(env), newImportCmd(env), newTokenCmd(env))
	return cmd
}

// ServeOptions are the choices of `hegui proxy serve`.
type ServeOptions struct {
	// Dir is the proxy home (DIR); created when missing.
	Dir string
	// Listen is the address to listen on (--listen).
	Listen string
	// Upstream overrides proxy.yaml's upstream and $GOPROXY (--upstream).
	Upstream string
	// Offline never contacts an upstream (--offline).
	Offline bool
	// TLSCert and TLSKey serve HTTPS (--tls-cert, --tls-key).
	TLSCert, TLSKey string
	// URLFile receives the server's URL once it listens (--url-file).
	URLFile string
	// MaxConnections bounds open client connections (--max-connections).
	MaxConnections int
}

func newServeCmd(env *cmdutil.Env) *cobra.Command {
	var opts ServeOptions
	cmd := &cobra.Command{
		Use:   "serve DIR [--listen ADDR] [--offline]",
		Short: "Serve the module proxy in DIR",
		Long: `Serve runs the module proxy whose home is DIR (created when missing).

  GET /MODULE/@v/list, /@v/VERSION.info|.mod|.zip, /MODULE/@latest
                       the GOPROXY protocol
  GET /sumdb/NAME/supported|latest|lookup/...|tile/...
                       the checksum database, through the proxy
  GET /healthz, /metrics   health and Prometheus metrics

Public modules come from the upstream: proxy.yaml's upstream, else the first
URL in $GOPROXY. Each .mod and .zip is checked against the checksum database
(proxy.yaml's sumdb, else $GOSUMDB, else sum.golang.org), and each zip against
the module zip rules, before it is stored; a file that fails is refused with
403 and never stored. With --offline the proxy never contacts the upstream and
answers lists, @latest and the checksum database from what it has stored.

Answers: 404 means "not here" (the go command tries the next proxy), 403 a
refusal whose reason the go command prints, 401 a missing or wrong token (when
DIR/tokens exists), 502 an upstream or stored file that failed.

SIGINT or SIGTERM stop the server after the requests in progress.`,
		Example: `  hegui proxy serve /srv/goproxy --listen :8081
  hegui proxy serve /srv/goproxy --offline
  GOPROXY=http://127.0.0.1:8081 go mod download`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			return RunServe(cmd.Context(), env, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:8081", "`ADDR` to listen on")
	f.StringVar(&opts.Upstream, "upstream", "", "fetch public modules from this GOPROXY `URL` (default: proxy.yaml's upstream, else $GOPROXY)")
	f.BoolVar(&opts.Offline, "offline", false, "never contact an upstream: serve what is stored")
	f.StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	f.StringVar(&opts.TLSKey, "tls-key", "", "private key `FILE` of --tls-cert")
	f.StringVar(&opts.URLFile, "url-file", "", "write the server's URL to `FILE` once it listens (useful with --listen 127.0.0.1:0)")
	f.IntVar(&opts.MaxConnections, "max-connections", httpserve.DefaultMaxConnections, "keep at most `N` client connections open at once")
	return cmd
}

// RunServe runs `hegui proxy serve`.
func RunServe(ctx context.Context, env *cmdutil.Env, o ServeOptions) error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return cmdutil.Usagef("--tls-cert and --tls-key go together")
	}
	if o.MaxConnections < 1 {
		return cmdutil.Usagef("--max-connections must be at least 1")
	}
	if o.Offline && o.Upstream != "" {
		return cmdutil.Usagef("--offline and --upstream contradict each other")
	}
	level := slog.LevelInfo
	if env.Quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	p, home, err := modproxy.Open(ctx, o.Dir, modproxy.HomeOptions{Upstream: o.Upstream, Offline: o.Offline, Getenv: env.Getenv, Log: logger, Audit: true})
	if err != nil {
		return err
	}
	defer func() {
		// Send the buffered audit events, or spool them for the next start.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := home.Close(cctx); err != nil {
			logger.Warn("audit log: closing", "err", err)
		}
	}()
	defer p.Close() // before the audit log: a prefetch may still record
	serveCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := httpserve.Options{
		Addr: o.Listen, Handler: p, MaxConnections: o.MaxConnections, TLSCert: o.TLSCert, TLSKey: o.TLSKey,
		// Zips of up to 500 MiB go out to slow clients: the write
		// deadline is generous, the read side stays strict (requests have
		// no body).
		ReadTimeout: httpserve.DefaultReadTimeout, WriteTimeout: 30 * 60e9,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	opts.Listening = func(url string) error {
		env.Infof("serving module proxy at %s (%s)", url, p)
		if home.PrivateSumDBKey != "" {
			env.Infof("serving its own checksum database: clients verify with GOSUMDB=%s (and no GONOSUMDB)", home.PrivateSumDBKey)
		}
		if home.Audit != nil {
			env.Infof("recording refusals and %s fetches in the audit log %s", cmp.Or(home.Config.Audit.Fetches, modproxy.FetchesNone), home.Config.Audit.URL)
		}
		if home.Clients == nil {
			env.Infof("no tokens file: anyone who reaches %s may read (add clients with hegui proxy token add)", url)
		}
		if o.URLFile != "" {
			return cmdutil.WriteOutput(o.URLFile, []byte(url+"\n"), 0o644, true)
		}
		return nil
	}
	return httpserve.Run(serveCtx, opts)
}
