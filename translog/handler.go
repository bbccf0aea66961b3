package translog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
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

// Every error the handler returns or gives its ErrorHandler begins with
// "translog: ", once.
var (
	// ErrHandlerClosed is the reason of the EventError of a log call after Close.
	ErrHandlerClosed = errors.New("translog: the audit log handler is closed")
	// ErrDropped is matched (errors.Is) by the error of a log call whose
	// event was dropped: the buffer was full under Drop, or the call's
	// context ended while it waited for room under Block.
	ErrDropped = errors.New("translog: audit event dropped")
)

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
	return fmt.Sprintf("translog: audit event (action %q, time %s) not delivered: %s",
		clip(e.Event.Action), e.Event.Time.UTC().Format(time.RFC3339Nano), strings.TrimPrefix(e.Err.Error(), "translog: "))
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
	d      *outbox
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
	d := &outbox{
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
