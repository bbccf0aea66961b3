// Package modproxy is the module proxy `hegui proxy serve` runs: the
// GOPROXY protocol and a checksum-database proxy, exactly as the go command
// speaks them, in front of a modstore.Store.
//
// Everything it serves has been verified. A public module file is fetched
// from the upstream proxy, checked against the checksum database (and a
// zip against the module zip rules) before it is stored, and its hash kept
// in a record beside it; an internal module is served only while its
// publisher's signature holds and its audit-log entry is proven (package
// modsign). Every read checks the stored bytes against the record as they
// are served; a corrupted file is quarantined and fetched again, or
// answered with 502, never served.
//
// Policy at the door (policy.go) refuses module versions by pattern,
// version range and release age with a 403 whose text the go command
// prints. Without an upstream (Offline) the proxy answers from the store
// alone, lists and @latest included.
package modproxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/sync/singleflight"

	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/internal/modstore"
)

// Options configure a Proxy.
type Options struct {
	// Store holds the modules; required.
	Store modstore.Store
	// Upstream is the GOPROXY URL public modules are fetched from
	// (ParseUpstream). Empty means Offline.
	Upstream string
	// Offline never contacts the upstream: lists, @latest and the checksum
	// database are answered from the store.
	Offline bool
	// SumDB is the checksum database's verifier key ("name+hash+key");
	// empty means DefaultSumDB.
	SumDB string
	// SumDBURL is where the checksum database is read; empty means the
	// upstream's checksum-database proxy, Upstream + "/sumdb/" + name.
	SumDBURL string
	// Internal lists the internal module path patterns (GOPRIVATE syntax:
	// "corp.example.com,git.corp/*"). Internal modules are never asked of
	// the upstream or the checksum database.
	Internal string
	// Internals verifies internal module versions before they are served;
	// nil serves no internal module.
	Internals InternalVerifier
	// Policy decides which module versions may be served; nil allows all.
	Policy *Policy
	// Auth decides who may read; nil allows everyone.
	Auth *Auth
	// Events, if set, receives the proxy's audit events (fetches, refusals,
	// corrupted files).
	Events EventSink
	// Log receives operational messages; nil discards them.
	Log *slog.Logger
	// HTTPClient talks to the upstream; nil means one with timeouts.
	HTTPClient *http.Client
	// TempDir holds downloads being verified; empty means os.TempDir().
	TempDir string
	// Now is the clock (for release age); nil means time.Now.
	Now func() time.Time
	// PrivateSumDB, if set, runs the proxy's own checksum database.
	PrivateSumDB *PrivateSumDB
	// Prefetch is how many module files are fetched ahead of the client at
	// a time (prefetch.go): 0 means DefaultPrefetch, a negative number
	// none.
	Prefetch int
	// NoZipPrefetch leaves out of prefetching the zips of versions whose
	// .info a client asks for.
	NoZipPrefetch bool
}

// InternalVerifier checks an internal module version before it is served:
// that its publisher's signature over its go.sum lines holds against the
// trusted keys and that its audit-log entry is proven. Package modsign
// implements it.
type InternalVerifier interface {
	VerifyVersion(ctx context.Context, store modstore.Store, mod, version string) (*modsign.VerifiedVersion, error)
}

// EventSink receives audit events: what was served or refused to whom.
type EventSink interface {
	Event(ctx context.Context, e Event)
}

// Event is one thing the proxy did that an auditor may ask about.
type Event struct {
	Action  string // "proxy.fetch", "proxy.refuse", "proxy.corrupt"
	Client  string // the authenticated client, or "anonymous"
	Module  string
	Version string
	Kind    string
	Outcome string // "success" or "failure"
	Reason  string
}

// Proxy serves modules. It is an http.Handler.
type Proxy struct {
	store     modstore.Store
	up        *upstream
	sumdb     *checksumDB
	offline   bool
	internal  string
	internals InternalVerifier
	policy    *Policy
	auth      *Auth
	events    EventSink
	log       *slog.Logger
	tempDir   string
	now       func() time.Time
	flight    singleflight.Group
	private   *privateDB
	// orphanWait is orphanWait, shortened by tests.
	orphanWait time.Duration
	metrics    *metrics
	records    recordCache
	mux        *http.ServeMux
	prefetch   *prefetcher // nil when offline or off
	// prefetchZips: a .info asked for starts the fetch of its zip.
	prefetchZips bool
}

// New makes a proxy.
func New(opts Options) (*Proxy, error) {
	if opts.Store == nil {
		return nil, errors.New("modproxy: no store")
	}
	offline := opts.Offline || opts.Upstream == ""
	var up *upstream
	if opts.Upstream != "" {
		base, err := ParseUpstream(opts.Upstream)
		if err != nil {
			return nil, err
		}
		up = newUpstream(base, opts.HTTPClient)
	} else {
		up = newUpstream("", opts.HTTPClient)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key := cmp.Or(opts.SumDB, DefaultSumDB)
	db, err := newChecksumDB(key, "", up, opts.Store, log, offline)
	if err != nil {
		return nil, err
	}
	db.url = cmp.Or(opts.SumDBURL, up.base+"/sumdb/"+db.name)
	p := &Proxy{
		store:      opts.Store,
		up:         up,
		sumdb:      db,
		offline:    offline,
		internal:   opts.Internal,
		internals:  opts.Internals,
		policy:     opts.Policy,
		auth:       opts.Auth,
		events:     opts.Events,
		log:        log,
		tempDir:    cmp.Or(opts.TempDir, os.TempDir()),
		now:        opts.Now,
		orphanWait: orphanWait,
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.metrics = newMetrics()
	if !offline {
		workers := opts.Prefetch
		if workers == 0 {
			workers = DefaultPrefetch
		}
		p.prefetch = newPrefetcher(workers)
		p.prefetchZips = !opts.NoZipPrefetch
	}
	if opts.PrivateSumDB != nil {
		if p.private, err = newPrivateDB(context.Background(), p, opts.PrivateSumDB); err != nil {
			return nil, err
		}
	}
	p.routes()
	return p, nil
}

// SumDBName is the name of the checksum database the proxy verifies
// against and serves under /sumdb/.
func (p *Proxy) SumDBName() string { return p.sumdb.name }

// Offline reports whether the proxy never contacts an upstream.
func (p *Proxy) Offline() bool { return p.offline }

// isInternal reports whether a module path is an internal module's.
func (p *Proxy) isInternal(mod string) bool {
	return p.internal != "" && module.MatchPrefixPatterns(p.internal, mod)
}

func (p *Proxy) event(ctx context.Context, e Event) {
	if p.events != nil {
		p.events.Event(ctx, e)
	}
}

// String describes the proxy for its startup message.
func (p *Proxy) String() string {
	if p.offline {
		return fmt.Sprintf("offline, serving %s", p.store)
	}
	return fmt.Sprintf("upstream %s, checksum database %s, store %s", p.up.base, p.sumdb.name, p.store)
}
