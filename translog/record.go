package translog

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"
)

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
