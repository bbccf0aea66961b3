package translog

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Backpressure is what Handle does when the buffer between the logging
// goroutines and the sender is full.
type Backpressure int

const (
	// Block makes Handle wait for room in the buffer, or until the context
	// of the log call is done. No event is dropped, but a log call can take
	// as long as the log server is slow (and, without a spool, as long as
	// it is down).
	Block Backpressure = iota
	// Drop makes Handle return at once when the buffer is full; the event
	// is dropped and counted in HandlerStats.Dropped. Logging never waits,
	// at the price of losing events under load.
	Drop
)

// String returns "block" or "drop".
func (b Backpressure) String() string {
	switch b {
	case Block:
		return "block"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Backpressure(%d)", int(b))
}

// HandlerOptions configure a Handler. Only Application is required.
type HandlerOptions struct {
	// Application names the program that reports the events (RFC 5424
	// APP-NAME, at most 48 bytes). It is also the actor of events that do
	// not carry an "actor" attribute.
	Application string
	// Host is the machine the events happen on; empty means os.Hostname.
	Host string
	// Level is the lowest level handled; nil means slog.LevelInfo.
	Level slog.Leveler
	// BufferSize is how many events wait in memory for the sender; 0 means
	// 1024. The sender holds up to 64 more that it is working on.
	BufferSize int
	// Backpressure is what Handle does when the buffer is full: Block (the
	// default) or Drop.
	Backpressure Backpressure
	// SpoolPath is the file events are written to while the log is
	// unavailable, and replayed from when it is back (see docs/audit-log-slog.md).
	// Its directory must exist. Empty means no spool: the sender then keeps
	// retrying the events it holds, the buffer fills, and Backpressure
	// decides what happens to further events.
	SpoolPath string
	// RetryInterval is the wait after the first failed send; it doubles
	// after each further failure up to MaxRetryInterval, and a longer
	// Retry-After from the server is honoured up to that bound. Zero means
	// one second.
	RetryInterval time.Duration
	// MaxRetryInterval bounds the wait between retries; zero means one
	// minute.
	MaxRetryInterval time.Duration
	// ErrorHandler receives every problem the handler can not solve by
	// itself: events refused (by the schema before sending, or by the log
	// with a RejectedError) as *EventError, events logged after Close, spool
	// file errors and unreadable spool lines. It may be called from several
	// goroutines at once and must not log through this handler. Nil means
	// the errors are written to standard error.
	ErrorHandler func(error)
}

// HandlerStats counts what happened to the events a Handler was given.
type HandlerStats struct {
	// Sent counts events the log acknowledged.
	Sent uint64
	// Spooled counts events written to the spool file while the log was
	// unavailable; each is counted again in Sent once replayed.
	Spooled uint64
	// Dropped counts events given up without delivery: the buffer was full
	// under Drop, the log call's context ended while blocked, the event was
	// logged after Close, Close gave up before it was sent or spooled, or
	// its spool line was unreadable.
	Dropped uint64
	// Rejected counts events refused for what they are, by the schema
	// before sending or by the log; they are not retried.
	Rejected uint64
}

// ErrHandlerClosed is the error of a log call after Close.
var ErrHandlerClosed = errors.New("translog: the audit log handler is closed")

// EventError reports an event that was not delivered and never will be.
type EventError struct {
	Event Event
	// Err is a *RejectedError from the log, the schema violation found
	// before sending, or ErrHandlerClosed.
	Err error
}

// Error names the event by its action and time, and says why it was not
// delivered.
func (e *EventError) Error() string {
	return fmt.Sprintf("audit event (action %q, time %s) not delivered: %v",
		clip(e.Event.Action), e.Event.Time.UTC().Format(time.RFC3339Nano), e.Err)
}

// Unwrap returns Err.
func (e *EventError) Unwrap() error { return e.Err }

// Handler is a log/slog handler that turns records into audit events and
// appends them to a log in the background. Handle builds and checks the
// event and puts it into a bounded buffer; one goroutine sends the buffer
// in order, spooling to a file while the log is unavailable. See
// docs/audit-log-slog.md for how records map to events.
//
// A Handler is safe for concurrent use. Handlers derived with WithAttrs and
// WithGroup share the buffer, the sender and the spool: Close and Stats on
// any of them act on all.
type Handler struct {
	d      *delivery
	prefix string // the open groups, each followed by a dot
	fields eventFields
}

// NewHandler returns a handler that appends to a and starts its sender. If
// the spool file holds events from an earlier run, the sender replays them
// first. Call Close to flush the buffer and stop the sender.
func NewHandler(a Appender, opts HandlerOptions) (*Handler, error) {
	return newHandler(a, opts, time.Now)
}

func newHandler(a Appender, opts HandlerOptions, now func() time.Time) (*Handler, error) {
	if a == nil {
		return nil, errors.New("translog: NewHandler needs an Appender, such as one from NewHTTPAppender")
	}
	if opts.Application == "" {
		return nil, errors.New("translog: HandlerOptions.Application is empty: name the program that reports the events")
	}
	if err := checkText("application", opts.Application, maxAppName, true); err != nil {
		return nil, fmt.Errorf("translog: HandlerOptions.Application: %w", err)
	}
	if opts.Host == "" {
		if h, err := os.Hostname(); err == nil && checkText("host", h, maxShortField, false) == nil {
			opts.Host = h
		}
	}
	if err := checkText("host", opts.Host, maxShortField, false); err != nil {
		return nil, fmt.Errorf("translog: HandlerOptions.Host: %w", err)
	}
	if opts.Level == nil {
		opts.Level = slog.LevelInfo
	}
	switch {
	case opts.BufferSize < 0:
		return nil, fmt.Errorf("translog: HandlerOptions.BufferSize is %d; use a positive size or 0 for the default", opts.BufferSize)
	case opts.BufferSize == 0:
		opts.BufferSize = 1024
	}
	if opts.Backpressure != Block && opts.Backpressure != Drop {
		return nil, fmt.Errorf("translog: HandlerOptions.Backpressure is %v; use Block or Drop", opts.Backpressure)
	}
	if opts.RetryInterval < 0 || opts.MaxRetryInterval < 0 {
		return nil, errors.New("translog: HandlerOptions.RetryInterval and MaxRetryInterval must not be negative")
	}
	if opts.RetryInterval == 0 {
		opts.RetryInterval = time.Second
	}
	if opts.MaxRetryInterval == 0 {
		opts.MaxRetryInterval = max(time.Minute, opts.RetryInterval)
	}
	if opts.MaxRetryInterval < opts.RetryInterval {
		return nil, fmt.Errorf("translog: HandlerOptions.MaxRetryInterval (%v) is shorter than RetryInterval (%v)", opts.MaxRetryInterval, opts.RetryInterval)
	}

	ctx, cancel := context.WithCancel(context.Background())
	d := &delivery{
		log:      a,
		opts:     opts,
		now:      now,
		queue:    make(chan queued, opts.BufferSize),
		stopSend: cancel,
		done:     make(chan struct{}),
	}
	s := &sender{d: d, queueOpen: true, wait: opts.RetryInterval, retry: time.NewTimer(time.Hour)}
	s.retry.Stop()
	if opts.SpoolPath != "" {
		sp, err := openSpool(opts.SpoolPath, d)
		if err != nil {
			cancel()
			return nil, err
		}
		s.spool = sp
	}
	go s.run(ctx)
	return &Handler{d: d}, nil
}

// Enabled reports whether level is at least HandlerOptions.Level.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.d.opts.Level.Level()
}

// Handle turns r into an event and queues it for sending. It does not wait
// for the log; under Block it waits for room in the buffer. It returns an
// *EventError, also given to the ErrorHandler, when the event does not
// match the schema, and an error when the event was dropped or the handler
// is closed.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	e := h.event(ctx, r)
	line, err := e.Canonical()
	if err != nil {
		err := &EventError{Event: e, Err: err}
		h.d.rejected.Add(1)
		h.d.report(err)
		return err
	}
	return h.d.enqueue(ctx, queued{event: e, line: line})
}

// WithAttrs returns a handler whose events carry attrs as well.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.fields = h.fields.clone()
	for _, a := range attrs {
		h2.fields.add(h.prefix, a)
	}
	return &h2
}

// WithGroup returns a handler that puts the attributes of later calls
// into the group name: their attribute keys get the prefix "name.".
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// Stats returns the handler's counters.
func (h *Handler) Stats() HandlerStats {
	return HandlerStats{
		Sent:     h.d.sent.Load(),
		Spooled:  h.d.spooled.Load(),
		Dropped:  h.d.dropped.Load(),
		Rejected: h.d.rejected.Load(),
	}
}

// Close stops taking events and waits until every buffered event has been
// sent or written to the spool. With a spool whose log is still
// unavailable, that takes one more replay attempt and then only local
// writes. When ctx ends first, Close stops the sender: events not yet sent
// are spooled if there is a spool and dropped otherwise, and Close returns
// an error if any were dropped. The Appender must return promptly once its
// context is cancelled. Closing again returns the same result.
func (h *Handler) Close(ctx context.Context) error {
	d := h.d
	d.closeOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		go func() {
			// No Handle can start sending now; close the queue once
			// those already sending are done.
			d.handling.Wait()
			close(d.queue)
		}()
	})
	select {
	case <-d.done:
	case <-ctx.Done():
		d.stopSend()
		<-d.done
	}
	return d.closeErr
}

// traceparentKey is the context key of WithTraceparent.
type traceparentKey struct{}

// WithTraceparent returns a context that carries a W3C traceparent header
// value. Handle takes an event's Traceparent from it when the record has
// no "traceparent" attribute.
func WithTraceparent(ctx context.Context, traceparent string) context.Context {
	return context.WithValue(ctx, traceparentKey{}, traceparent)
}

// eventFields collects what attributes contribute to an event.
type eventFields struct {
	actor, action, object, outcome, traceparent, tracestate string

	attrs   map[string]string
	digests []Digest
}

func (f eventFields) clone() eventFields {
	f.attrs = maps.Clone(f.attrs)
	f.digests = slices.Clip(f.digests)
	return f
}

// add adds a with the group prefix. Well-known keys outside any group set
// event fields, digests go to Digests wherever they are, and everything
// else becomes an attribute named by its groups and key joined with dots.
func (f *eventFields) add(prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		group := a.Value.Group()
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, ga := range group {
			f.add(prefix, ga)
		}
		return
	}
	if a.Key == "" {
		return
	}
	if a.Value.Kind() == slog.KindAny {
		switch v := a.Value.Any().(type) {
		case Digest:
			f.digests = append(f.digests, v)
			return
		case []Digest:
			f.digests = append(f.digests, v...)
			return
		}
	}
	s := attrString(a.Value)
	if prefix == "" {
		switch a.Key {
		case "actor":
			f.actor = s
			return
		case "action":
			f.action = s
			return
		case "object":
			f.object = s
			return
		case "outcome":
			f.outcome = s
			return
		case "traceparent":
			f.traceparent = s
			return
		case "tracestate":
			f.tracestate = s
			return
		}
	}
	if f.attrs == nil {
		f.attrs = make(map[string]string)
	}
	f.attrs[prefix+a.Key] = s
}

func attrString(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().UTC().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return v.String()
}

// event builds the event for r; Canonical checks it.
func (h *Handler) event(ctx context.Context, r slog.Record) Event {
	f := h.fields
	f.digests = slices.Clip(f.digests)
	f.attrs = map[string]string{"level": r.Level.String()}
	maps.Copy(f.attrs, h.fields.attrs)
	r.Attrs(func(a slog.Attr) bool {
		f.add(h.prefix, a)
		return true
	})
	t := r.Time
	if t.IsZero() {
		t = h.d.now()
	}
	e := Event{
		Schema:      EventSchema,
		Time:        t.UTC(),
		Actor:       cmp.Or(f.actor, h.d.opts.Application),
		Action:      cmp.Or(f.action, levelAction(r.Level)),
		Object:      f.object,
		Outcome:     cmp.Or(f.outcome, OutcomeUnknown),
		Host:        h.d.opts.Host,
		Application: h.d.opts.Application,
		Message:     r.Message,
		Digests:     f.digests,
		Attributes:  f.attrs,
	}
	tp := f.traceparent
	if tp == "" && ctx != nil {
		tp, _ = ctx.Value(traceparentKey{}).(string)
	}
	// Trace context often comes from a request header: a malformed one
	// is left out rather than costing the audit event.
	if tp != "" && checkTraceparent(tp) == nil {
		e.Traceparent = tp
		if checkText("tracestate", f.tracestate, 512, false) == nil {
			e.Tracestate = f.tracestate
		}
	}
	return e
}

// levelAction is the action of a record without an "action" attribute:
// "log.debug", "log.info", "log.warn" or "log.error", and for levels in
// between, named as slog names them, "log.info-plus-2" or "log.debug-minus-4".
func levelAction(l slog.Level) string {
	name, base := "debug", slog.LevelDebug
	switch {
	case l >= slog.LevelError:
		name, base = "error", slog.LevelError
	case l >= slog.LevelWarn:
		name, base = "warn", slog.LevelWarn
	case l >= slog.LevelInfo:
		name, base = "info", slog.LevelInfo
	}
	switch d := l - base; {
	case d > 0:
		return fmt.Sprintf("log.%s-plus-%d", name, d)
	case d < 0:
		return fmt.Sprintf("log.%s-minus-%d", name, -d)
	}
	return "log." + name
}

// queued is an event in the buffer with its canonical encoding, the line
// written to the spool.
type queued struct {
	event Event
	line  []byte
}

// delivery is the state shared by a Handler and the handlers derived from
// it.
type delivery struct {
	log  Appender
	opts HandlerOptions
	now  func() time.Time

	queue chan queued
	// mu orders Close after the Handle calls that saw the handler open, so
	// the queue is closed only when nothing can send on it.
	mu        sync.RWMutex
	closed    bool
	handling  sync.WaitGroup
	closeOnce sync.Once
	stopSend  context.CancelFunc // stops the sender when Close gives up
	done      chan struct{}      // closed when the sender has stopped
	closeErr  error              // set by the sender before done is closed

	sent, spooled, dropped, rejected atomic.Uint64
}

func (d *delivery) report(err error) {
	if d.opts.ErrorHandler != nil {
		d.opts.ErrorHandler(err)
		return
	}
	fmt.Fprintf(os.Stderr, "translog: %v\n", err)
}

func (d *delivery) enqueue(ctx context.Context, q queued) error {
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		d.dropped.Add(1)
		err := &EventError{Event: q.event, Err: ErrHandlerClosed}
		d.report(err)
		return err
	}
	d.handling.Add(1)
	d.mu.RUnlock()
	defer d.handling.Done()

	select {
	case d.queue <- q:
		return nil
	default:
	}
	if d.opts.Backpressure == Drop {
		d.dropped.Add(1)
		return errors.New("translog: audit event dropped: the buffer is full")
	}
	select {
	case d.queue <- q:
		return nil
	case <-ctx.Done():
		d.dropped.Add(1)
		return fmt.Errorf("translog: audit event dropped while waiting for room in the buffer: %w", ctx.Err())
	}
}

// maxBatch is how many events the sender takes from the queue at once, and
// so the most it writes to the spool with one fsync.
const maxBatch = 64

// sender is the state of the goroutine that delivers events. Only that
// goroutine touches it.
type sender struct {
	d     *delivery
	spool *spool // nil without SpoolPath
	// held are events taken from the queue and neither sent nor spooled,
	// oldest first; they come after everything in the spool.
	held      []queued
	queueOpen bool
	// finalAttempt is set once the queue is closed and the last replay
	// attempt has been made.
	finalAttempt bool

	wait         time.Duration // the next wait after a failure
	retry        *time.Timer
	retryC       <-chan time.Time // non-nil while a retry is scheduled
	spoolFailing bool             // the last spool write failed
}

func (s *sender) run(ctx context.Context) {
	defer close(s.d.done)
	if s.backlog() {
		s.replay(ctx)
	}
	for {
		s.flushHeld(ctx)
		if ctx.Err() != nil {
			s.stop(s.abandon())
			return
		}
		if !s.queueOpen && !s.finalAttempt {
			// Close: everything taken is spooled or sent; one more
			// try to empty the spool before stopping.
			s.finalAttempt = true
			if s.backlog() {
				s.replay(ctx)
			}
			continue
		}
		if !s.queueOpen && len(s.held) == 0 {
			s.stop(0)
			return
		}
		var queue <-chan queued
		if s.queueOpen && len(s.held) < maxBatch {
			queue = s.d.queue
		}
		select {
		case q, ok := <-queue:
			if !ok {
				s.queueOpen = false
				continue
			}
			s.held = append(s.held, q)
			s.take(maxBatch)
		case <-s.retryC:
			s.retryC = nil
			if s.backlog() {
				s.replay(ctx)
			}
		case <-ctx.Done():
		}
	}
}

// take moves up to n waiting events from the queue to held without
// blocking.
func (s *sender) take(n int) {
	for ; n > 0 && s.queueOpen && len(s.held) < maxBatch; n-- {
		select {
		case q, ok := <-s.d.queue:
			if !ok {
				s.queueOpen = false
				return
			}
			s.held = append(s.held, q)
		default:
			return
		}
	}
}

func (s *sender) backlog() bool { return s.spool != nil && s.spool.backlog() }

// flushHeld sends the held events, or spools them while the spool has a
// backlog, which must be replayed first to keep the order.
func (s *sender) flushHeld(ctx context.Context) {
	for len(s.held) > 0 && ctx.Err() == nil {
		if s.retryC != nil && (s.spool == nil || s.spoolFailing) {
			return // waiting out a failure
		}
		if s.backlog() {
			s.spoolHeld()
			return
		}
		if done, err := s.send(ctx, s.held[0].event); !done {
			// Unavailable, or an error this handler can not classify:
			// keep the event.
			if ctx.Err() == nil && (s.spool == nil || s.spoolHeld()) {
				s.scheduleRetry(err)
			}
			return
		}
		s.held[0] = queued{}
		s.held = s.held[1:]
	}
}

// send appends one event and reports whether it is done with: sent, or
// refused for good (counted and reported). Otherwise the event must be
// kept and err says why.
func (s *sender) send(ctx context.Context, e Event) (done bool, err error) {
	_, err = s.d.log.Append(ctx, e)
	var rejected *RejectedError
	switch {
	case err == nil:
		s.d.sent.Add(1)
		s.wait = s.d.opts.RetryInterval
		return true, nil
	case errors.As(err, &rejected):
		s.d.rejected.Add(1)
		s.d.report(&EventError{Event: e, Err: err})
		return true, nil
	}
	return false, err
}

// spoolHeld appends the held events to the spool and reports whether that
// worked. On failure they stay held and a retry is scheduled.
func (s *sender) spoolHeld() bool {
	if len(s.held) == 0 {
		return true
	}
	if err := s.spool.append(s.held); err != nil {
		s.spoolFailing = true
		s.d.report(err)
		s.scheduleRetry(nil)
		return false
	}
	s.spoolFailing = false
	s.d.spooled.Add(uint64(len(s.held)))
	clear(s.held)
	s.held = s.held[:0]
	return true
}

func (s *sender) scheduleRetry(err error) {
	wait := s.wait
	var u *UnavailableError
	if errors.As(err, &u) && u.RetryAfter > wait {
		wait = min(u.RetryAfter, s.d.opts.MaxRetryInterval)
	}
	s.wait = min(2*s.wait, s.d.opts.MaxRetryInterval)
	s.retry.Reset(wait)
	s.retryC = s.retry.C
}

// replay sends the spool from where the last replay stopped, in order. New
// events that arrive meanwhile are appended to the spool, so the buffer
// does not fill while a long backlog drains. It stops at the first event
// the log can not take now and schedules a retry; once the spool is empty
// it truncates it.
func (s *sender) replay(ctx context.Context) {
	sp := s.spool
	s.retry.Stop()
	s.retryC = nil
	r := bufio.NewReaderSize(&fileReader{f: sp.f, pos: sp.offset}, 64<<10)
	for sp.offset < sp.size {
		line, err := r.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			s.d.report(fmt.Errorf("spool %q: ends at byte %d, %d bytes short of what was written; was it changed by something else?", sp.path, sp.offset, sp.size-sp.offset))
			sp.size = sp.offset
			break
		}
		if err != nil && err != io.EOF {
			s.d.report(fmt.Errorf("spool %q: read at byte %d: %w", sp.path, sp.offset, err))
			s.scheduleRetry(nil)
			return
		}
		if !bytes.HasSuffix(line, []byte("\n")) {
			s.d.dropped.Add(1)
			s.d.report(fmt.Errorf("spool %q: the %d bytes at byte %d are an incomplete line; skipped", sp.path, len(line), sp.offset))
			sp.offset += int64(len(line))
			continue
		}
		e, err := ParseEvent(line[:len(line)-1])
		if err != nil {
			s.d.dropped.Add(1)
			s.d.report(fmt.Errorf("spool %q: the line at byte %d is not an audit event; skipped: %w", sp.path, sp.offset, err))
			sp.offset += int64(len(line))
			continue
		}
		if done, err := s.send(ctx, e); !done {
			if ctx.Err() == nil {
				s.scheduleRetry(err)
			}
			return
		}
		sp.offset += int64(len(line))
		// Spool what arrived meanwhile, at most what is waiting now so
		// the replay keeps going under a steady stream of events.
		for n := len(s.d.queue); n > 0 && !s.spoolFailing; n -= maxBatch {
			s.take(min(n, maxBatch))
			if !s.spoolHeld() {
				break
			}
		}
	}
	if err := sp.empty(); err != nil {
		s.d.report(err)
	}
}

// abandon gives up sending once Close's context has ended: it spools what
// it can and counts the rest as dropped, returning how many that was. It
// keeps taking events until the queue is closed, so Handle calls still
// waiting for room finish.
func (s *sender) abandon() int {
	for q := range s.d.queue {
		s.held = append(s.held, q)
		if s.spool != nil && len(s.held) >= maxBatch {
			s.spoolHeld()
		}
	}
	if s.spool != nil {
		s.spoolHeld()
	}
	lost := len(s.held)
	s.d.dropped.Add(uint64(lost))
	s.held = nil
	return lost
}

// stop releases the spool and records Close's result.
func (s *sender) stop(lost int) {
	s.retry.Stop()
	var errs []error
	if lost > 0 {
		errs = append(errs, fmt.Errorf("translog: Close gave up with %d audit events neither sent nor spooled", lost))
	}
	if s.spool != nil {
		if err := s.spool.close(); err != nil {
			s.d.report(err)
			errs = append(errs, err)
		}
	}
	s.d.closeErr = errors.Join(errs...)
}

// spool is the file of events waiting for the log: canonical JSON, one
// event a line, oldest first. Events before offset have been delivered in
// this run; a restart replays the whole file.
type spool struct {
	path   string
	f      *os.File // open for reading and appending while the handler runs
	size   int64    // bytes in the file
	offset int64    // bytes replayed
}

func (sp *spool) backlog() bool { return sp.offset < sp.size }

// openSpool opens or creates the spool file. A final line without its
// newline is what a crash in the middle of a write leaves; it is cut off
// and reported, so replay and new events start on a line of their own.
func openSpool(path string, d *delivery) (*spool, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("translog: open spool: %w (its directory must exist and be writable)", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		syncDir(filepath.Dir(path))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("translog: spool: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("translog: spool %q is not a regular file", path)
	}
	sp := &spool{path: path, f: f, size: fi.Size()}
	complete, err := completeLines(f, sp.size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("translog: spool %q: %w", path, err)
	}
	if complete < sp.size {
		if err := f.Truncate(complete); err != nil {
			f.Close()
			return nil, fmt.Errorf("translog: spool %q: cutting off an incomplete last line: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("translog: spool %q: %w", path, err)
		}
		d.dropped.Add(1)
		d.report(fmt.Errorf("spool %q: the last %d bytes were an incomplete line, most likely from a crash while writing; discarded", path, sp.size-complete))
		sp.size = complete
	}
	return sp, nil
}

// completeLines returns the length of f up to and including its last
// newline.
func completeLines(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// append writes the events as lines and syncs the file. On failure it cuts
// the file back so no partial line stays behind.
func (sp *spool) append(batch []queued) error {
	var buf bytes.Buffer
	for _, q := range batch {
		buf.Write(q.line)
		buf.WriteByte('\n')
	}
	_, err := sp.f.Write(buf.Bytes())
	if err == nil {
		err = sp.f.Sync()
	}
	if err != nil {
		sp.f.Truncate(sp.size)
		return fmt.Errorf("spool %q: %w", sp.path, err)
	}
	sp.size += int64(buf.Len())
	return nil
}

// empty truncates the spool once everything in it has been delivered. If
// that fails the delivered events stay in the file and are skipped in this
// run, but sent again after a restart.
func (sp *spool) empty() error {
	if err := sp.f.Truncate(0); err != nil {
		sp.offset = sp.size
		return fmt.Errorf("spool %q: emptying after replay: %w", sp.path, err)
	}
	sp.size, sp.offset = 0, 0
	return nil
}

// close removes an empty spool. One with a backlog stays for the next run,
// rewritten without the events already delivered.
func (sp *spool) close() error {
	if !sp.backlog() {
		sp.f.Close()
		if err := os.Remove(sp.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("spool %q: %w", sp.path, err)
		}
		return nil
	}
	if sp.offset == 0 {
		return sp.f.Close()
	}
	err := sp.compact()
	sp.f.Close()
	return err
}

// compact replaces the spool by its backlog: a new file renamed over the
// old one, so a crash leaves one or the other whole.
func (sp *spool) compact() error {
	tmp, err := os.CreateTemp(filepath.Dir(sp.path), filepath.Base(sp.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("spool %q: dropping delivered events: %w", sp.path, err)
	}
	_, err = io.Copy(tmp, io.NewSectionReader(sp.f, sp.offset, sp.size-sp.offset))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), sp.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("spool %q: dropping delivered events (they will be sent again): %w", sp.path, err)
	}
	syncDir(filepath.Dir(sp.path))
	return nil
}

// syncDir makes a new or renamed directory entry durable, where the system
// allows it.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// fileReader reads f from pos on with ReadAt, seeing what is appended to f
// after earlier reads hit the end.
type fileReader struct {
	f   *os.File
	pos int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.f.ReadAt(p, r.pos)
	r.pos += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}
