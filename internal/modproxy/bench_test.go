package modproxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
)

// Serving stored zips to many clients at once (docs/PERFORMANCE.md,
// "Module proxy"). The load generator runs benchClients goroutines over
// loopback, each fetching the zip whole on a keep-alive connection, b.N
// requests in all; it reports throughput (MB/s of zip bytes), the median
// and 99th-percentile time of one whole response, and how many requests
// really were in flight at once. b.N bounds the load, so run these with a
// fixed count rather than a time, one size at a time: the p99 of a few
// dozen requests means little, and fewer requests than clients never reach
// the concurrency.
//
//	go test -run '^$' -bench 'BenchmarkServeZip$/size=88KiB$' -benchtime 20000x ./internal/modproxy
//	go test -run '^$' -bench 'BenchmarkServeZip$/size=1.8MiB$' -benchtime 2000x ./internal/modproxy
//	go test -run '^$' -bench 'BenchmarkServeZip$/size=38MiB$' -benchtime 200x ./internal/modproxy
//
// (-count runs each sub-benchmark's rounds back to back; to interleave the
// proxy and its floor, repeat the commands instead.)

// benchClients is the number of concurrent clients the issue asks for.
const benchClients = 200

// benchZipSizes are the sizes of the zips served: the median (88 KiB) and
// about the 90th percentile (1.8 MiB) of the 88 zips `go mod download`
// fetches for restic v0.18.0, and its largest (38 MiB), which is above the
// size the proxy checks whole before sending (16 MiB) and so is streamed.
var benchZipSizes = []struct {
	name string
	size int
}{
	{"88KiB", 88 << 10},
	{"1.8MiB", 1843 << 10},
	{"38MiB", 38 << 20},
}

// BenchmarkServeZip serves a stored zip from an offline proxy and, as the
// floor, the same bytes from net/http's FileServer (which sends a file with
// sendfile and checks nothing), both in this process. Client and server
// share the machine's CPUs, as they do in the script's peer runs.
func BenchmarkServeZip(b *testing.B) {
	for _, zs := range benchZipSizes {
		b.Run("size="+zs.name, func(b *testing.B) {
			content := benchContent(zs.size)
			proxyURL := benchProxy(b, content)
			fileURL := benchFileServer(b, content)
			b.Run("server=proxy", func(b *testing.B) { benchLoad(b, proxyURL) })
			b.Run("server=fileserver", func(b *testing.B) { benchLoad(b, fileURL) })
		})
	}
}

// BenchmarkServeZipPeers runs the same load against servers started
// outside the test, so that scripts/bench-proxy.sh can measure a running
// `hegui proxy serve` and nginx side by side with one load generator.
// HEGUI_BENCH_ZIP_PEERS names them as NAME=BASEURL pairs separated by
// spaces, and HEGUI_BENCH_ZIP_PATHS the zips' paths (the same on every
// server), separated by spaces.
func BenchmarkServeZipPeers(b *testing.B) {
	peers, paths := strings.Fields(os.Getenv("HEGUI_BENCH_ZIP_PEERS")), strings.Fields(os.Getenv("HEGUI_BENCH_ZIP_PATHS"))
	if len(peers) == 0 || len(paths) == 0 {
		b.Skip("HEGUI_BENCH_ZIP_PEERS and HEGUI_BENCH_ZIP_PATHS are not set (scripts/bench-proxy.sh sets them)")
	}
	for _, path := range paths {
		b.Run("zip="+filepath.Base(filepath.Dir(filepath.Dir(path)))+"@"+strings.TrimSuffix(filepath.Base(path), ".zip"), func(b *testing.B) {
			for _, peer := range peers {
				name, base, ok := strings.Cut(peer, "=")
				if !ok {
					b.Fatalf("HEGUI_BENCH_ZIP_PEERS: %q is not NAME=BASEURL", peer)
				}
				b.Run("server="+name, func(b *testing.B) { benchLoad(b, strings.TrimSuffix(base, "/")+path) })
			}
		})
	}
}

// benchLoad fetches url from benchClients goroutines, b.N times in all.
func benchLoad(b *testing.B, url string) {
	procs := runtime.GOMAXPROCS(0)
	parallelism := (benchClients + procs - 1) / procs
	transport := &http.Transport{
		MaxIdleConns:          parallelism * procs,
		MaxIdleConnsPerHost:   parallelism * procs,
		DisableCompression:    true,
		ResponseHeaderTimeout: time.Minute,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 5 * time.Minute}
	size, err := benchFetch(context.Background(), client, url, make([]byte, 32<<10))
	if err != nil {
		b.Fatal(err)
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		inFlight  atomic.Int64
		peak      atomic.Int64
	)
	b.SetBytes(size)
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 32<<10)
		var mine []time.Duration
		defer func() {
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			start := time.Now()
			for n := inFlight.Add(1); ; {
				if old := peak.Load(); n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			n, err := benchFetch(context.Background(), client, url, buf)
			inFlight.Add(-1)
			if err != nil {
				b.Error(err)
				return
			}
			if n != size {
				b.Errorf("GET %s: %d bytes, want %d", url, n, size)
				return
			}
			mine = append(mine, time.Since(start))
		}
	})
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(percentileMillis(latencies, 0.50), "p50-ms")
	b.ReportMetric(percentileMillis(latencies, 0.99), "p99-ms")
	b.ReportMetric(float64(peak.Load()), "peak-clients")
}

// benchFetch GETs url whole and returns its length.
func benchFetch(ctx context.Context, client *http.Client, url string, buf []byte) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.CopyBuffer(io.Discard, resp.Body, buf)
	if err != nil {
		return n, fmt.Errorf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return n, nil
}

// percentileMillis is the nearest-rank percentile of sorted durations, in
// milliseconds.
func percentileMillis(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return float64(sorted[max(i, 0)]) / float64(time.Millisecond)
}

const (
	benchModule  = "example.com/bench"
	benchVersion = "v1.0.0"
)

// benchContent is size bytes that do not compress, the same every run.
func benchContent(size int) []byte {
	r := rand.NewChaCha8([32]byte{'h', 'e', 'g', 'u', 'i'})
	data := make([]byte, size)
	r.Read(data)
	return data
}

// benchProxy stores content as benchModule's zip, with its record, and
// serves it from an offline proxy; it returns the zip's URL.
func benchProxy(b *testing.B, content []byte) string {
	b.Helper()
	ctx := context.Background()
	store, err := modstore.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	key, err := modstore.ModuleKey(benchModule, benchVersion, modstore.Zip)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Create(ctx, key, bytes.NewReader(content)); err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(content)
	rec := &modstore.Record{
		Module: benchModule, Version: benchVersion, Kind: modstore.Zip,
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
		Source: modstore.SourceUpstream, VerifiedBy: "sum.golang.org", Stored: time.Now().UTC(),
	}
	data, err := rec.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Create(ctx, key+modstore.RecordSuffix, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	p, err := modproxy.New(modproxy.Options{Store: store, Offline: true, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(p)
	b.Cleanup(srv.Close)
	return srv.URL + "/" + benchModule + "/@v/" + benchVersion + ".zip"
}

// benchFileServer serves content as a plain file at the zip's path; it
// returns the file's URL.
func benchFileServer(b *testing.B, content []byte) string {
	b.Helper()
	dir := b.TempDir()
	file := filepath.Join(dir, benchModule, "@v", benchVersion+".zip")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(file, content, 0o644); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	b.Cleanup(srv.Close)
	return srv.URL + "/" + benchModule + "/@v/" + benchVersion + ".zip"
}
