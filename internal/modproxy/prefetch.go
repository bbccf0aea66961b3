package modproxy

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/modstore"
)

// Prefetching: fetching, verifying and storing module files a client is
// about to ask for, several at a time, while it waits on something else.
// A client asking for a file being prefetched waits for that fetch (one
// fetch per file at a time, as always). Internal modules are never
// prefetched, nor anything offline or during warm.
//
// go.mod files. The go command walks a module graph by reading go.mod
// files a few at a time (GOMAXPROCS), each one a request it waits for;
// through a proxy that verifies, a go.mod it does not hold costs three
// upstream round trips in a row (the file, its checksum-database lookup,
// the tiles that prove it). So when the proxy fetches a go.mod a client
// asked for, it starts fetching the go.mod files that one requires. Only
// one level is prefetched: a prefetched go.mod does not prefetch its own
// requirements, so what is fetched stays close to what the go command
// reads (which, with graph pruning, is not every go.mod of the transitive
// closure).
//
// Zips. `go mod download` asks for the .info of every module it is about
// to download, one after the other, before the first zip; each zip not
// held then costs a download, its hash over every file, and a lookup. So
// when a client asks for the .info of a version whose go.mod the proxy
// holds (a version in some module graph) and whose zip it does not, the
// proxy starts fetching that zip (proxy.yaml prefetch-zips: false turns
// this off). A client that wanted only the .info (`go list -m -json all`
// asks for those of a whole graph) leaves zips stored that nobody asked
// for yet.

// DefaultPrefetch is how many files are prefetched at a time.
const DefaultPrefetch = 8

// maxPrefetchPending bounds the files waiting to be prefetched; more are
// dropped (the client fetches them when it asks).
const maxPrefetchPending = 2048

type prefetcher struct {
	sem     chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	pending atomic.Int64
	mu      sync.Mutex // orders go against close
	closed  bool
	wg      sync.WaitGroup
}

// goPrefetch runs fn in a goroutine unless the prefetcher is closed.
func (pf *prefetcher) goPrefetch(fn func()) bool {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	if pf.closed {
		return false
	}
	pf.wg.Add(1)
	go func() {
		defer pf.wg.Done()
		fn()
	}()
	return true
}

// close stops the prefetches waiting for a turn and waits for those
// under way.
func (pf *prefetcher) close() {
	pf.mu.Lock()
	pf.closed = true
	pf.cancel()
	pf.mu.Unlock()
	pf.wg.Wait()
}

func newPrefetcher(workers int) *prefetcher {
	if workers <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &prefetcher{sem: make(chan struct{}, workers), ctx: ctx, cancel: cancel}
}

// prefetchKey marks the context of a prefetch's fetch.
type prefetchKey struct{}

// prefetchRequirements starts fetching the go.mod files that data, the
// go.mod of mod, requires, unless they are stored, internal, or this is
// itself a prefetch.
func (p *Proxy) prefetchRequirements(ctx context.Context, mod string, data []byte) {
	if p.prefetch == nil || ctx.Value(prefetchKey{}) != nil {
		return
	}
	f, err := modfile.ParseLax(mod+"@/go.mod", data, nil)
	if err != nil {
		return
	}
	for _, r := range f.Require {
		m := r.Mod
		if module.Check(m.Path, m.Version) != nil || !isCanonical(m.Version) || p.isInternal(m.Path) {
			continue
		}
		if !p.startPrefetch(m.Path, m.Version, modstore.Mod, func(ctx context.Context) bool {
			return !p.holds(ctx, m.Path, m.Version, modstore.Mod)
		}) {
			return
		}
	}
}

// prefetchZip starts fetching the zip of mod@version, whose .info a client
// was just given, if the proxy holds its go.mod and not its zip. The
// records are read by the prefetch, not before the .info's answer ends.
func (p *Proxy) prefetchZip(mod, version string) {
	if p.prefetch == nil || !p.prefetchZips || p.isInternal(mod) || !isCanonical(version) {
		return
	}
	p.startPrefetch(mod, version, modstore.Zip, func(ctx context.Context) bool {
		return !p.holds(ctx, mod, version, modstore.Zip) && p.holds(ctx, mod, version, modstore.Mod)
	})
}

// holds reports whether the proxy has a record of the module file.
func (p *Proxy) holds(ctx context.Context, mod, version, kind string) bool {
	_, err := p.readRecord(ctx, mod, version, kind)
	return err == nil
}

// startPrefetch fetches a module file in the background, when a prefetch
// worker is free, if wanted still says so then (the client may have asked
// for the file meanwhile); it reports false once the proxy is closed.
func (p *Proxy) startPrefetch(mod, version, kind string, wanted func(context.Context) bool) bool {
	pf := p.prefetch
	if pf.pending.Add(1) > maxPrefetchPending {
		pf.pending.Add(-1)
		p.metrics.prefetches.WithLabelValues(kind, "dropped").Inc()
		return true
	}
	started := pf.goPrefetch(func() {
		defer pf.pending.Add(-1)
		ctx := context.WithValue(pf.ctx, prefetchKey{}, true)
		if !wanted(ctx) {
			return
		}
		select {
		case pf.sem <- struct{}{}:
		case <-pf.ctx.Done():
			return
		}
		defer func() { <-pf.sem }()
		if !wanted(ctx) {
			return
		}
		if _, err := p.ensure(ctx, mod, version, kind); err != nil {
			p.metrics.prefetches.WithLabelValues(kind, "failed").Inc()
			p.log.Debug("prefetch", "module", mod, "version", version, "kind", kind, "err", err)
			return
		}
		p.metrics.prefetches.WithLabelValues(kind, "fetched").Inc()
	})
	if !started {
		pf.pending.Add(-1)
	}
	return started
}

// Close stops prefetching and waits for the prefetches under way to end.
// The proxy still serves; it prefetches no more.
func (p *Proxy) Close() error {
	if p.prefetch != nil {
		p.prefetch.close()
	}
	return nil
}
