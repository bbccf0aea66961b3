package logserver

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (no global state), served at GET /metrics.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	entries  prometheus.Counter
	duration prometheus.Histogram
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hegui_log_append_requests_total",
			Help: "Append requests (POST /add) by HTTP status code.",
		}, []string{"code"}),
		entries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hegui_log_appended_entries_total",
			Help: "Events appended and durable.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hegui_log_append_duration_seconds",
			Help:    "Time from receiving an append request to answering it (the events durable).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.registry.MustRegister(m.requests, m.entries, m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hegui_log_inflight_entries",
			Help: "Events being read, checked or appended now, across all requests (503 above the limit).",
		}, func() float64 { return float64(s.inFlight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hegui_log_reserved_body_bytes",
			Help: "Bytes reserved for the bodies of the append requests being read or appended (503 above the limit).",
		}, func() float64 { return float64(s.bodyBytes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hegui_log_integrated_size",
			Help: "Entries integrated into the tree (the next checkpoint covers them).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := s.reader.IntegratedSize(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// instrument wraps the append handler: requests by status and their
// duration.
func (m *metrics) instrument(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		m.requests.WithLabelValues(strconv.Itoa(sw.status)).Inc()
		m.duration.Observe(time.Since(start).Seconds())
	}
}

// statusWriter remembers the status code a handler answered with.
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

// Unwrap lets http.ResponseController reach the connection beneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
