package modproxy

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the proxy's Prometheus metrics, in a registry of its own,
// served at GET /metrics.
type metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	refusals        *prometheus.CounterVec
	verifyFailures  *prometheus.CounterVec
	corrupted       *prometheus.CounterVec
	servedBytes     *prometheus.CounterVec
	upstreamSeconds *prometheus.HistogramVec
	prefetches      *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hegui_proxy_requests_total",
			Help: "Requests by kind (list, latest, info, mod, zip, sumdb, bad) and HTTP status code.",
		}, []string{"kind", "code"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hegui_proxy_refusals_total",
			Help: "Requests refused with 403, by the rule that refused them (deny, allow, min-age, internal, verification).",
		}, []string{"rule"}),
		verifyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hegui_proxy_verification_failures_total",
			Help: "Module files that failed verification when fetched (checksum database, zip rules) or served (internal signatures), by kind.",
		}, []string{"kind"}),
		corrupted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hegui_proxy_corrupted_files_total",
			Help: "Stored files that did not match their record when read, and were quarantined.",
		}, []string{"kind"}),
		servedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hegui_proxy_served_bytes_total",
			Help: "Bytes of module files served from the store after checking, by kind. A request served from the store is a cache hit.",
		}, []string{"kind"}),
		upstreamSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hegui_proxy_upstream_fetch_seconds",
			Help:    "Time to fetch, verify and store a module file from the upstream, by kind.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind"}),
		prefetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hegui_proxy_prefetches_total",
			Help: "Module files fetched ahead of the client, by kind (mod: required by a fetched go.mod; zip: after its .info was asked for) and outcome (fetched, failed, dropped).",
		}, []string{"kind", "outcome"}),
	}
	m.registry.MustRegister(m.requests, m.refusals, m.verifyFailures, m.corrupted, m.servedBytes, m.upstreamSeconds, m.prefetches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// metricKind is a request's kind label.
func metricKind(kind string, parsed bool) string {
	if kind == "" || !parsed {
		return "bad"
	}
	return kind
}
