package modproxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/internal/modstore"
)

// HomeOptions are what a command line adds to a proxy home's
// configuration.
type HomeOptions struct {
	// Upstream overrides proxy.yaml's upstream.
	Upstream string
	// Offline overrides proxy.yaml's offline when set.
	Offline bool
	// Getenv reads GOPROXY and GOSUMDB for the defaults.
	Getenv func(string) string
	// Log receives the proxy's messages.
	Log *slog.Logger
	// Internals verifies internal modules; nil means a modsign.StoreVerifier
	// trusting proxy.yaml's internal.publishers and audit-log keys (none
	// configured: no internal module is served).
	Internals InternalVerifier
	// Events receives audit events.
	Events EventSink
	// Audit records events in the audit log proxy.yaml's audit section
	// names (when Events is nil): a serving proxy does, the store commands
	// (warm, export, import) do not.
	Audit bool
}

// Home is an opened proxy home.
type Home struct {
	Dir    string
	Config *Config
	Store  interface{ String() string }
	// Clients are the names in the tokens file; nil when there is none and
	// anyone may read.
	Clients []string
	// Audit records events in the audit log; nil when none is configured.
	Audit *AuditSink
	// PrivateSumDBKey is the verifier key of the proxy's own checksum
	// database, for clients' GOSUMDB; empty when it runs none.
	PrivateSumDBKey string
}

// Close flushes the audit events (or spools them).
func (h *Home) Close(ctx context.Context) error {
	if h.Audit != nil {
		return h.Audit.Close(ctx)
	}
	return nil
}

// Open reads the proxy home dir (creating it when it does not exist) and
// makes its proxy.
func Open(ctx context.Context, dir string, o HomeOptions) (*Proxy, *Home, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	opts := Options{Offline: o.Offline || cfg.Offline, Log: o.Log, Internals: o.Internals, Events: o.Events, Prefetch: cfg.prefetchOption(), NoZipPrefetch: cfg.PrefetchZips != nil && !*cfg.PrefetchZips}
	if !opts.Offline {
		opts.Upstream = cmp.Or(o.Upstream, cfg.Upstream)
		if opts.Upstream == "" {
			if opts.Upstream, err = ParseUpstream(cmp.Or(getenv("GOPROXY"), "https://proxy.golang.org")); err != nil {
				return nil, nil, fmt.Errorf("no upstream: %v; set upstream in %s, or serve --offline", err, ConfigFile)
			}
		}
	}
	opts.SumDB, opts.SumDBURL = cfg.SumDB, cfg.SumDBURL
	if opts.SumDB == "" {
		key, url, err := SumDBFromEnv(getenv("GOSUMDB"))
		if err != nil {
			return nil, nil, err
		}
		opts.SumDB, opts.SumDBURL = key, cmp.Or(opts.SumDBURL, url)
	}
	if opts.Internal, err = cfg.InternalPatterns(); err != nil {
		return nil, nil, err
	}
	if opts.Policy, err = cfg.CompilePolicy(dir, getenv); err != nil {
		return nil, nil, err
	}
	var privateKey string
	if cfg.PrivateSumDB != nil {
		if opts.PrivateSumDB, privateKey, err = cfg.OpenPrivateSumDB(dir); err != nil {
			return nil, nil, err
		}
	}
	if opts.Internals == nil && len(cfg.Internal.Publishers) > 0 {
		var pubs []string
		for _, f := range cfg.Internal.Publishers {
			pubs = append(pubs, homePath(dir, f))
		}
		trust, err := modsign.LoadTrust(pubs, homePath(dir, cfg.Internal.AuditLog.PublicKeys))
		if err != nil {
			return nil, nil, fmt.Errorf("%s internal: %v", ConfigFile, err)
		}
		opts.Internals = &modsign.StoreVerifier{Trust: trust, TempDir: filepath.Join(dir, TempDir)}
	}
	home := &Home{Dir: dir, Config: cfg, PrivateSumDBKey: privateKey}
	tokens := cmp.Or(homePath(dir, cfg.Auth.Tokens), filepath.Join(dir, TokensFile))
	data, err := os.ReadFile(tokens)
	switch {
	case err == nil:
		names, auth, err := ParseTokens(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", tokens, err)
		}
		auth.Anonymous = cfg.Auth.Anonymous
		opts.Auth, home.Clients = auth, names
	case errors.Is(err, fs.ErrNotExist) && cfg.Auth.Tokens == "":
	default:
		return nil, nil, err
	}
	store, err := cfg.OpenStore(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	opts.Store, home.Store = store, store
	opts.TempDir = filepath.Join(dir, TempDir)
	if err := os.MkdirAll(opts.TempDir, 0o700); err != nil {
		return nil, nil, err
	}
	removeStaleTemp(opts.TempDir)
	if d, ok := store.(*modstore.Dir); ok {
		// Writes a crash interrupted leave hidden temporary files beside
		// the objects; nothing reads them.
		if n, err := d.RemoveStale(ctx, 2*fetchTimeout); err != nil {
			return nil, nil, fmt.Errorf("store %s: %v", d, err)
		} else if n > 0 && o.Log != nil {
			o.Log.Info("removed temporary files interrupted writes left in the store", "files", n)
		}
	}
	if a := cfg.Audit; a.URL != "" && o.Audit && opts.Events == nil {
		tokenEnv := cmp.Or(a.TokenEnv, "HEGUI_LOG_TOKEN")
		token := getenv(tokenEnv)
		if token == "" {
			return nil, nil, fmt.Errorf("%s audit: no writer token in $%s (hegui log writer add LOGDIR proxy --actions 'proxy.*')", ConfigFile, tokenEnv)
		}
		sink, err := NewAuditSink(a.URL, token, AuditOptions{
			Fetches: a.Fetches, SampleEvery: cmp.Or(a.SampleEvery, 100),
			SpoolPath: cmp.Or(homePath(dir, a.Spool), filepath.Join(dir, "audit.spool")),
			ErrorHandler: func(err error) {
				if o.Log != nil {
					o.Log.Warn("audit log", "err", err)
				}
			},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%s audit: %v", ConfigFile, err)
		}
		opts.Events, home.Audit = sink, sink
	}
	p, err := New(opts)
	if err != nil {
		home.Close(ctx)
		return nil, nil, err
	}
	return p, home, nil
}

// removeStaleTemp removes downloads left in the temporary directory by a
// proxy that was killed mid-fetch. A fetch takes at most fetchTimeout, so
// files older than twice that belong to no running proxy.
func removeStaleTemp(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > 2*fetchTimeout {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
