package modproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/modstore"
)

// WarmItem is a module version to store ahead of use: its go.mod always,
// and its .info and zip unless ModOnly (a go.sum "/go.mod" line alone: the
// go command reads that version's go.mod but never builds it).
type WarmItem struct {
	Module, Version string
	ModOnly         bool
}

// ParseWarmList reads what to warm from a file's content: a go.sum, a
// go.mod (its requirements), or a list of modules, one per line, as
// "MODULE@VERSION" or "MODULE VERSION" (what `go list -m all` prints; its
// first line, the main module without a version, is skipped). name is the
// file's name, used to tell a go.mod; blank lines and # comments are
// ignored.
func ParseWarmList(name string, data []byte) ([]WarmItem, error) {
	if filepath.Base(name) == "go.mod" {
		f, err := modfile.ParseLax(name, data, nil)
		if err != nil {
			return nil, err
		}
		var items []WarmItem
		for _, r := range f.Require {
			items = append(items, WarmItem{Module: r.Mod.Path, Version: r.Mod.Version})
		}
		return mergeItems(items), nil
	}
	var items []WarmItem
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		var mod, version string
		switch {
		case len(f) == 1 && strings.Contains(f[0], "@"):
			mod, version, _ = strings.Cut(f[0], "@")
		case len(f) == 1:
			continue // `go list -m all`'s main module
		case len(f) == 3 && strings.HasPrefix(f[2], "h1:"):
			mod, version = f[0], f[1] // a go.sum line
		case len(f) >= 2:
			mod, version = f[0], f[1] // `go list -m all`: "MOD VER [=> REPLACEMENT]"
		}
		modOnly := false
		if v, ok := strings.CutSuffix(version, "/go.mod"); ok {
			version, modOnly = v, true
		}
		if err := module.Check(mod, version); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		if module.CanonicalVersion(version) != version {
			return nil, fmt.Errorf("%s:%d: %s is not a canonical version", name, n, version)
		}
		items = append(items, WarmItem{Module: mod, Version: version, ModOnly: modOnly})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return mergeItems(items), nil
}

// mergeItems merges duplicates (a version wanted whole wins over its
// go.mod alone) and sorts.
func mergeItems(items []WarmItem) []WarmItem {
	index := map[string]int{}
	var out []WarmItem
	for _, it := range items {
		k := it.Module + "@" + it.Version
		if i, ok := index[k]; ok {
			out[i].ModOnly = out[i].ModOnly && it.ModOnly
			continue
		}
		index[k] = len(out)
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Module != out[j].Module {
			return out[i].Module < out[j].Module
		}
		return out[i].Version < out[j].Version
	})
	return out
}

// WarmResult is what warming one item did.
type WarmResult struct {
	Item WarmItem
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
func (p *Proxy) Warm(ctx context.Context, items []WarmItem, progress func(done, total int, r WarmResult)) WarmSummary {
	if p.offline {
		s := WarmSummary{Items: len(items), Failed: len(items)}
		for _, it := range items {
			s.Failures = append(s.Failures, WarmResult{Item: it, Err: errors.New("the proxy is offline")})
		}
		return s
	}
	work := make(chan WarmItem)
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

func (p *Proxy) warmOne(ctx context.Context, it WarmItem) WarmResult {
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
