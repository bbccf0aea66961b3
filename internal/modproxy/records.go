package modproxy

import (
	"context"
	"sync"

	"hegui.dev/hegui/internal/modstore"
)

// maxCachedRecords bounds the records held in memory (a record is a few
// hundred bytes; a large project's graph has a few hundred files).
const maxCachedRecords = 50000

// recordCache holds the records the proxy has read or written, so that a
// warm request costs no store read before the file itself. A record is
// what a file was verified as; the file is still checked against it on
// every read. Another replica may replace a file and its record (after a
// quarantine and a new fetch): a file that does not match a cached record
// is therefore checked against the store's record before anything is
// quarantined (Proxy.reloadRecord).
type recordCache struct {
	mu sync.Mutex
	m  map[string]modstore.Record
}

func recordKey(mod, version, kind string) string { return mod + "@" + version + "." + kind }

func (c *recordCache) get(mod, version, kind string) (*modstore.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.m[recordKey(mod, version, kind)]
	if !ok {
		return nil, false
	}
	return &rec, true
}

func (c *recordCache) put(rec *modstore.Record) {
	if rec.Size > maxBuffered {
		return // read from the store every time (readRecord)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedRecords {
		c.m = map[string]modstore.Record{} // full: start again
	}
	c.m[recordKey(rec.Module, rec.Version, rec.Kind)] = *rec
}

func (c *recordCache) forget(rec *modstore.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, recordKey(rec.Module, rec.Version, rec.Kind))
}

// readRecord is a stored file's record, from memory when the proxy has
// seen it. Only the records of files checked whole before their first
// byte is sent are kept (recordCache.put): a larger file is streamed and
// its mismatch found only at its end, when the response can only be cut
// short, so its record is read from the store every time, and a file
// replaced since is never cut for a stale record (reading a record costs
// little beside streaming megabytes).
func (p *Proxy) readRecord(ctx context.Context, mod, version, kind string) (*modstore.Record, error) {
	if rec, ok := p.records.get(mod, version, kind); ok {
		return rec, nil
	}
	rec, err := modstore.ReadRecord(ctx, p.store, mod, version, kind)
	if err == nil {
		p.records.put(rec)
	}
	return rec, err
}

// reloadRecord reads rec's record from the store again, when a file did
// not match it: it returns the store's record when that describes other
// bytes (the record in memory was an older one: the file was replaced
// since, by this proxy's quarantine and fetch or by another replica), nil
// when it describes the same bytes (the file is what is wrong) or is gone.
func (p *Proxy) reloadRecord(ctx context.Context, rec *modstore.Record) *modstore.Record {
	p.records.forget(rec)
	stored, err := modstore.ReadRecord(ctx, p.store, rec.Module, rec.Version, rec.Kind)
	if err != nil || (stored.SHA256 == rec.SHA256 && stored.Size == rec.Size) {
		return nil
	}
	p.records.put(stored)
	return stored
}
