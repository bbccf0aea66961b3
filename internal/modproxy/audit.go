package modproxy

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"unicode/utf8"

	"hegui.dev/hegui/translog"
)

// What the audit log is told of fetches (AuditOptions.Fetches).
const (
	FetchesNone   = "none"
	FetchesSample = "sample"
	FetchesAll    = "all"
)

// AuditOptions configure an AuditSink.
type AuditOptions struct {
	// Fetches says which served zips are recorded: FetchesNone, FetchesAll
	// or FetchesSample (one in SampleEvery). Refusals and corrupted files
	// are always recorded.
	Fetches     string
	SampleEvery int
	// SpoolPath keeps events while the log is unreachable (translog's
	// spool); empty means none.
	SpoolPath string
	// Host names this machine in the events; empty means the host name.
	Host string
	// ErrorHandler receives events the log refused or that were dropped;
	// nil writes them to standard error.
	ErrorHandler func(error)
}

// AuditSink records the proxy's events in a transparency audit log (hegui
// log serve) through translog's slog handler: in the background, never
// holding up a request (a full buffer drops, and counts, the event), and
// through a spool file while the log is unreachable. Each event names the
// client (actor "client:NAME"), the module version (object
// "MODULE@VERSION") and, for a refusal, the rule's text.
type AuditSink struct {
	h       *translog.Handler
	log     *slog.Logger
	fetches string
	every   uint64
	n       atomic.Uint64
}

// NewAuditSink appends to the log at url with the writer's token.
func NewAuditSink(url, token string, o AuditOptions) (*AuditSink, error) {
	fetches := cmp.Or(o.Fetches, FetchesNone)
	switch fetches {
	case FetchesNone, FetchesAll:
	case FetchesSample:
		if o.SampleEvery < 1 {
			return nil, fmt.Errorf("audit: sample-every must be at least 1")
		}
	default:
		return nil, fmt.Errorf("audit: fetches is %q, want none, sample or all", o.Fetches)
	}
	app, err := translog.NewHTTPAppender(url, token, nil)
	if err != nil {
		return nil, err
	}
	h, err := translog.NewHandler(app, translog.HandlerOptions{
		Application: "hegui-proxy", Host: o.Host, Backpressure: translog.Drop,
		SpoolPath: o.SpoolPath, ErrorHandler: o.ErrorHandler,
	})
	if err != nil {
		return nil, err
	}
	return &AuditSink{h: h, log: slog.New(h), fetches: fetches, every: uint64(max(o.SampleEvery, 1))}, nil
}

// Event implements EventSink.
func (s *AuditSink) Event(ctx context.Context, e Event) {
	level := slog.LevelWarn
	attrs := []slog.Attr{
		slog.String("action", e.Action),
		slog.String("actor", "client:"+cmp.Or(e.Client, "unknown")),
		slog.String("outcome", e.Outcome),
		slog.String("object", clipText(e.Module+"@"+e.Version, maxObject)),
		slog.String("kind", e.Kind),
	}
	switch e.Action {
	case "proxy.fetch":
		switch s.fetches {
		case FetchesNone:
			return
		case FetchesSample:
			if (s.n.Add(1)-1)%s.every != 0 {
				return
			}
			attrs = append(attrs, slog.String("sampled", fmt.Sprintf("1 in %d", s.every)))
		}
		level = slog.LevelInfo
	case "proxy.corrupt":
		level = slog.LevelError
		attrs[1] = slog.String("actor", "hegui-proxy")
	}
	if e.Reason != "" {
		attrs = append(attrs, slog.String("reason", clipText(e.Reason, maxReason)))
	}
	s.log.LogAttrs(ctx, level, e.Action, attrs...)
}

// Stats counts what happened to the events.
func (s *AuditSink) Stats() translog.HandlerStats { return s.h.Stats() }

// Close sends what is buffered (or spools it) and stops.
func (s *AuditSink) Close(ctx context.Context) error { return s.h.Close(ctx) }

// Bounds of translog's event fields (an attribute value, the object), so
// that a long refusal (a version many advisories affect) is logged
// shortened rather than refused by the log.
const (
	maxReason = 1000
	maxObject = 255
)

// clipText shortens s to at most n bytes, on a rune boundary, marking the
// cut.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
