package logserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"

	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// Limits of the write API.
const (
	// MaxBatchEvents is the most events one NDJSON request may carry.
	MaxBatchEvents = 10000
	// maxBatchBody bounds an NDJSON request body.
	maxBatchBody = 32 << 20
	// maxSingleBody bounds a single-event request body; the canonical event
	// must still fit translog.MaxEventSize.
	maxSingleBody = 4 * translog.MaxEventSize
	// retryAfterSeconds is what a 503 tells clients to wait.
	retryAfterSeconds = 1
)

// Options configure a Server.
type Options struct {
	Home *Home
	// Password supplies the checkpoint keys' password when they are
	// encrypted.
	Password keys.PasswordFunc
	// Logger receives one line per write request and server errors.
	Logger *slog.Logger
	// MaxInFlight bounds the events being appended at once across all
	// requests; more are answered 503 with Retry-After. Zero means twice the
	// configured pushback.
	MaxInFlight int
}

// Server is a running log: a Tessera appender and the HTTP handlers in
// front of it.
type Server struct {
	home     *Home
	log      *slog.Logger
	add      tessera.AddFn
	reader   tessera.LogReader
	shutdown func(context.Context) error
	awaiter  *tessera.PublicationAwaiter
	pubKeys  []byte
	cancel   context.CancelFunc

	inFlight    atomic.Int64
	maxInFlight int64
	metrics     *metrics

	writersMu      sync.Mutex
	writers        *Writers
	writersData    []byte
	writersChecked time.Time
}

// New opens the log's storage and starts its appender. Close stops it.
func New(ctx context.Context, opts Options) (*Server, error) {
	h := opts.Home
	b, err := lookupBackend(h.Config.Storage.Driver)
	if err != nil {
		return nil, err
	}
	signers, err := h.Signers(opts.Password)
	if err != nil {
		return nil, err
	}
	pub, err := os.ReadFile(filepath.Join(h.Dir, PublicKeyFile))
	if err != nil {
		return nil, err
	}
	if _, err := h.Verifiers(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	routeKlog(logger)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	driver, err := b.open(runCtx, h.Dir, h.Config.Storage)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open %s storage: %w", h.Config.Storage.Driver, err)
	}
	c := h.Config
	appendOpts := tessera.NewAppendOptions().
		WithCheckpointSigner(signers[0], signers[1:]...).
		WithBatching(c.Batching.MaxSize, time.Duration(c.Batching.MaxAge)).
		WithCheckpointInterval(time.Duration(c.CheckpointInterval)).
		WithPushback(c.Pushback)
	app, shutdown, reader, err := tessera.NewAppender(runCtx, driver, appendOpts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start the appender: %w", err)
	}
	s := &Server{
		home:        h,
		log:         logger,
		add:         app.Add,
		reader:      reader,
		shutdown:    shutdown,
		awaiter:     tessera.NewPublicationAwaiter(runCtx, reader.ReadCheckpoint, 50*time.Millisecond),
		pubKeys:     pub,
		cancel:      cancel,
		maxInFlight: int64(opts.MaxInFlight),
	}
	if s.maxInFlight <= 0 {
		s.maxInFlight = 2 * int64(c.Pushback)
	}
	s.metrics = newMetrics(s)
	if _, err := s.currentWriters(); err != nil {
		s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// Close stops accepting appends, waits for the appender to write what it
// has accepted, and releases the storage.
func (s *Server) Close(ctx context.Context) error {
	err := s.shutdown(ctx)
	s.cancel()
	return err
}

// Handler serves the write API (POST /add) and the tlog-tiles read API
// (GET /checkpoint, /tile/...), plus /log.pub, /healthz and Prometheus
// metrics at /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+translog.AddPath, s.metrics.instrument(s.handleAdd))
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /"+layout.CheckpointPath, s.handleCheckpoint)
	mux.HandleFunc("GET /tile/", s.handleTile)
	mux.HandleFunc("GET /"+PublicKeyFile, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(s.pubKeys)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.reader.ReadCheckpoint(r.Context()); err != nil {
			http.Error(w, "no checkpoint: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	return mux
}

// currentWriters returns the writers file, read again at most once a
// second, so tokens added or revoked with `hegui log writer` apply without
// a restart. The file is small; comparing its content rather than its
// modification time also catches two changes within one clock tick.
func (s *Server) currentWriters() (*Writers, error) {
	s.writersMu.Lock()
	defer s.writersMu.Unlock()
	if s.writers != nil && time.Since(s.writersChecked) < time.Second {
		return s.writers, nil
	}
	data, err := os.ReadFile(filepath.Join(s.home.Dir, WritersFile))
	s.writersChecked = time.Now()
	if err == nil && s.writers != nil && bytes.Equal(data, s.writersData) {
		return s.writers, nil
	}
	var w *Writers
	if err == nil {
		w, err = ParseWriters(data)
	}
	if err != nil {
		if s.writers != nil {
			s.log.Error("writers file unreadable; keeping the previous list", "err", err)
			return s.writers, nil
		}
		return nil, err
	}
	s.writers, s.writersData = w, data
	return w, nil
}

func (s *Server) authenticate(r *http.Request) (*Writer, error) {
	ws, err := s.currentWriters()
	if err != nil {
		return nil, err
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return ws.AuthenticateCert(r.TLS.VerifiedChains[0][0].Subject.CommonName)
	}
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return nil, ErrUnauthenticated
	}
	return ws.AuthenticateToken(strings.TrimSpace(token))
}

// addResult is the answer to a batch append.
type addResult struct {
	Indexes []uint64 `json:"indexes"`
}

func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	wr, err := s.authenticate(r)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hegui log"`)
			s.fail(w, r, http.StatusUnauthorized, "a valid bearer token or client certificate is required to append")
			return
		}
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	batch := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-ndjson")
	limit := int64(maxSingleBody)
	if batch {
		limit = maxBatchBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if int64(len(body)) > limit {
		s.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", limit))
		return
	}
	entries, status, err := parseEntries(body, batch, wr)
	if err != nil {
		s.fail(w, r, status, err.Error())
		return
	}
	n := int64(len(entries))
	if s.inFlight.Add(n) > s.maxInFlight {
		s.inFlight.Add(-n)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		s.fail(w, r, http.StatusServiceUnavailable, "the log is busy; retry later")
		return
	}
	defer s.inFlight.Add(-n)

	ctx := r.Context()
	futures := make([]tessera.IndexFuture, len(entries))
	for i, e := range entries {
		futures[i] = s.add(ctx, tessera.NewEntry(e))
	}
	indexes := make([]uint64, 0, len(entries))
	var checkpoint []byte
	wait := r.URL.Query().Get("wait") == "checkpoint"
	for _, f := range futures {
		var idx tessera.Index
		var err error
		if wait {
			idx, checkpoint, err = s.awaiter.Await(ctx, f)
		} else {
			idx, err = f()
		}
		if err != nil {
			if errors.Is(err, tessera.ErrPushback) {
				w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
				s.fail(w, r, http.StatusServiceUnavailable, fmt.Sprintf("the log is overloaded after accepting %d of %d events (%v); retry the rest later", len(indexes), len(entries), err))
				return
			}
			s.fail(w, r, http.StatusInternalServerError, "append: "+err.Error())
			return
		}
		indexes = append(indexes, idx.Index)
	}
	w.Header().Set("Content-Type", "application/json")
	if batch {
		json.NewEncoder(w).Encode(addResult{Indexes: indexes})
	} else {
		json.NewEncoder(w).Encode(translog.AddResponse{Index: indexes[0], Checkpoint: string(checkpoint)})
	}
	s.metrics.entries.Add(float64(len(indexes)))
	s.log.Info("append", "writer", wr.Name, "events", len(entries), "first", indexes[0], "ms", time.Since(start).Milliseconds())
}

// parseEntries validates every event of a request and checks the writer
// may log each action, before any of them is appended: a request is taken
// whole or not at all.
func parseEntries(body []byte, batch bool, wr *Writer) ([][]byte, int, error) {
	var lines [][]byte
	if batch {
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64<<10), maxSingleBody)
		for sc.Scan() {
			if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
				lines = append(lines, bytes.Clone(l))
			}
			if len(lines) > MaxBatchEvents {
				return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("more than %d events in one request", MaxBatchEvents)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("line %d: %v", len(lines)+1, err)
		}
		if len(lines) == 0 {
			return nil, http.StatusBadRequest, errors.New("no events in the request")
		}
	} else {
		lines = [][]byte{body}
	}
	out := make([][]byte, len(lines))
	for i, l := range lines {
		where := ""
		if batch {
			where = fmt.Sprintf("line %d: ", i+1)
		}
		e, err := translog.ParseEvent(l)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("%s%v", where, err)
		}
		if err := wr.Authorize(e.Action); err != nil {
			return nil, http.StatusForbidden, fmt.Errorf("%s%v", where, err)
		}
		c, err := e.Canonical()
		if err != nil {
			status := http.StatusBadRequest
			if len(c) == 0 && strings.Contains(err.Error(), "limit") {
				status = http.StatusRequestEntityTooLarge
			}
			return nil, status, fmt.Errorf("%s%v", where, err)
		}
		out[i] = c
	}
	return out, 0, nil
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if status >= 500 {
		s.log.Error("append failed", "status", status, "err", msg, "remote", r.RemoteAddr)
	} else {
		s.log.Warn("append refused", "status", status, "err", msg, "remote", r.RemoteAddr)
	}
	http.Error(w, msg, status)
}

func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp, err := s.reader.ReadCheckpoint(r.Context())
	if err != nil {
		readError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(cp)
}

// tilePathPattern is a C2SP tlog-tiles index path: groups of three digits,
// all but the last prefixed with x, and an optional partial width.
var tileLevelPattern = regexp.MustCompile(`^(?:entries|0|[1-9][0-9]?)$`)

var tilePathPattern = regexp.MustCompile(`^(?:x[0-9]{3}/)*[0-9]{3}(?:\.p/[0-9]{1,3})?$`)

func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/tile/")
	level, index, ok := strings.Cut(rest, "/")
	if !ok || !tilePathPattern.MatchString(index) || !tileLevelPattern.MatchString(level) {
		http.NotFound(w, r)
		return
	}
	var data []byte
	var err error
	if level == "entries" {
		idx, p, perr := layout.ParseTileIndexPartial(index)
		if perr != nil {
			http.NotFound(w, r)
			return
		}
		data, err = s.reader.ReadEntryBundle(r.Context(), idx, p)
	} else {
		l, idx, p, perr := layout.ParseTileLevelIndexPartial(level, index)
		if perr != nil {
			http.NotFound(w, r)
			return
		}
		data, err = s.reader.ReadTile(r.Context(), l, idx, p)
	}
	if err != nil {
		readError(w, err)
		return
	}
	if data == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	// Tiles and bundles never change once written (a partial one is
	// replaced by a new path), so clients and caches may keep them.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(data)
}

func readError(w http.ResponseWriter, err error) {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	http.Error(w, "read: "+err.Error(), http.StatusInternalServerError)
}
