package translog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"
)

// switchLog is an Appender that tests switch between up, down and refusing;
// it records what it accepted.
type switchLog struct {
	// hold, when set before use, makes Append wait until it is closed.
	hold chan struct{}
	// calls, when set before use, receives every event Append is called
	// with, if there is room.
	calls chan Event

	mu        sync.Mutex
	down      bool
	downAfter int // go down once this many events are accepted; 0 is never
	refuse    func(Event) bool
	accepted  []Event
	attempts  []string // the message of every call
}

func (l *switchLog) Append(ctx context.Context, e Event) (uint64, error) {
	if l.calls != nil {
		select {
		case l.calls <- e:
		default:
		}
	}
	if l.hold != nil {
		select {
		case <-l.hold:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, e.Message)
	if l.down {
		return 0, &UnavailableError{Err: errors.New("connection refused")}
	}
	if l.refuse != nil && l.refuse(e) {
		return 0, &RejectedError{Status: 422, Message: "refused by the test"}
	}
	l.accepted = append(l.accepted, e)
	if len(l.accepted) == l.downAfter {
		l.down = true
	}
	return uint64(len(l.accepted) - 1), nil
}

func (l *switchLog) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
}

func (l *switchLog) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return eventMessages(l.accepted)
}

func (l *switchLog) attemptsOf(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.attempts {
		if m == msg {
			n++
		}
	}
	return n
}

func eventMessages(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Message)
	}
	return out
}

// errorList collects what a handler reports.
type errorList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// all returns the reports, failing t for any that does not begin with the
// package's prefix exactly once.
func (l *errorList) all(t *testing.T) []error {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		if msg := err.Error(); !strings.HasPrefix(msg, "translog: ") || strings.Count(msg, "translog: ") != 1 {
			t.Errorf("reported %q: want one \"translog: \" prefix", msg)
		}
	}
	return slices.Clone(l.errs)
}

// clockTime is what the test clock says; a record without a time gets it.
var clockTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// recordTime is the time of the records the tests make themselves.
var recordTime = time.Date(2026, 5, 17, 8, 30, 0, 123456789, time.UTC)

// newTestHandler returns a handler on log with the test clock and, unless
// opts says otherwise, host "test-host", application "billing", quick
// retries and an ErrorHandler that fails the test.
func newTestHandler(t *testing.T, log Appender, opts HandlerOptions) *Handler {
	t.Helper()
	if opts.Application == "" {
		opts.Application = "billing"
	}
	if opts.Host == "" {
		opts.Host = "test-host"
	}
	if opts.RetryInterval == 0 {
		opts.RetryInterval = time.Millisecond
		opts.MaxRetryInterval = 5 * time.Millisecond
	}
	if opts.ErrorHandler == nil {
		opts.ErrorHandler = func(err error) { t.Errorf("unexpected report from the handler: %v", err) }
	}
	h, err := newHandler(log, opts, func() time.Time { return clockTime })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A test that failed half-way may leave the log holding calls;
		// Close's deadline cancels them.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		h.Close(ctx)
	})
	return h
}

func closeHandler(t *testing.T, h *Handler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// logEvent logs "event N" at Info with the record time.
func logEvent(t *testing.T, h slog.Handler, n int) {
	t.Helper()
	if err := h.Handle(context.Background(), slog.NewRecord(recordTime, slog.LevelInfo, fmt.Sprintf("event %d", n), 0)); err != nil {
		t.Fatalf("Handle event %d: %v", n, err)
	}
}

func eventNames(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("event %d", i))
	}
	return out
}

// await waits for cond, failing the test after ten seconds.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// spoolMessages reads the spool file as the next run would.
func spoolMessages(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		e, err := ParseEvent([]byte(strings.TrimSuffix(line, "\n")))
		if err != nil {
			t.Fatalf("spool line %q: %v", line, err)
		}
		out = append(out, e.Message)
	}
	return out
}

const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestHandlerMapsRecords(t *testing.T) {
	sbom := Digest{Name: "sbom.spdx.json", Algorithm: "sha256", Value: strings.Repeat("ab", 32)}
	binary := Digest{Name: "hello", Algorithm: "sm3", Value: strings.Repeat("cd", 32)}
	base := Event{
		Schema:      EventSchema,
		Time:        recordTime,
		Actor:       "billing",
		Action:      "log.info",
		Outcome:     OutcomeUnknown,
		Host:        "test-host",
		Application: "billing",
		Message:     "invoice sent",
		Attributes:  map[string]string{"level": "INFO"},
	}
	with := func(f func(e *Event)) Event {
		e := base
		e.Attributes = map[string]string{"level": "INFO"}
		f(&e)
		return e
	}
	tests := []struct {
		name   string
		derive func(slog.Handler) slog.Handler
		ctx    context.Context
		level  slog.Level
		zero   bool // a record without a time
		attrs  []any
		want   Event
	}{
		{
			name: "defaults",
			want: base,
		},
		{
			name: "well-known keys",
			attrs: []any{"actor", "alice", "action", "invoice.send", "object", "invoice:42",
				"outcome", "success", "traceparent", testTraceparent, "tracestate", "vendor=1", "request_id", "r-9"},
			want: with(func(e *Event) {
				e.Actor, e.Action, e.Object, e.Outcome = "alice", "invoice.send", "invoice:42", OutcomeSuccess
				e.Traceparent, e.Tracestate = testTraceparent, "vendor=1"
				e.Attributes["request_id"] = "r-9"
			}),
		},
		{
			name: "groups and With",
			derive: func(h slog.Handler) slog.Handler {
				return h.WithAttrs([]slog.Attr{slog.String("actor", "alice")}).WithGroup("req").WithAttrs([]slog.Attr{slog.Int("id", 7)})
			},
			attrs: []any{"path", "/pay", slog.Group("client", "ip", "192.0.2.1"), "actor", "not the actor"},
			want: with(func(e *Event) {
				e.Actor = "alice"
				e.Attributes["req.id"] = "7"
				e.Attributes["req.path"] = "/pay"
				e.Attributes["req.client.ip"] = "192.0.2.1"
				e.Attributes["req.actor"] = "not the actor"
			}),
		},
		{
			name:  "inline and empty groups",
			attrs: []any{slog.Group("", "a", "b"), slog.Group("empty"), "c", "d"},
			want: with(func(e *Event) {
				e.Attributes["a"] = "b"
				e.Attributes["c"] = "d"
			}),
		},
		{
			name:   "digests",
			derive: func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.Any("sbom", sbom)}) },
			attrs:  []any{slog.Any("files", []Digest{binary}), slog.Group("g", slog.Any("again", sbom))},
			want:   with(func(e *Event) { e.Digests = []Digest{sbom, binary, sbom} }),
		},
		{
			name:  "value kinds",
			attrs: []any{"at", recordTime.In(time.FixedZone("CST", 8*3600)), "took", 1500 * time.Millisecond, "err", errors.New("disk full"), "ok", true, "n", 3.5},
			want: with(func(e *Event) {
				e.Attributes["at"] = "2026-05-17T08:30:00.123456789Z"
				e.Attributes["took"] = "1.5s"
				e.Attributes["err"] = "disk full"
				e.Attributes["ok"] = "true"
				e.Attributes["n"] = "3.5"
			}),
		},
		{
			name: "traceparent from the context",
			ctx:  WithTraceparent(context.Background(), testTraceparent),
			want: with(func(e *Event) { e.Traceparent = testTraceparent }),
		},
		{
			name:  "traceparent attribute wins over the context",
			ctx:   WithTraceparent(context.Background(), "00-11111111111111111111111111111111-2222222222222222-01"),
			attrs: []any{"traceparent", testTraceparent},
			want:  with(func(e *Event) { e.Traceparent = testTraceparent }),
		},
		{
			name:  "malformed trace context is left out",
			ctx:   WithTraceparent(context.Background(), "00-not-a-trace-01"),
			attrs: []any{"tracestate", "vendor=1"},
			want:  base,
		},
		{
			name:  "warn",
			level: slog.LevelWarn,
			want:  with(func(e *Event) { e.Action = "log.warn"; e.Attributes["level"] = "WARN" }),
		},
		{
			name:  "between levels",
			level: slog.LevelError + 2,
			want:  with(func(e *Event) { e.Action = "log.error-plus-2"; e.Attributes["level"] = "ERROR+2" }),
		},
		{
			name:  "below debug",
			level: slog.LevelDebug - 4,
			want:  with(func(e *Event) { e.Action = "log.debug-minus-4"; e.Attributes["level"] = "DEBUG-4" }),
		},
		{
			name: "zero record time takes the clock",
			zero: true,
			want: with(func(e *Event) { e.Time = clockTime }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &switchLog{}
			h := newTestHandler(t, log, HandlerOptions{Level: slog.LevelDebug - 8})
			var sh slog.Handler = h
			if tt.derive != nil {
				sh = tt.derive(sh)
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			when := recordTime
			if tt.zero {
				when = time.Time{}
			}
			level := tt.level
			if level == 0 {
				level = slog.LevelInfo
			}
			r := slog.NewRecord(when, level, "invoice sent", 0)
			r.Add(tt.attrs...)
			if err := sh.Handle(ctx, r); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			closeHandler(t, h)
			if len(log.accepted) != 1 {
				t.Fatalf("the log got %d events, want 1", len(log.accepted))
			}
			got, err := log.accepted[0].Canonical()
			if err != nil {
				t.Fatal(err)
			}
			want, err := tt.want.Canonical()
			if err != nil {
				t.Fatalf("the expected event is invalid: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("event\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestLevelAction(t *testing.T) {
	for level, want := range map[slog.Level]string{
		slog.LevelDebug - 1: "log.debug-minus-1",
		slog.LevelDebug:     "log.debug",
		slog.LevelDebug + 1: "log.debug-plus-1",
		slog.LevelInfo:      "log.info",
		slog.LevelInfo + 3:  "log.info-plus-3",
		slog.LevelWarn:      "log.warn",
		slog.LevelError:     "log.error",
		slog.LevelError + 8: "log.error-plus-8",
	} {
		got := levelAction(level)
		if got != want {
			t.Errorf("levelAction(%v) = %q, want %q", level, got, want)
		}
		if !actionPattern.MatchString(got) {
			t.Errorf("levelAction(%v) = %q is not a valid action", level, got)
		}
	}
}

func TestHandlerSlogtest(t *testing.T) {
	var (
		log *switchLog
		h   *Handler
	)
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		log = &switchLog{}
		h = newTestHandler(t, log, HandlerOptions{})
		return h
	}, func(t *testing.T) map[string]any {
		closeHandler(t, h)
		if len(log.accepted) != 1 {
			t.Fatalf("the log got %d events, want 1", len(log.accepted))
		}
		return slogtestResult(log.accepted[0])
	})
}

// slogtestResult turns an event into what slogtest inspects: the level
// and the attributes, nested by group again, the message, and the time
// unless it came from the test clock, which is what the handler uses in
// place of a zero record time.
func slogtestResult(e Event) map[string]any {
	m := map[string]any{slog.MessageKey: e.Message}
	if !e.Time.Equal(clockTime) {
		m[slog.TimeKey] = e.Time
	}
	for k, v := range e.Attributes {
		groups := strings.Split(k, ".")
		g := m
		for _, name := range groups[:len(groups)-1] {
			sub, ok := g[name].(map[string]any)
			if !ok {
				sub = map[string]any{}
				g[name] = sub
			}
			g = sub
		}
		g[groups[len(groups)-1]] = v
	}
	return m
}

func TestHandlerRefusesInvalidEvents(t *testing.T) {
	many := make([]any, 0, 2*maxAttributes)
	for i := range maxAttributes {
		many = append(many, "k"+strconv.Itoa(i), "v")
	}
	tests := []struct {
		name    string
		message string
		attrs   []any
		field   string
	}{
		{"action", "x", []any{"action", "Invoice Sent"}, "action:"},
		{"outcome", "x", []any{"outcome", "maybe"}, "outcome:"},
		{"control character", "bell\a", nil, "message:"},
		{"too many attributes", "x", many, "attributes:"},
		{"digest", "x", []any{"d", Digest{Name: "a", Algorithm: "md5", Value: "00"}}, "digests[0]:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &switchLog{}
			var reports errorList
			h := newTestHandler(t, log, HandlerOptions{ErrorHandler: reports.add})
			r := slog.NewRecord(recordTime, slog.LevelInfo, tt.message, 0)
			r.Add(tt.attrs...)
			err := h.Handle(context.Background(), r)
			var ee *EventError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Handle returned %v, want an *EventError about %s", err, tt.field)
			}
			logEvent(t, h, 1)
			closeHandler(t, h)
			if got := reports.all(t); len(got) != 1 || got[0] != err {
				t.Errorf("ErrorHandler got %v, want exactly the error Handle returned", got)
			}
			if got, want := log.messages(), []string{"event 1"}; !slices.Equal(got, want) {
				t.Errorf("the log got %q, want %q", got, want)
			}
			if s := h.Stats(); s.Rejected != 1 || s.Sent != 1 {
				t.Errorf("stats %+v, want 1 rejected and 1 sent", s)
			}
		})
	}
}

func TestHandlerLogRejects(t *testing.T) {
	for _, viaSpool := range []bool{false, true} {
		t.Run(fmt.Sprintf("via spool %v", viaSpool), func(t *testing.T) {
			log := &switchLog{refuse: func(e Event) bool { return e.Message == "event 1" }}
			var reports errorList
			opts := HandlerOptions{ErrorHandler: reports.add}
			if viaSpool {
				opts.SpoolPath = filepath.Join(t.TempDir(), "audit.spool")
				log.setDown(true)
			}
			h := newTestHandler(t, log, opts)
			for i := range 3 {
				logEvent(t, h, i)
			}
			if viaSpool {
				await(t, "3 events are spooled", func() bool { return h.Stats().Spooled == 3 })
				log.setDown(false)
			}
			closeHandler(t, h)
			if got, want := log.messages(), []string{"event 0", "event 2"}; !slices.Equal(got, want) {
				t.Errorf("the log got %q, want %q", got, want)
			}
			if n := log.attemptsOf("event 1"); n != 1 {
				t.Errorf("the refused event was sent %d times, want once", n)
			}
			errs := reports.all(t)
			var ee *EventError
			var rejected *RejectedError
			if len(errs) != 1 || !errors.As(errs[0], &ee) || !errors.As(errs[0], &rejected) || ee.Event.Message != "event 1" {
				t.Errorf("ErrorHandler got %v, want one *EventError for event 1 wrapping a *RejectedError", errs)
			}
			if s := h.Stats(); s.Rejected != 1 || s.Sent != 2 || s.Dropped != 0 {
				t.Errorf("stats %+v, want 1 rejected, 2 sent, none dropped", s)
			}
		})
	}
}

func TestHandlerBackpressure(t *testing.T) {
	const buffer = 4
	for _, bp := range []Backpressure{Block, Drop} {
		t.Run(bp.String(), func(t *testing.T) {
			log := &switchLog{hold: make(chan struct{}), calls: make(chan Event, 100)}
			h := newTestHandler(t, log, HandlerOptions{BufferSize: buffer, Backpressure: bp})

			// The sender takes event 0 and waits in Append; events 1-4
			// fill the buffer.
			logEvent(t, h, 0)
			<-log.calls
			for i := 1; i <= buffer; i++ {
				logEvent(t, h, i)
			}

			want := eventNames(0, buffer+1)
			switch bp {
			case Drop:
				for i := buffer + 1; i < buffer+4; i++ {
					r := slog.NewRecord(recordTime, slog.LevelInfo, fmt.Sprintf("event %d", i), 0)
					if err := h.Handle(context.Background(), r); !errors.Is(err, ErrDropped) || strings.Count(err.Error(), "translog: ") != 1 {
						t.Errorf("Handle event %d with a full buffer: %v, want ErrDropped with one prefix", i, err)
					}
				}
				if s := h.Stats(); s.Dropped != 3 {
					t.Errorf("stats %+v, want 3 dropped", s)
				}
				close(log.hold)
			case Block:
				blocked := make(chan error)
				go func() {
					blocked <- h.Handle(context.Background(), slog.NewRecord(recordTime, slog.LevelInfo, "event 5", 0))
				}()
				cancelled, cancel := context.WithCancel(context.Background())
				cancel()
				if err := h.Handle(cancelled, slog.NewRecord(recordTime, slog.LevelInfo, "given up", 0)); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrDropped) {
					t.Errorf("Handle with a cancelled context and a full buffer: %v, want ErrDropped and context.Canceled", err)
				}
				time.Sleep(20 * time.Millisecond)
				select {
				case err := <-blocked:
					t.Fatalf("Handle returned (%v) while the buffer was full", err)
				default:
				}
				close(log.hold)
				if err := <-blocked; err != nil {
					t.Fatalf("blocked Handle: %v", err)
				}
				want = eventNames(0, buffer+2)
				if s := h.Stats(); s.Dropped != 1 {
					t.Errorf("stats %+v, want only the cancelled call dropped", s)
				}
			}
			closeHandler(t, h)
			if got := log.messages(); !slices.Equal(got, want) {
				t.Errorf("the log got %q, want %q", got, want)
			}
		})
	}
}

func TestHandlerSpoolsWhileDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.spool")
	log := &switchLog{down: true}
	h := newTestHandler(t, log, HandlerOptions{SpoolPath: path, BufferSize: 8})

	for i := range 100 {
		logEvent(t, h, i)
	}
	await(t, "100 events are spooled", func() bool { return h.Stats().Spooled == 100 })
	if got, want := spoolMessages(t, path), eventNames(0, 100); !slices.Equal(got, want) {
		t.Fatalf("spool holds %q, want %q", got, want)
	}

	// Events logged while the spool is replayed go after it.
	log.setDown(false)
	for i := 100; i < 150; i++ {
		logEvent(t, h, i)
	}
	await(t, "150 events are sent", func() bool { return h.Stats().Sent == 150 })
	await(t, "the replayed spool is emptied", func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() == 0
	})
	logEvent(t, h, 150)
	closeHandler(t, h)

	if got, want := log.messages(), eventNames(0, 151); !slices.Equal(got, want) {
		t.Errorf("the log got %q, want %q", got, want)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("after Close the empty spool still exists (%v)", err)
	}
	if s := h.Stats(); s.Sent != 151 || s.Dropped != 0 || s.Rejected != 0 {
		t.Errorf("stats %+v, want 151 sent, nothing dropped or rejected", s)
	}
}

func TestHandlerSpoolSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.spool")

	// First run: the log is down throughout; Close leaves the events in
	// the spool.
	down := &switchLog{down: true}
	h := newTestHandler(t, down, HandlerOptions{SpoolPath: path})
	for i := range 5 {
		logEvent(t, h, i)
	}
	closeHandler(t, h)
	if s := h.Stats(); s.Spooled != 5 || s.Sent != 0 || s.Dropped != 0 {
		t.Errorf("first run: stats %+v, want 5 spooled", s)
	}
	if got, want := spoolMessages(t, path), eventNames(0, 5); !slices.Equal(got, want) {
		t.Fatalf("spool after the first run holds %q, want %q", got, want)
	}

	// Second run: the log takes two events and goes down again; the spool
	// keeps the other three, and the event logged in this run after them.
	flaky := &switchLog{downAfter: 2}
	h = newTestHandler(t, flaky, HandlerOptions{SpoolPath: path})
	logEvent(t, h, 5)
	closeHandler(t, h)
	if got, want := flaky.messages(), eventNames(0, 2); !slices.Equal(got, want) {
		t.Errorf("second run: the log got %q, want %q", got, want)
	}
	if got, want := spoolMessages(t, path), eventNames(2, 6); !slices.Equal(got, want) {
		t.Fatalf("spool after the second run holds %q, want %q", got, want)
	}

	// Third run: the log is up; everything arrives in order.
	up := &switchLog{}
	h = newTestHandler(t, up, HandlerOptions{SpoolPath: path})
	logEvent(t, h, 6)
	closeHandler(t, h)
	if got, want := up.messages(), eventNames(2, 7); !slices.Equal(got, want) {
		t.Errorf("third run: the log got %q, want %q", got, want)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("after the third run the spool still exists (%v)", err)
	}
}

func TestHandlerReplaysDamagedSpool(t *testing.T) {
	event0, event1 := spoolLine(t, "event 0"), spoolLine(t, "event 1")
	torn := `{"action":"log.info","actor":"billing","mess`
	tests := []struct {
		name    string
		content string // what an earlier run left in the spool
		want    []string
		report  string
	}{
		{"torn last line", event0 + event1 + torn, []string{"event 0", "event 1"}, "incomplete line"},
		{"only a torn line", torn, nil, "incomplete line"},
		{"garbage line", event0 + "not json\n" + event1, []string{"event 0", "event 1"}, "not an audit event"},
		{"intact", event0 + event1, []string{"event 0", "event 1"}, ""},
		{"empty", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.spool")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			// The log is down at first, so a new event is appended to
			// the spool after what the earlier run left.
			log := &switchLog{down: true}
			var reports errorList
			h := newTestHandler(t, log, HandlerOptions{SpoolPath: path, ErrorHandler: reports.add})
			r := slog.NewRecord(recordTime, slog.LevelInfo, "new", 0)
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			await(t, "the new event is spooled", func() bool { return h.Stats().Spooled == 1 })
			log.setDown(false)
			closeHandler(t, h)

			if got, want := log.messages(), append(slices.Clone(tt.want), "new"); !slices.Equal(got, want) {
				t.Errorf("the log got %q, want %q", got, want)
			}
			errs := reports.all(t)
			switch {
			case tt.report == "" && len(errs) != 0:
				t.Errorf("reports %v, want none", errs)
			case tt.report != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.report)):
				t.Errorf("reports %v, want one about %q", errs, tt.report)
			}
			wantDropped := uint64(0)
			if tt.report != "" {
				wantDropped = 1
			}
			if s := h.Stats(); s.Dropped != wantDropped {
				t.Errorf("stats %+v, want %d dropped", s, wantDropped)
			}
		})
	}
}

// TestHandlerSpoolsDuringReplay checks that events logged while a backlog
// is replayed go to the spool at once instead of filling the buffer.
func TestHandlerSpoolsDuringReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.spool")
	content := spoolLine(t, "event 0") + spoolLine(t, "event 1") + spoolLine(t, "event 2")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each value sent on hold lets one Append through.
	log := &switchLog{hold: make(chan struct{}), calls: make(chan Event, 100)}
	h := newTestHandler(t, log, HandlerOptions{SpoolPath: path, BufferSize: 2, Backpressure: Drop})
	<-log.calls // the replay waits in Append for event 0
	logEvent(t, h, 3)
	logEvent(t, h, 4)
	log.hold <- struct{}{}
	await(t, "events 3 and 4 are spooled", func() bool { return h.Stats().Spooled == 2 })
	logEvent(t, h, 5)
	logEvent(t, h, 6)
	close(log.hold)
	closeHandler(t, h)
	if got, want := log.messages(), eventNames(0, 7); !slices.Equal(got, want) {
		t.Errorf("the log got %q, want %q", got, want)
	}
	if s := h.Stats(); s.Dropped != 0 {
		t.Errorf("stats %+v, want none dropped", s)
	}
}

// spoolLine is the spool line of an event with message, as the handler
// writes it.
func spoolLine(t *testing.T, message string) string {
	t.Helper()
	line, err := Event{Time: recordTime, Actor: "billing", Action: "log.info", Outcome: OutcomeUnknown, Message: message}.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return string(line) + "\n"
}

func TestHandlerRetriesInMemoryWithoutSpool(t *testing.T) {
	log := &switchLog{down: true}
	h := newTestHandler(t, log, HandlerOptions{})
	for i := range 3 {
		logEvent(t, h, i)
	}
	await(t, "event 0 is tried three times", func() bool { return log.attemptsOf("event 0") >= 3 })
	log.setDown(false)
	closeHandler(t, h)
	if got, want := log.messages(), eventNames(0, 3); !slices.Equal(got, want) {
		t.Errorf("the log got %q, want %q", got, want)
	}
	if s := h.Stats(); s.Sent != 3 || s.Spooled != 0 || s.Dropped != 0 {
		t.Errorf("stats %+v, want 3 sent", s)
	}
}

func TestHandlerCloseFlushes(t *testing.T) {
	log := &switchLog{hold: make(chan struct{})}
	h := newTestHandler(t, log, HandlerOptions{})
	for i := range 200 {
		logEvent(t, h, i)
	}
	closed := make(chan error)
	go func() { closed <- h.Close(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the log took the events", err)
	default:
	}
	close(log.hold)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := log.messages(), eventNames(0, 200); !slices.Equal(got, want) {
		t.Errorf("the log got %d events, want %d in order", len(got), len(want))
	}
}

func TestHandlerCloseGivesUp(t *testing.T) {
	for _, withSpool := range []bool{false, true} {
		t.Run(fmt.Sprintf("spool %v", withSpool), func(t *testing.T) {
			// Without a spool the log is down, so the events stay in
			// memory; with one it hangs instead of failing, for the same
			// effect.
			log := &switchLog{down: true}
			var reports errorList
			opts := HandlerOptions{ErrorHandler: reports.add}
			if withSpool {
				opts.SpoolPath = filepath.Join(t.TempDir(), "audit.spool")
				log = &switchLog{hold: make(chan struct{})}
			}
			h := newTestHandler(t, log, opts)
			for i := range 3 {
				logEvent(t, h, i)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := h.Close(ctx)
			s := h.Stats()
			if withSpool {
				if err != nil {
					t.Errorf("Close: %v, want the events spooled and no error", err)
				}
				if got, want := spoolMessages(t, opts.SpoolPath), eventNames(0, 3); !slices.Equal(got, want) {
					t.Errorf("spool holds %q, want %q", got, want)
				}
				if s.Spooled != 3 || s.Dropped != 0 {
					t.Errorf("stats %+v, want 3 spooled", s)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), "3 audit events") {
					t.Errorf("Close: %v, want an error counting 3 lost events", err)
				}
				if s.Dropped != 3 {
					t.Errorf("stats %+v, want 3 dropped", s)
				}
			}
			if again := h.Close(context.Background()); again != err {
				t.Errorf("second Close: %v, want %v", again, err)
			}

			err = h.Handle(context.Background(), slog.NewRecord(recordTime, slog.LevelInfo, "late", 0))
			if !errors.Is(err, ErrHandlerClosed) {
				t.Errorf("Handle after Close: %v, want ErrHandlerClosed", err)
			}
			if got := reports.all(t); len(got) != 1 || !errors.Is(got[0], ErrHandlerClosed) {
				t.Errorf("reports %v, want one about the event logged after Close", got)
			}
			if s2 := h.Stats(); s2.Dropped != s.Dropped+1 {
				t.Errorf("stats %+v, want the late event dropped", s2)
			}
		})
	}
}

// TestHandlerConcurrentOutages logs from several goroutines while the log
// goes down and up; every event must arrive, each goroutine's in order.
func TestHandlerConcurrentOutages(t *testing.T) {
	const writers, each = 8, 300
	path := filepath.Join(t.TempDir(), "audit.spool")
	log := &switchLog{}
	h := newTestHandler(t, log, HandlerOptions{SpoolPath: path, BufferSize: 16})
	logger := slog.New(h)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			l := logger.With("writer", w)
			for i := range each {
				l.Info("audit", "seq", i)
			}
		})
	}
	flipping := make(chan struct{})
	flipped := make(chan struct{})
	go func() {
		defer close(flipped)
		for down := true; ; down = !down {
			select {
			case <-flipping:
				log.setDown(false)
				return
			case <-time.After(2 * time.Millisecond):
				log.setDown(down)
			}
		}
	}()
	wg.Wait()
	close(flipping)
	<-flipped
	closeHandler(t, h)

	next := make([]int, writers)
	for _, e := range log.accepted {
		w, _ := strconv.Atoi(e.Attributes["writer"])
		seq, _ := strconv.Atoi(e.Attributes["seq"])
		if seq != next[w] {
			t.Fatalf("writer %d: got seq %d, want %d", w, seq, next[w])
		}
		next[w]++
	}
	for w, n := range next {
		if n != each {
			t.Errorf("writer %d: %d events arrived, want %d", w, n, each)
		}
	}
	if s := h.Stats(); s.Dropped != 0 || s.Sent != writers*each {
		t.Errorf("stats %+v, want %d sent and none dropped", s, writers*each)
	}
}

func TestNewHandlerOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts HandlerOptions
		want string
	}{
		{"no application", HandlerOptions{}, "Application is empty"},
		{"long application", HandlerOptions{Application: strings.Repeat("a", 49)}, "Application"},
		{"negative buffer", HandlerOptions{Application: "a", BufferSize: -1}, "BufferSize"},
		{"unknown backpressure", HandlerOptions{Application: "a", Backpressure: 7}, "Backpressure(7)"},
		{"retry bounds", HandlerOptions{Application: "a", RetryInterval: time.Minute, MaxRetryInterval: time.Second}, "MaxRetryInterval"},
		{"spool directory missing", HandlerOptions{Application: "a", SpoolPath: filepath.Join(dir, "missing", "audit.spool")}, "directory must exist"},
		{"spool is a directory", HandlerOptions{Application: "a", SpoolPath: dir}, "spool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(&switchLog{}, tt.opts)
			if err == nil {
				h.Close(context.Background())
				t.Fatalf("NewHandler succeeded, want an error about %s", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewHandler: %v, want an error about %s", err, tt.want)
			}
		})
	}
	if _, err := NewHandler(nil, HandlerOptions{Application: "a"}); err == nil {
		t.Error("NewHandler with a nil Appender succeeded")
	}
}
