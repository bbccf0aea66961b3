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

	"hegui.dev/hegui/internal/httpserve"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// Limits of the write API. docs/audit-log.md lists them with the status
// a request over each gets.
const (
	// MaxBatchEvents is the most events one NDJSON request may carry
	// (translog.MaxBatchEvents). A server takes fewer when its in-flight
	// limit (Options.MaxInFlight) is smaller, and, with a storage driver
	// that pushes back (aws), when its pushback is.
	MaxBatchEvents = translog.MaxBatchEvents
	// maxBatchBody bounds an NDJSON request body.
	maxBatchBody = 32 << 20
	// maxSingleBody bounds a single-event request body and each line of an
	// NDJSON one; the canonical event must still fit translog.MaxEventSize.
	maxSingleBody = 4 * translog.MaxEventSize
	// DefaultMaxBodyBytes is the default of Options.MaxBodyBytes: room for
	// two of the largest NDJSON bodies at once.
	DefaultMaxBodyBytes = 2 * maxBatchBody
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
	// MaxInFlight bounds the events being read, checked and appended at
	// once across all requests. Each event is counted as soon as it is
	// read, so a request is refused as soon as it would go over: with 503
	// and Retry-After while other requests hold the room, and with 413 when
	// it carries more events than the limit, which it can never fit. Zero
	// means twice the larger of the configured pushback and MaxBatchEvents,
	// so that two of the largest batches fit at once.
	MaxInFlight int
	// MaxBodyBytes bounds the bytes of the request bodies being read and
	// appended at once across all requests. A request's share is reserved
	// before its body is read: its Content-Length, or without one the most
	// a request of its kind may send. A request that does not fit is
	// answered 503 with Retry-After, and one larger than MaxBodyBytes 413,
	// in both cases without reading its body. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
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

	// lock is the log home's lock file, held while the server runs when
	// its storage driver allows one server at a time.
	lock *os.File

	inFlight     atomic.Int64
	maxInFlight  int64
	maxBatch     int
	bodyBytes    atomic.Int64
	maxBodyBytes int64
	metrics      *metrics

	writersMu      sync.Mutex
	writers        *Writers
	writersData    []byte
	writersChecked time.Time
}

// New opens the log's storage and starts its appender. Close stops it.
// With a storage driver that allows one server at a time (posix), New
// first locks the log home and fails with ErrHomeInUse while another
// server holds it.
func New(ctx context.Context, opts Options) (_ *Server, err error) {
	h := opts.Home
	b, err := lookupBackend(h.Config.Storage.Driver)
	if err != nil {
		return nil, err
	}
	var lock *os.File
	if b.oneServer {
		if lock, err = lockHome(h.Dir); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				lock.Close()
			}
		}()
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
		home:         h,
		log:          logger,
		add:          app.Add,
		reader:       reader,
		shutdown:     shutdown,
		awaiter:      tessera.NewPublicationAwaiter(runCtx, reader.ReadCheckpoint, 50*time.Millisecond),
		pubKeys:      pub,
		cancel:       cancel,
		lock:         lock,
		maxInFlight:  int64(opts.MaxInFlight),
		maxBodyBytes: opts.MaxBodyBytes,
	}
	if s.maxInFlight <= 0 {
		s.maxInFlight = 2 * max(int64(c.Pushback), MaxBatchEvents)
	}
	if s.maxBodyBytes <= 0 {
		s.maxBodyBytes = DefaultMaxBodyBytes
	}
	// A request never carries more events than can be in flight at once,
	// nor, when the driver pushes back, more than may wait for
	// integration: Tessera would refuse the rest of it however long the
	// client waited.
	s.maxBatch = int(min(MaxBatchEvents, s.maxInFlight))
	if b.pushesBack {
		s.maxBatch = min(s.maxBatch, int(c.Pushback))
	}
	s.metrics = newMetrics(s)
	if _, err := s.currentWriters(); err != nil {
		s.shutdown(ctx)
		s.cancel()
		return nil, err
	}
	return s, nil
}

// Close stops accepting appends, waits for the appender to write what it
// has accepted, releases the storage and unlocks the log home.
func (s *Server) Close(ctx context.Context) error {
	err := s.shutdown(ctx)
	s.cancel()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// answerTimeout is how long a request may take, once read, to be appended
// and answered, besides waiting for a checkpoint.
const answerTimeout = 60 * time.Second

// ServeOptions are how `hegui log serve` runs the handler (package
// httpserve): its defaults, with a write timeout long enough for the largest
// NDJSON body to arrive at about 0.5 MiB/s within the read timeout, to be
// appended within a minute, and for ?wait=checkpoint to see two checkpoint
// intervals pass.
func (s *Server) ServeOptions() httpserve.Options {
	checkpoints := 2 * time.Duration(s.home.Config.CheckpointInterval)
	return httpserve.Options{
		Handler:      s.Handler(),
		WriteTimeout: httpserve.DefaultReadTimeout + answerTimeout + checkpoints,
	}
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
	addPattern := "POST /" + translog.AddPath
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only appends read a request body. Any other request that comes
		// with one is answered and its connection closed, rather than the
		// body read and thrown away at whatever pace the client sends it.
		if r.ContentLength != 0 {
			if _, pattern := mux.Handler(r); pattern != addPattern {
				dropBody(w)
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// dropBody makes the server answer a request and close its connection
// without reading the rest of its body, so that a client cannot hold the
// connection by sending the body slowly. net/http would otherwise read up
// to 256 KiB of an unread body, at the client's pace up to the read
// timeout: Connection: close skips that before the answer, and a read
// deadline in the past ends it after the handler returns.
func dropBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now())
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
	data, err := readWritersFile(filepath.Join(s.home.Dir, WritersFile))
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

// authenticate finds the writer of a request from its verified client
// certificate or its bearer token. It reads headers only, never the body.
func (s *Server) authenticate(r *http.Request) (*Writer, error) {
	ws, err := s.currentWriters()
	if err != nil {
		return nil, err
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return ws.AuthenticateCert(r.TLS.VerifiedChains[0][0].Subject.CommonName)
	}
	// The scheme is case-insensitive (RFC 7235 section 2.1).
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, ErrUnauthenticated
	}
	return ws.AuthenticateToken(strings.TrimSpace(token))
}

// refusal is why an append request is refused before anything of it is
// appended, with the status code that says so.
type refusal struct {
	status int
	msg    string
}

func (e *refusal) Error() string { return e.msg }

func refusef(status int, format string, args ...any) *refusal {
	return &refusal{status: status, msg: fmt.Sprintf(format, args...)}
}

// errBusy refuses a request that does not fit the server's limits now but
// will once other requests are answered.
var errBusy = refusef(http.StatusServiceUnavailable, "the log is busy; retry later")

// reserveUpTo adds n to c unless that would take it over limit, and
// reports whether it did.
func reserveUpTo(c *atomic.Int64, n, limit int64) bool {
	for {
		cur := c.Load()
		if cur+n > limit {
			return false
		}
		if c.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// handleAdd appends the events of a request. Everything that can refuse a
// request without reading its body is checked first: credentials, the
// declared size, and room in the server's body budget. The body is then
// read event by event, each counted in flight as it is read, so no request
// makes the server hold more than its limits.
func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// refuse answers a request before any of it is appended, and closes
	// the connection rather than read the rest of the body.
	refuse := func(err error) {
		var rf *refusal
		if !errors.As(err, &rf) {
			rf = refusef(http.StatusInternalServerError, "%v", err)
		}
		if rf.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		}
		dropBody(w)
		s.fail(w, r, rf.status, rf.msg)
	}
	wr, err := s.authenticate(r)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hegui log"`)
			err = refusef(http.StatusUnauthorized, "a valid bearer token or client certificate is required to append")
		}
		refuse(err)
		return
	}
	batch := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-ndjson")
	limit := int64(maxSingleBody)
	if batch {
		limit = maxBatchBody
	}
	limit = min(limit, s.maxBodyBytes)
	if r.ContentLength > limit {
		refuse(refusef(http.StatusRequestEntityTooLarge, "body of %d bytes is larger than %d bytes", r.ContentLength, limit))
		return
	}
	reserved := limit
	if r.ContentLength >= 0 {
		reserved = r.ContentLength
	}
	if !reserveUpTo(&s.bodyBytes, reserved, s.maxBodyBytes) {
		refuse(errBusy)
		return
	}
	defer s.bodyBytes.Add(-reserved)
	body := http.MaxBytesReader(w, r.Body, reserved)
	var entries [][]byte
	if batch {
		entries, err = s.readBatch(body, reserved, wr)
	} else {
		entries, err = s.readSingle(body, wr)
	}
	if err != nil {
		refuse(err)
		return
	}
	defer s.inFlight.Add(-int64(len(entries)))

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
		json.NewEncoder(w).Encode(translog.BatchResponse{Indexes: indexes})
	} else {
		json.NewEncoder(w).Encode(translog.AddResponse{Index: indexes[0], Checkpoint: string(checkpoint)})
	}
	s.metrics.entries.Add(float64(len(indexes)))
	s.log.Info("append", "writer", wr.Name, "events", len(entries), "first", indexes[0], "ms", time.Since(start).Milliseconds())
}

// readSingle reads and checks the one event of a JSON request and counts
// it in flight.
func (s *Server) readSingle(body io.Reader, wr *Writer) ([][]byte, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyError(err)
	}
	c, err := checkEvent(data, wr)
	if err != nil {
		return nil, err
	}
	if !reserveUpTo(&s.inFlight, 1, s.maxInFlight) {
		return nil, errBusy
	}
	return [][]byte{c}, nil
}

// readBatch reads the events of an NDJSON request line by line, checks
// each and counts it in flight. Nothing is appended until every line has
// been read and checked, so one bad line refuses the whole request. On
// error the events it counted are released.
func (s *Server) readBatch(body io.Reader, size int64, wr *Writer) (entries [][]byte, err error) {
	defer func() {
		if err != nil {
			s.inFlight.Add(-int64(len(entries)))
			entries = nil
		}
	}()
	// A line, with its newline, fits the buffer; a longer one is refused
	// without being held.
	br := bufio.NewReaderSize(body, int(min(size, maxSingleBody)+1))
	for n := 1; ; n++ {
		line, rerr := br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			return entries, refusef(http.StatusBadRequest, "line %d: longer than %d bytes", n, maxSingleBody)
		}
		if rerr != nil && rerr != io.EOF {
			return entries, bodyError(rerr)
		}
		if l := bytes.TrimSpace(line); len(l) > 0 {
			if len(entries) == s.maxBatch {
				return entries, refusef(http.StatusRequestEntityTooLarge, "more than %d events in one request", s.maxBatch)
			}
			c, err := checkEvent(l, wr)
			if err != nil {
				var rf *refusal
				errors.As(err, &rf)
				return entries, refusef(rf.status, "line %d: %s", n, rf.msg)
			}
			if !reserveUpTo(&s.inFlight, 1, s.maxInFlight) {
				return entries, errBusy
			}
			entries = append(entries, c)
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(entries) == 0 {
		return entries, refusef(http.StatusBadRequest, "no events in the request")
	}
	return entries, nil
}

// bodyError is the refusal for a body that could not be read: one over
// its limit, or one cut short.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return refusef(http.StatusRequestEntityTooLarge, "body larger than %d bytes", tooLarge.Limit)
	}
	return refusef(http.StatusBadRequest, "read body: %v", err)
}

// checkEvent validates one event, checks the writer may log its action
// and returns its canonical encoding. Its errors are refusals.
func checkEvent(data []byte, wr *Writer) ([]byte, error) {
	e, err := translog.ParseEvent(data)
	if err != nil {
		return nil, refusef(http.StatusBadRequest, "%v", err)
	}
	if err := wr.Authorize(e.Action); err != nil {
		return nil, refusef(http.StatusForbidden, "%v", err)
	}
	c, err := e.Canonical()
	if err != nil {
		status := http.StatusBadRequest
		if len(c) == 0 && strings.Contains(err.Error(), "limit") {
			status = http.StatusRequestEntityTooLarge
		}
		return nil, refusef(status, "%v", err)
	}
	return c, nil
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
