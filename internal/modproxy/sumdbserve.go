package modproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"hegui.dev/hegui/internal/modstore"
)

// serveSumDB answers the checksum-database proxy's paths
// (/sumdb/NAME/supported, latest, lookup/..., tile/...), so that clients
// keep GOSUMDB on and reach the database only through the proxy.
//
// A lookup is answered from the store, where the proxy keeps every record
// it verified; a lookup not stored yet is verified first (online). Tiles
// are answered from the store when the proxy verified them, else passed on
// from the upstream (the go command verifies them itself). Offline, what
// is not stored is 404.
func (p *Proxy) serveSumDB(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) {
	if p.private != nil && req.sumdbName == p.private.name {
		p.private.serve(w, r, req.sumdbFile)
		return
	}
	if req.sumdbName != p.sumdb.name {
		httpError(w, http.StatusNotFound, "this proxy serves the checksum database "+p.sumdb.name+", not "+req.sumdbName)
		return
	}
	switch {
	case req.sumdbFile == "supported":
		w.WriteHeader(http.StatusOK)
	case req.sumdbFile == "latest":
		p.serveSumDBLatest(ctx, w)
	case req.module != "":
		p.serveSumDBLookup(ctx, w, req)
	default:
		p.serveSumDBTile(ctx, w, req)
	}
}

func (p *Proxy) serveSumDBLatest(ctx context.Context, w http.ResponseWriter) {
	if !p.offline {
		data, err := p.sumdb.fetchLatest(ctx)
		if err == nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(data)
			return
		}
		p.log.Warn("checksum database latest failed: answering the stored tree head", "err", err)
	}
	p.serveSumDBStored(ctx, w, "latest", "the proxy has no tree head of "+p.sumdb.name+" stored")
}

func (p *Proxy) serveSumDBLookup(ctx context.Context, w http.ResponseWriter, req request) {
	if p.isInternal(req.module) {
		// Never ask the public database about an internal name: that would
		// leak it, and it has no answer.
		p.metrics.refusals.WithLabelValues("internal").Inc()
		httpError(w, http.StatusForbidden, "hegui proxy refused (internal): "+req.module+" is an internal module, which no public checksum database knows; set GONOSUMDB (or GOPRIVATE) to the internal module patterns")
		return
	}
	data, err := p.sumdb.readStored(ctx, req.sumdbFile, maxSumDBLookup)
	if err == nil {
		// Served from the bytes just read: a stored lookup is not opened twice.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
		return
	}
	if !errors.Is(err, modstore.ErrNotExist) || p.offline {
		p.serveSumDBStored(ctx, w, req.sumdbFile, req.module+"@"+req.version+" has no stored checksum-database record (the proxy is offline)")
		return
	}
	// Verify it (which stores it), then serve the stored record.
	if _, err := p.sumdb.lookup(ctx, req.module, req.version); err != nil {
		var upErr *upstreamError
		if errors.As(err, &upErr) && upErr.notFound() {
			httpError(w, http.StatusNotFound, err.Error())
			return
		}
		p.log.Warn("checksum database lookup failed", "module", req.module, "version", req.version, "err", err)
		httpError(w, http.StatusBadGateway, err.Error())
		return
	}
	p.serveSumDBStored(ctx, w, req.sumdbFile, req.module+"@"+req.version+": no checksum-database record")
}

func (p *Proxy) serveSumDBTile(ctx context.Context, w http.ResponseWriter, req request) {
	t, err := tlog.ParseTilePath(req.sumdbFile)
	if err != nil {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	if data, err := p.sumdb.readStored(ctx, req.sumdbFile, maxSumDBTile); err == nil {
		writeTile(w, data)
		return
	}
	if t.L >= 0 && t.W < 1<<t.H {
		// A partial tile is a prefix of the full tile, once that is stored.
		full := t
		full.W = 1 << t.H
		if data, err := p.sumdb.readStored(ctx, full.Path(), maxSumDBTile); err == nil && len(data) >= t.W*tlog.HashSize {
			writeTile(w, data[:t.W*tlog.HashSize])
			return
		}
	}
	if p.offline {
		httpError(w, http.StatusNotFound, "tile "+req.sumdbFile+" is not stored (the proxy is offline)")
		return
	}
	body, err := p.up.get(ctx, p.sumdb.url, "/"+req.sumdbFile, maxSumDBTile)
	if err != nil {
		var upErr *upstreamError
		if errors.As(err, &upErr) && upErr.Status >= 400 && upErr.Status < 500 {
			httpError(w, upErr.Status, err.Error())
			return
		}
		httpError(w, http.StatusBadGateway, err.Error())
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	io.Copy(w, body)
}

func writeTile(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// serveSumDBStored answers with a stored checksum-database object, or 404.
func (p *Proxy) serveSumDBStored(ctx context.Context, w http.ResponseWriter, file, missing string) {
	obj, err := p.sumdb.open(ctx, file)
	if errors.Is(err, modstore.ErrNotExist) {
		httpError(w, http.StatusNotFound, missing)
		return
	}
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.FormatInt(obj.Size(), 10))
	copyObject(w, obj)
}
