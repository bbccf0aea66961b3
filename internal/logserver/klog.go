package logserver

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"k8s.io/klog/v2"
)

// Tessera reports through klog, a process-wide logger. routeKlog sends it
// to the logger of the most recently started server, so a server's output
// stays one structured stream; klog itself is configured only once, because
// its setter is not safe while other servers' goroutines log.
var (
	klogTarget atomic.Pointer[slog.Logger]
	klogOnce   sync.Once
)

func routeKlog(l *slog.Logger) {
	klogTarget.Store(l)
	klogOnce.Do(func() { klog.SetSlogLogger(slog.New(klogForwarder{})) })
}

// klogForwarder is a slog.Handler that hands Tessera's warnings and errors
// to the current klogTarget. Its informational lines ("Failed to fetch old
// checkpoint" on every new log, for one) describe normal operation in
// alarming words, so they stay out of the server's log.
type klogForwarder struct{}

func (klogForwarder) current() slog.Handler {
	if l := klogTarget.Load(); l != nil {
		return l.Handler()
	}
	return slog.DiscardHandler
}

func (f klogForwarder) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && f.current().Enabled(ctx, level)
}

func (f klogForwarder) Handle(ctx context.Context, r slog.Record) error {
	return f.current().Handle(ctx, r)
}

func (f klogForwarder) WithAttrs(attrs []slog.Attr) slog.Handler { return f.current().WithAttrs(attrs) }
func (f klogForwarder) WithGroup(name string) slog.Handler       { return f.current().WithGroup(name) }
