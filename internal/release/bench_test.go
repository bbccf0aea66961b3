package release

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRollback measures what the issue sets a goal for: the time from
// a failed health check to the old version answering healthy again, with
// the two kinds of restart: a service that re-executes itself on SIGHUP
// (keeping its socket), and a restart command that stops the process and
// starts the binary again. Each iteration installs the unhealthy v2 over
// v1 and lets install roll it back; the metric is the median of the
// iterations' recovery times (docs/PERFORMANCE.md).
func BenchmarkRollback(b *testing.B) {
	for _, kind := range []string{"signal", "command"} {
		b.Run(kind, func(b *testing.B) { benchRollback(b, kind) })
	}
}

func benchRollback(b *testing.B, kind string) {
	tb := testing.TB(b)
	bins := serviceBinaries(tb)
	root := filepath.Join(b.TempDir(), "srv")
	addr := freeAddr(tb)
	pidfile := filepath.Join(b.TempDir(), "svc.pid")
	ctx := context.Background()
	v1 := makeDelivery(tb, "v1.0.0", bins["v1.0.0"])
	v2 := makeDelivery(tb, "v2.0.0", bins["v2.0.0"])
	health := HealthConfig{HTTP: "http://" + addr + "/healthz", Timeout: "1s", Interval: "20ms", HealthyFor: "0s"}
	var cfg Config
	b.Setenv("PIDFILE", pidfile)
	b.Setenv("ADDR", addr)
	b.Setenv("LISTEN", "SVC_HTTP")
	switch kind {
	case "signal":
		first, err := Open(Options{Root: root})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := first.Install(ctx, InstallOptions{Delivery: v1, Anchors: trusted(tb)}); err != nil {
			b.Fatal(err)
		}
		startService(tb, root, "SVC_HTTP="+addr, "SVC_PIDFILE="+pidfile)
		cfg = Config{Signal: "HUP", PIDFile: pidfile, Health: health}
	case "command":
		script := filepath.Join(b.TempDir(), "restart.sh")
		if err := os.WriteFile(script, []byte(restartScript), 0o755); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if pid, err := readPID(pidfile); err == nil {
				syscall.Kill(pid, syscall.SIGTERM)
			}
		})
		cfg = Config{Restart: script, PIDFile: pidfile, Health: health}
		m, err := Open(Options{Root: root, Config: cfg})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Install(ctx, InstallOptions{Delivery: v1, Anchors: trusted(tb)}); err != nil {
			b.Fatal(err)
		}
	}
	m, err := Open(Options{Root: root, Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		out, err := m.Install(ctx, InstallOptions{Delivery: v2, Anchors: trusted(tb)})
		if err == nil || !out.RolledBack || out.Recovered <= 0 {
			b.Fatalf("install of v2: %+v, %v", out, err)
		}
		times = append(times, out.Recovered)
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2])/float64(time.Millisecond), "ms-to-healthy")
	b.ReportMetric(float64(times[len(times)-1])/float64(time.Millisecond), "ms-worst")
}
