package modproxy

import (
	"context"
	"errors"
	"sort"
	"sync"

	"hegui.dev/hegui/internal/modlist"
	"hegui.dev/hegui/internal/modstore"
)

// WarmResult is what warming one item did.
type WarmResult struct {
	Item modlist.Item
	// Fetched counts the files fetched and verified now; the others were
	// stored already.
	Fetched int
	Err     error
}

// WarmSummary counts a warm run.
type WarmSummary struct {
	Items, Fetched, AlreadyStored, Failed int
	Failures                              []WarmResult
}

// warmWorkers is how many items are fetched at once.
const warmWorkers = 8

// Warm stores every item's files, fetching and verifying what is not
// stored yet, with a few fetches at once. It can be interrupted and run
// again: what is stored stays stored and is not fetched twice. progress,
// if set, is called after each item (from one goroutine at a time).
func (p *Proxy) Warm(ctx context.Context, items []modlist.Item, progress func(done, total int, r WarmResult)) WarmSummary {
	if p.offline {
		s := WarmSummary{Items: len(items), Failed: len(items)}
		for _, it := range items {
			s.Failures = append(s.Failures, WarmResult{Item: it, Err: errors.New("the proxy is offline")})
		}
		return s
	}
	work := make(chan modlist.Item)
	results := make(chan WarmResult)
	var wg sync.WaitGroup
	for range min(warmWorkers, max(len(items), 1)) {
		wg.Go(func() {
			for it := range work {
				results <- p.warmOne(ctx, it)
			}
		})
	}
	go func() {
		defer close(work)
		for _, it := range items {
			select {
			case work <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	s := WarmSummary{}
	for r := range results {
		s.Items++
		switch {
		case r.Err != nil:
			s.Failed++
			s.Failures = append(s.Failures, r)
		case r.Fetched > 0:
			s.Fetched++
		default:
			s.AlreadyStored++
		}
		if progress != nil {
			progress(s.Items, len(items), r)
		}
	}
	if missed := len(items) - s.Items; missed > 0 {
		s.Failed += missed
		s.Items = len(items)
	}
	sort.Slice(s.Failures, func(i, j int) bool {
		return s.Failures[i].Item.Module+"@"+s.Failures[i].Item.Version < s.Failures[j].Item.Module+"@"+s.Failures[j].Item.Version
	})
	return s
}

func (p *Proxy) warmOne(ctx context.Context, it modlist.Item) WarmResult {
	// Warming fetches what the list names, nothing it requires besides.
	ctx = context.WithValue(ctx, prefetchKey{}, true)
	r := WarmResult{Item: it}
	if p.isInternal(it.Module) {
		r.Err = errors.New("an internal module: publish it with hegui proxy publish")
		return r
	}
	kinds := []string{modstore.Mod, modstore.Info, modstore.Zip}
	if it.ModOnly {
		kinds = kinds[:1]
	}
	for _, kind := range kinds {
		if _, err := modstore.ReadRecord(ctx, p.store, it.Module, it.Version, kind); err == nil {
			continue
		}
		if _, err := p.ensure(ctx, it.Module, it.Version, kind); err != nil {
			r.Err = err
			return r
		}
		r.Fetched++
	}
	return r
}
