package modproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
	"golang.org/x/sync/singleflight"

	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/modverify"
)

// Limits on module files fetched from the upstream. The go.mod and zip
// limits are the go command's own (x/mod/zip).
const (
	maxInfoSize = 64 << 10
	maxModSize  = modzip.MaxGoMod
	maxZipSize  = modzip.MaxZipFile
	maxListSize = 4 << 20
)

// VerificationError is a module file whose content the proxy refused to
// store: its hash differs from the checksum database's, the database does
// not know it, or the zip breaks the module zip rules. Nothing of it is
// stored or served.
type VerificationError struct {
	Module, Version, Kind string
	Err                   error
}

func (e *VerificationError) Error() string {
	return fmt.Sprintf("%s@%s: %s refused: %v", e.Module, e.Version, e.Kind, e.Err)
}

func (e *VerificationError) Unwrap() error { return e.Err }

// Info is the .info document of a module version.
type Info struct {
	Version string
	Time    time.Time
}

// ensure returns the record of a module file, fetching, verifying and
// storing the file first when it is not stored. Only one fetch of a file
// runs at a time in this process; concurrent callers share its result. A
// caller whose ctx ends stops waiting; the fetch goes on for the others
// (and is stored for later) unless a prefetch started it and the proxy
// closes.
func (p *Proxy) ensure(ctx context.Context, mod, version, kind string) (*modstore.Record, error) {
	rec, err := p.readRecord(ctx, mod, version, kind)
	if err == nil || !errors.Is(err, modstore.ErrNotExist) {
		return rec, err
	}
	if p.isInternal(mod) || p.offline {
		return nil, err
	}
	key := mod + "@" + version + "." + kind
	ch := p.flight.DoChan(key, func() (any, error) {
		// The caller's cancellation must not fail the others waiting.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		if ctx.Value(prefetchKey{}) != nil {
			// A prefetch ends when the proxy closes (Close).
			stop := context.AfterFunc(ctx, cancel)
			defer stop()
		}
		return p.fetch(fctx, mod, version, kind)
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.Err != nil {
		return nil, res.Err
	}
	rec = res.Val.(*modstore.Record)
	p.records.put(rec)
	return rec, nil
}

// fetchTimeout bounds one fetch from the upstream, zip and verification
// included.
const fetchTimeout = 10 * time.Minute

// fetch reads a module file from the upstream, verifies it and stores it
// with its record.
func (p *Proxy) fetch(ctx context.Context, mod, version, kind string) (*modstore.Record, error) {
	// Another fetch may have stored it while this one waited.
	if rec, err := modstore.ReadRecord(ctx, p.store, mod, version, kind); err == nil {
		return rec, nil
	}
	start := time.Now()
	defer func() { p.metrics.upstreamSeconds.WithLabelValues(kind).Observe(time.Since(start).Seconds()) }()
	path, err := p.upstreamPath(mod, version, kind)
	if err != nil {
		return nil, err
	}
	switch kind {
	case modstore.Info:
		data, err := p.up.getAll(ctx, p.up.base, path, maxInfoSize)
		if err != nil {
			return nil, err
		}
		var info Info
		if err := json.Unmarshal(data, &info); err != nil {
			return nil, &VerificationError{mod, version, kind, fmt.Errorf("the upstream's .info is not JSON: %v", err)}
		}
		if info.Version != version {
			return nil, &VerificationError{mod, version, kind, fmt.Errorf("the upstream's .info names version %q", info.Version)}
		}
		return p.storeBytes(ctx, mod, version, kind, data, "", "")
	case modstore.Mod:
		// The checksum-database lookup does not depend on the file: it
		// runs while the file downloads.
		lookup := p.startLookup(ctx, mod, version+"/go.mod")
		defer lookup.stop()
		data, err := p.up.getAll(ctx, p.up.base, path, maxModSize)
		if err != nil {
			return nil, err
		}
		h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		if err != nil {
			return nil, err
		}
		if err := p.checkLines(mod, version+"/go.mod", h, lookup); err != nil {
			p.metrics.verifyFailures.WithLabelValues(kind).Inc()
			return nil, &VerificationError{mod, version, kind, err}
		}
		rec, err := p.storeBytes(ctx, mod, version, kind, data, h, p.sumdb.name)
		if err == nil {
			p.prefetchRequirements(ctx, mod, data)
		}
		return rec, err
	case modstore.Zip:
		return p.fetchZip(ctx, mod, version, path)
	}
	return nil, fmt.Errorf("unknown module file kind %q", kind)
}

// fetchZip downloads a module zip to a temporary file, checks it against
// the module zip rules and the checksum database, and stores it.
func (p *Proxy) fetchZip(ctx context.Context, mod, version, path string) (*modstore.Record, error) {
	lookup := p.startLookup(ctx, mod, version)
	defer lookup.stop()
	body, err := p.up.get(ctx, p.up.base, path, maxZipSize)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(p.tempDir, "fetch-*.zip")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	sum := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, sum), body)
	if err != nil {
		return nil, err
	}
	// x/mod/zip's checks: size limits, file count, paths, case collisions,
	// nothing outside the module's directory.
	if _, err := modzip.CheckZip(module.Version{Path: mod, Version: version}, tmp.Name()); err != nil {
		p.metrics.verifyFailures.WithLabelValues(modstore.Zip).Inc()
		return nil, &VerificationError{mod, version, modstore.Zip, fmt.Errorf("not a valid module zip: %v", err)}
	}
	h, err := modverify.HashZip(tmp.Name())
	if err != nil {
		return nil, &VerificationError{mod, version, modstore.Zip, err}
	}
	if err := p.checkLines(mod, version, h, lookup); err != nil {
		p.metrics.verifyFailures.WithLabelValues(modstore.Zip).Inc()
		return nil, &VerificationError{mod, version, modstore.Zip, err}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rec := &modstore.Record{
		Module: mod, Version: version, Kind: modstore.Zip,
		Size: size, SHA256: hex.EncodeToString(sum.Sum(nil)),
		Hash: h, Source: modstore.SourceUpstream, VerifiedBy: p.sumdb.name, Stored: p.now().UTC(),
	}
	return rec, p.put(ctx, rec, tmp)
}

// lookupResult is a checksum-database lookup running in the background.
type lookupResult struct {
	done   chan struct{}
	cancel context.CancelFunc
	lines  []string
	err    error
}

// startLookup starts looking up mod@version (which may end in "/go.mod")
// in the checksum database; checkLines waits for it. The caller defers
// stop, so that no lookup outlives the fetch that started it.
func (p *Proxy) startLookup(ctx context.Context, mod, version string) *lookupResult {
	ctx, cancel := context.WithCancel(ctx)
	r := &lookupResult{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.done)
		r.lines, r.err = p.sumdb.lookup(ctx, mod, version)
	}()
	return r
}

// stop ends the lookup, if it still runs, and waits for it.
func (r *lookupResult) stop() {
	r.cancel()
	<-r.done
}

// checkSum checks a go.sum hash against the checksum database.
func (p *Proxy) checkSum(ctx context.Context, mod, version, hash string) error {
	lookup := p.startLookup(ctx, mod, version)
	defer lookup.stop()
	return p.checkLines(mod, version, hash, lookup)
}

// checkLines checks a go.sum hash against a lookup's answer.
func (p *Proxy) checkLines(mod, version, hash string, lookup *lookupResult) error {
	<-lookup.done
	lines, err := lookup.lines, lookup.err
	if err != nil {
		return fmt.Errorf("checksum database: %v", err)
	}
	want := mod + " " + version + " " + hash
	if slices.Contains(lines, want) {
		return nil
	}
	if len(lines) == 0 {
		return fmt.Errorf("checksum database %s has no hash for %s %s", p.sumdb.name, mod, version)
	}
	return fmt.Errorf("hash %s differs from the checksum database's %q: this is not the content the module was published with (SECURITY ERROR)", hash, lines[0])
}

// storeBytes stores a small verified module file and its record.
func (p *Proxy) storeBytes(ctx context.Context, mod, version, kind string, data []byte, hash, verifiedBy string) (*modstore.Record, error) {
	sum := sha256.Sum256(data)
	rec := &modstore.Record{
		Module: mod, Version: version, Kind: kind,
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		Hash: hash, Source: modstore.SourceUpstream, VerifiedBy: verifiedBy, Stored: p.now().UTC(),
	}
	return rec, p.put(ctx, rec, bytes.NewReader(data))
}

// put stores a module file and then its record: the record makes the
// write complete, and the first record written wins.
//
// When the file is already stored: with its record, that file and record
// are kept (another fetch, another replica, stored it first). Without a
// record, it is the same bytes (only the record is written), or another
// replica's copy whose record is still being written, or what a crash
// between the two writes left. Another replica's record follows its file
// within moments, so put waits for it (orphanWait) before taking the file
// as a crash's leftover and replacing it.
func (p *Proxy) put(ctx context.Context, rec *modstore.Record, content io.ReadSeeker) error {
	key, err := modstore.ModuleKey(rec.Module, rec.Version, rec.Kind)
	if err != nil {
		return err
	}
	err = p.store.Create(ctx, key, content)
	if errors.Is(err, modstore.ErrExist) {
		other, werr := p.awaitRecord(ctx, rec, key)
		switch {
		case werr != nil:
			return werr
		case other != nil:
			*rec = *other
			return nil
		}
		if same, serr := p.storedIs(ctx, key, rec); serr != nil || !same {
			if _, err := content.Seek(0, io.SeekStart); err != nil {
				return err
			}
			err = p.store.Replace(ctx, key, content)
		} else {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	data, err := rec.Marshal()
	if err != nil {
		return err
	}
	if err := p.store.Create(ctx, key+modstore.RecordSuffix, bytes.NewReader(data)); err != nil {
		if !errors.Is(err, modstore.ErrExist) {
			return fmt.Errorf("store the record of %s: %w", key, err)
		}
		// Another writer's record won; serve what it describes (every read
		// is checked against it).
		other, rerr := modstore.ReadRecord(ctx, p.store, rec.Module, rec.Version, rec.Kind)
		if rerr != nil {
			return rerr
		}
		*rec = *other
	}
	return nil
}

// orphanWait is how long put waits for the record of a stored file that
// has none before it takes the file as a crash's leftover.
const orphanWait = 30 * time.Second

// awaitRecord returns the record of a file that was found stored: at once
// when it has one or when the stored bytes are those of rec, else when
// another writer's record appears within orphanWait; nil when none does.
func (p *Proxy) awaitRecord(ctx context.Context, rec *modstore.Record, key string) (*modstore.Record, error) {
	deadline := time.Now().Add(p.orphanWait)
	for i := 0; ; i++ {
		other, err := modstore.ReadRecord(ctx, p.store, rec.Module, rec.Version, rec.Kind)
		if err == nil {
			return other, nil
		}
		if !errors.Is(err, modstore.ErrNotExist) {
			return nil, err
		}
		if i == 0 {
			// Hashed once: a file of up to 500 MiB is not read again on
			// every poll.
			if same, err := p.storedIs(ctx, key, rec); err == nil && same {
				return nil, nil // the same bytes: writing the record completes it
			}
		}
		if time.Now().After(deadline) {
			p.log.Warn("replacing a stored file that has no record (left by a crash?)", "key", key)
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// storedIs reports whether the object under key holds exactly rec's bytes.
func (p *Proxy) storedIs(ctx context.Context, key string, rec *modstore.Record) (bool, error) {
	obj, err := p.store.Open(ctx, key)
	if err != nil {
		return false, err
	}
	defer obj.Close()
	if obj.Size() != rec.Size {
		return false, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, obj); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == rec.SHA256, nil
}

// upstreamPath is the GOPROXY path of a module file.
func (p *Proxy) upstreamPath(mod, version, kind string) (string, error) {
	ep, err := module.EscapePath(mod)
	if err != nil {
		return "", err
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return "", err
	}
	return "/" + ep + "/@v/" + ev + "." + kind, nil
}
