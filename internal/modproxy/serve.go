package modproxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/modstore"
)

// maxBuffered is the largest stored file checked whole before the first
// byte is sent, in a buffer reused across requests; larger files are
// checked as they stream (see streamChecked). Most module zips are smaller
// (restic's graph: median 88 KiB).
const maxBuffered = 1 << 20

// tailHeld is how much of a streamed file is held back until the whole
// file's hash is known; streamChunk is how much is read at a time.
const (
	tailHeld    = 64 << 10
	streamChunk = 256 << 10
)

// Buffers are reused across requests: a response allocates nothing in
// proportion to the file.
var (
	wholeBuffers  = sync.Pool{New: func() any { b := make([]byte, maxBuffered); return &b }}
	streamBuffers = sync.Pool{New: func() any { b := make([]byte, tailHeld+streamChunk); return &b }}
)

var contentTypes = map[string]string{
	modstore.Info: "application/json",
	modstore.Mod:  "text/plain; charset=utf-8",
	modstore.Zip:  "application/zip",
}

// serveStored answers with a stored module file, checked against its
// record as it is read, once. A file that does not match is first checked
// against the store's record, in case the record in hand is an older one
// (the file and its record were replaced since: see recordCache); else it
// is quarantined, and the proxy fetches it again when it can (online,
// public), or the error is returned and nothing of the file is sent.
func (p *Proxy) serveStored(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *modstore.Record) error {
	reloaded, refetched := false, false
	for {
		err := p.sendChecked(ctx, w, r, rec)
		if err == nil || !modstore.IsMismatch(err) {
			return err
		}
		var aborted *errAborted
		// Part of the file went out before the mismatch showed: the
		// connection is cut so that the client never takes it for whole.
		cut := errors.As(err, &aborted)
		if !reloaded {
			reloaded = true
			if fresh := p.reloadRecord(ctx, rec); fresh != nil {
				if cut {
					panic(http.ErrAbortHandler)
				}
				rec = fresh
				continue
			}
		}
		p.quarantine(ctx, rec, err)
		if cut {
			panic(http.ErrAbortHandler)
		}
		if refetched || p.offline || rec.Source == modstore.SourceInternal {
			return err
		}
		refetched = true
		if rec, err = p.ensure(ctx, rec.Module, rec.Version, rec.Kind); err != nil {
			return err
		}
	}
}

// sendChecked writes the stored file to w if, and as, it matches rec.
func (p *Proxy) sendChecked(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *modstore.Record) error {
	key, err := modstore.ModuleKey(rec.Module, rec.Version, rec.Kind)
	if err != nil {
		return err
	}
	obj, err := p.store.Open(ctx, key)
	if errors.Is(err, modstore.ErrNotExist) {
		// The record outlived its file: treat as corrupted.
		return &modstore.MismatchError{Key: key, Want: want(rec), Got: "no file"}
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	if obj.Size() != rec.Size {
		return &modstore.MismatchError{Key: key, Want: want(rec), Got: fmt.Sprintf("%d bytes", obj.Size())}
	}
	if rec.Size <= maxBuffered {
		bp := wholeBuffers.Get().(*[]byte)
		defer wholeBuffers.Put(bp)
		data := (*bp)[:rec.Size]
		if _, err := io.ReadFull(obj, data); err != nil {
			return &modstore.MismatchError{Key: key, Want: want(rec), Got: err.Error()}
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != rec.SHA256 {
			return &modstore.MismatchError{Key: key, Want: want(rec), Got: "sha256 " + hex.EncodeToString(sum[:])}
		}
		setFileHeaders(w, rec)
		p.metrics.servedBytes.WithLabelValues(rec.Kind).Add(float64(rec.Size))
		if r.Method == http.MethodHead {
			return nil
		}
		w.Write(data)
		return nil
	}
	setFileHeaders(w, rec)
	if r.Method == http.MethodHead {
		return nil
	}
	return p.streamChecked(w, obj, rec, key)
}

func setFileHeaders(w http.ResponseWriter, rec *modstore.Record) {
	h := w.Header()
	h.Set("Content-Type", contentTypes[rec.Kind])
	h.Set("Content-Length", strconv.FormatInt(rec.Size, 10))
	h.Set("ETag", `"`+rec.SHA256+`"`)
}

// streamChecked sends a large file while hashing it, holding its last
// tailHeld bytes back until the hash is known. A file that turns out not
// to match is never sent whole: the connection is cut before its end, so
// the client sees a short body (which the Content-Length makes an error)
// rather than different content.
func (p *Proxy) streamChecked(w http.ResponseWriter, obj io.Reader, rec *modstore.Record, key string) error {
	sum := sha256.New()
	bp := streamBuffers.Get().(*[]byte)
	defer streamBuffers.Put(bp)
	buf := *bp
	held := 0 // buf[:held] is read, hashed and not sent yet
	var sent int64
	for {
		n, err := io.ReadFull(obj, buf[held:])
		sum.Write(buf[held : held+n])
		held += n
		if held > tailHeld {
			out := held - tailHeld
			if _, werr := w.Write(buf[:out]); werr != nil {
				return werr
			}
			sent += int64(out)
			held = copy(buf, buf[out:held])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return abortAfter(&modstore.MismatchError{Key: key, Want: want(rec), Got: err.Error()})
		}
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != rec.SHA256 || sent+int64(held) != rec.Size {
		return abortAfter(&modstore.MismatchError{Key: key, Want: want(rec), Got: "sha256 " + got})
	}
	if _, err := w.Write(buf[:held]); err != nil {
		return err
	}
	p.metrics.servedBytes.WithLabelValues(rec.Kind).Add(float64(rec.Size))
	return nil
}

// errAborted marks a response cut short after its headers were sent.
type errAborted struct{ err error }

func (e *errAborted) Error() string { return e.err.Error() }
func (e *errAborted) Unwrap() error { return e.err }

func abortAfter(err error) error { return &errAborted{err} }

func want(rec *modstore.Record) string {
	return fmt.Sprintf("%d bytes, sha256 %s", rec.Size, rec.SHA256)
}

// quarantine moves a stored file that does not match its record out of
// the way: its record is removed first, so that nothing serves the file
// meanwhile, and the file is kept under quarantine/ for the operator to
// inspect. The event is logged.
func (p *Proxy) quarantine(ctx context.Context, rec *modstore.Record, cause error) {
	p.records.forget(rec)
	p.metrics.corrupted.WithLabelValues(rec.Kind).Inc()
	p.event(ctx, Event{Action: "proxy.corrupt", Module: rec.Module, Version: rec.Version, Kind: rec.Kind, Outcome: "failure", Reason: cause.Error()})
	if rec.Source == modstore.SourceInternal {
		// An internal module cannot be fetched again: its files stay where
		// they are, refused until it is published again.
		p.log.Error("stored internal module file does not match its record: refused", "module", rec.Module, "version", rec.Version, "kind", rec.Kind, "err", cause)
		return
	}
	key, err := modstore.ModuleKey(rec.Module, rec.Version, rec.Kind)
	if err != nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := p.store.Delete(ctx, key+modstore.RecordSuffix); err != nil && !errors.Is(err, modstore.ErrNotExist) {
		p.log.Error("quarantine: removing the record failed", "key", key, "err", err)
		return
	}
	qkey := modstore.QuarantineKey(key, p.now())
	if obj, err := p.store.Open(ctx, key); err == nil {
		err = p.store.Create(ctx, qkey, obj)
		obj.Close()
		if err != nil {
			p.log.Error("quarantine: keeping a copy failed", "key", qkey, "err", err)
		}
	}
	if err := p.store.Delete(ctx, key); err != nil && !errors.Is(err, modstore.ErrNotExist) {
		p.log.Error("quarantine: removing the file failed", "key", key, "err", err)
	}
	p.log.Error("stored module file does not match its record: quarantined", "module", rec.Module, "version", rec.Version, "kind", rec.Kind, "kept", qkey, "err", cause)
}

// readChecked reads a small stored module file whole, checked against its
// record.
func (p *Proxy) readChecked(ctx context.Context, rec *modstore.Record) ([]byte, error) {
	key, err := modstore.ModuleKey(rec.Module, rec.Version, rec.Kind)
	if err != nil {
		return nil, err
	}
	data, err := modstore.ReadAll(ctx, p.store, key, maxInfoSize)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != rec.SHA256 || int64(len(data)) != rec.Size {
		err := &modstore.MismatchError{Key: key, Want: want(rec), Got: "sha256 " + hex.EncodeToString(sum[:])}
		if fresh := p.reloadRecord(ctx, rec); fresh != nil && fresh.SHA256 == hex.EncodeToString(sum[:]) && fresh.Size == int64(len(data)) {
			return data, nil // replaced since the record in memory was read
		}
		p.quarantine(ctx, rec, err)
		return nil, err
	}
	return data, nil
}

// info returns a module version's .info, fetching it when it is not
// stored.
func (p *Proxy) info(ctx context.Context, mod, version string) (*Info, error) {
	rec, err := p.ensure(ctx, mod, version, modstore.Info)
	if err != nil {
		return nil, err
	}
	data, err := p.readChecked(ctx, rec)
	if err != nil {
		return nil, err
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s@%s: stored .info: %v", mod, version, err)
	}
	return &info, nil
}

// upstreamQueryPath is the upstream path of a version query's .info.
func (p *Proxy) upstreamQueryPath(mod, query string) (string, error) {
	ep, err := module.EscapePath(mod)
	if err != nil {
		return "", err
	}
	eq, err := module.EscapeVersion(query)
	if err != nil {
		return "", err
	}
	return "/" + ep + "/@v/" + eq + ".info", nil
}

func isCanonical(v string) bool { return module.CanonicalVersion(v) == v }
