package modproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/internal/modstore"
)

// routes sets up the proxy's endpoints: /healthz, /metrics, /sumdb/ and the
// module paths.
func (p *Proxy) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", p.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.metrics.registry, promhttp.HandlerOpts{}))
	p.mux = mux
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
		p.mux.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	req, parsed := p.admit(sw, r)
	p.metrics.requests.WithLabelValues(metricKind(req.kind, parsed), strconv.Itoa(sw.code())).Inc()
}

// admit checks the method, parses the path, authenticates the client and
// serves the request. It returns the parsed request for the metrics.
func (p *Proxy) admit(w *statusWriter, r *http.Request) (request, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "a module proxy answers GET and HEAD")
		return request{}, false
	}
	// The go command percent-encodes the '!' of case-encoded paths
	// ("/github.com/%21burnt%21sushi/toml/@v/list"); net/http decodes
	// r.URL.Path, and parseRequest checks what it decoded to as the go
	// command checks module paths, so an encoded "." or ".." gains
	// nothing. What decoding would hide is refused: an encoded '/' (a path
	// element that is not one), an encoded '%' (a second round of
	// decoding) and control characters.
	if raw := strings.ToLower(r.RequestURI); strings.Contains(raw, "%2f") || strings.Contains(raw, "%25") || strings.ContainsFunc(r.URL.Path, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		httpError(w, http.StatusBadRequest, "an encoded '/', '%' or control character is not part of a module proxy path")
		return request{}, false
	}
	req, err := parseRequest(r.URL.Path)
	if err != nil {
		httpError(w, http.StatusNotFound, err.Error())
		return request{}, false
	}
	client, ok := p.auth.authenticate(w, r)
	if !ok {
		return req, true
	}
	ctx := r.Context()
	switch req.kind {
	case kindSumDB:
		p.serveSumDB(ctx, w, r, req)
	case kindList:
		p.serveList(ctx, w, r, req, client)
	case kindLatest:
		p.serveLatest(ctx, w, r, req, client)
	case modstore.SignatureExt, modstore.LogProofExt:
		p.servePublication(ctx, w, req, client)
	default:
		p.serveModuleFile(ctx, w, r, req, client)
	}
	return req, true
}

func (p *Proxy) serveHealth(w http.ResponseWriter, r *http.Request) {
	if _, err := p.store.List(r.Context(), "modules/"); err != nil {
		httpError(w, http.StatusServiceUnavailable, "store: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// serveModuleFile answers .info, .mod and .zip.
func (p *Proxy) serveModuleFile(ctx context.Context, w http.ResponseWriter, r *http.Request, req request, client string) {
	if req.kind == modstore.Info && !isCanonical(req.version) {
		p.serveInfoQuery(ctx, w, r, req)
		return
	}
	rec, err := p.ensure(ctx, req.module, req.version, req.kind)
	if err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	if rec.Source == modstore.SourceInternal || p.isInternal(req.module) {
		v, err := p.verifyInternal(ctx, req.module, req.version)
		if err != nil {
			p.fail(ctx, w, req, client, err)
			return
		}
		// Serve only the bytes the verified record describes: the store
		// may have changed since this request read its record.
		if vr := v.Record(req.kind); vr != nil && (vr.SHA256 != rec.SHA256 || vr.Size != rec.Size) {
			p.fail(ctx, w, req, client, &RefusedError{Rule: "internal", Reason: fmt.Sprintf("%s@%s: its %s changed while it was verified", req.module, req.version, req.kind),
				Fix: "ask again; if it persists, the store is being tampered with"})
			return
		}
	}
	if req.kind != modstore.Mod {
		// A go.mod is served whatever the policy: the go command reads the
		// go.mod of versions it never builds to walk the module graph.
		if err := p.checkPolicy(ctx, req.module, req.version); err != nil {
			p.fail(ctx, w, req, client, err)
			return
		}
	}
	if req.kind == modstore.Zip {
		if err := p.checkGates(ctx, rec); err != nil {
			p.fail(ctx, w, req, client, err)
			return
		}
	}
	if err := p.serveStored(ctx, w, r, rec); err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	switch req.kind {
	case modstore.Info:
		p.prefetchZip(req.module, req.version)
	case modstore.Zip:
		p.event(ctx, Event{Action: "proxy.fetch", Client: client, Module: req.module, Version: req.version, Kind: req.kind, Outcome: "success"})
	}
}

// servePublication answers an internal module version's .sig or .tlog,
// once the publication verifies, so that clients can check it themselves
// (hegui mod verify).
func (p *Proxy) servePublication(ctx context.Context, w http.ResponseWriter, req request, client string) {
	if !p.isInternal(req.module) {
		httpError(w, http.StatusNotFound, fmt.Sprintf("%s is not an internal module: it has no publication here", req.module))
		return
	}
	if _, err := p.verifyInternal(ctx, req.module, req.version); err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	key, err := modstore.ModuleKey(req.module, req.version, req.kind)
	if err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	data, err := modstore.ReadAll(ctx, p.store, key, modsign.MaxSignatureSize)
	if err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// verifyInternal checks an internal module version's signature and log
// proof.
func (p *Proxy) verifyInternal(ctx context.Context, mod, version string) (*modsign.VerifiedVersion, error) {
	if p.internals == nil {
		return nil, &RefusedError{Rule: "internal", Reason: fmt.Sprintf("%s@%s is an internal module and this proxy trusts no publisher", mod, version),
			Fix: "configure the publishers' public keys (internal.publishers in proxy.yaml)"}
	}
	v, err := p.internals.VerifyVersion(ctx, p.store, mod, version)
	if err != nil {
		p.metrics.verifyFailures.WithLabelValues("internal").Inc()
		return nil, &RefusedError{Rule: "internal", Reason: fmt.Sprintf("%s@%s: %v", mod, version, err),
			Fix: "publish it again with hegui proxy publish, signed by a trusted key", Err: err}
	}
	return v, nil
}

// serveInfoQuery answers an .info for a query that is not a canonical
// version (a branch, a commit): the upstream resolves it, and nothing is
// stored under the query's name.
func (p *Proxy) serveInfoQuery(ctx context.Context, w http.ResponseWriter, r *http.Request, req request) {
	if p.offline || p.isInternal(req.module) {
		httpError(w, http.StatusNotFound, fmt.Sprintf("%s@%s: this proxy answers only released versions here (offline or internal)", req.module, req.version))
		return
	}
	path, err := p.upstreamQueryPath(req.module, req.version)
	if err != nil {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	data, err := p.up.getAll(ctx, p.up.base, path, maxInfoSize)
	if err != nil {
		p.fail(ctx, w, req, "", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

// fail answers a request that cannot be served, with the status the go
// command reads correctly: 404 for "not here", 403 for a refusal (the go
// command stops and prints its text), 502 for an upstream or a stored file
// that failed.
func (p *Proxy) fail(ctx context.Context, w http.ResponseWriter, req request, client string, err error) {
	var (
		refused   *RefusedError
		verify    *VerificationError
		upErr     *upstreamError
		mismatch  *modstore.MismatchError
		badRecord *modstore.RecordError
	)
	switch {
	case errors.As(err, &refused):
		p.metrics.refusals.WithLabelValues(refused.Rule).Inc()
		p.event(ctx, Event{Action: "proxy.refuse", Client: client, Module: req.module, Version: req.version, Kind: req.kind, Outcome: "failure", Reason: refused.Error()})
		httpError(w, http.StatusForbidden, refused.Error())
	case errors.As(err, &verify):
		p.metrics.refusals.WithLabelValues("verification").Inc()
		p.event(ctx, Event{Action: "proxy.refuse", Client: client, Module: req.module, Version: req.version, Kind: req.kind, Outcome: "failure", Reason: verify.Error()})
		p.log.Error("refused unverifiable module file", "module", req.module, "version", req.version, "kind", req.kind, "err", verify.Err)
		httpError(w, http.StatusForbidden, "hegui proxy: "+verify.Error())
	case errors.Is(err, modstore.ErrNotExist):
		what := "not stored in this proxy"
		if p.offline {
			what += " (it is offline: warm or import the module on a connected proxy)"
		} else if p.isInternal(req.module) {
			what += " (an internal module: publish it with hegui proxy publish)"
		}
		name := req.module
		if req.version != "" {
			name += "@" + req.version
		}
		httpError(w, http.StatusNotFound, fmt.Sprintf("%s: %s", name, what))
	case errors.As(err, &upErr) && upErr.notFound():
		httpError(w, http.StatusNotFound, upErr.Error())
	case errors.As(err, &upErr) && upErr.Status == http.StatusForbidden:
		httpError(w, http.StatusForbidden, "the upstream refused: "+upErr.Error())
	case errors.As(err, &upErr):
		p.log.Warn("upstream failed", "module", req.module, "version", req.version, "err", err)
		httpError(w, http.StatusBadGateway, err.Error())
	case errors.As(err, &badRecord):
		p.log.Error("stored record is damaged", "err", err)
		httpError(w, http.StatusBadGateway, fmt.Sprintf("hegui proxy: %s@%s: the stored record of its %s is damaged, so it is not served; the operator can remove the record (the file is fetched again) or restore it", req.module, req.version, badRecord.Kind))
	case errors.As(err, &mismatch):
		httpError(w, http.StatusBadGateway, "hegui proxy: "+err.Error()+"; it was quarantined and is not served")
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		// The detail (store paths, system errors) goes to the operator's
		// log, not to clients.
		p.log.Error("request failed", "module", req.module, "version", req.version, "kind", req.kind, "err", err)
		httpError(w, http.StatusInternalServerError, fmt.Sprintf("hegui proxy: %s@%s: internal error (the proxy's log has the detail)", req.module, req.version))
	}
}

// httpError answers with a one-line plain-text reason, which the go
// command prints after "server response:".
func httpError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("ETag")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, strings.ReplaceAll(msg, "\n", " ")+"\n")
}

// statusWriter remembers the status code of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
