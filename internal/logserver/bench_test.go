package logserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// Benchmarks of the audit log. docs/PERFORMANCE.md has the commands and
// the numbers; scripts/bench-log.sh runs them side by side.

// benchEvents returns n distinct canonical events of about 130 bytes.
func benchEvents(b *testing.B, n int) [][]byte {
	b.Helper()
	out := make([][]byte, n)
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for i := range out {
		ev := translog.Event{Time: t0.Add(time.Duration(i) * time.Microsecond), Actor: fmt.Sprintf("u%07d", i), Action: "user.login", Outcome: translog.OutcomeSuccess}
		c, err := ev.Canonical()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = c
	}
	return out
}

// batchings are the log.yaml batching settings the benchmarks compare;
// the first is the default.
var batchings = []struct {
	size uint
	age  time.Duration
}{{DefaultBatchMaxSize, DefaultBatchMaxAge}, {256, 5 * time.Millisecond}, {64, 10 * time.Millisecond}, {1024, 10 * time.Millisecond}}

func batchingName(size uint, age time.Duration) string {
	return fmt.Sprintf("batch=%d/%s", size, age)
}

// benchServer runs a log home with the default log.yaml, except for its
// batching, behind a real HTTP server and returns its URL and a writer
// token.
func benchServer(b *testing.B, size uint, age time.Duration) (string, string) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "log")
	h, err := Init(dir, InitOptions{Origin: "bench.example/log"})
	if err != nil {
		b.Fatal(err)
	}
	h.Config.Batching.MaxSize, h.Config.Batching.MaxAge = size, Duration(age)
	token, err := AddToken(dir, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(context.Background(), Options{Home: h})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(func() {
		hs.Close()
		srv.Close(context.Background())
	})
	return hs.URL, token
}

// BenchmarkBulkAppend appends b.N events: "tessera" straight into a
// Tessera POSIX appender in process (its default batching), "hegui"
// through hegui's HTTP write API in NDJSON batches of 1,000 from 4
// concurrent clients, with schema validation and canonicalisation.
func BenchmarkBulkAppend(b *testing.B) {
	b.Run("tessera", func(b *testing.B) {
		events := benchEvents(b, b.N)
		skey, _, err := note.GenerateKey(rand.Reader, "bench.example/log")
		if err != nil {
			b.Fatal(err)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			b.Fatal(err)
		}
		routeKlog(slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		driver, err := posix.New(ctx, posix.Config{Path: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		app, shutdown, _, err := tessera.NewAppender(ctx, driver, tessera.NewAppendOptions().WithCheckpointSigner(signer))
		if err != nil {
			b.Fatal(err)
		}
		defer shutdown(ctx)
		b.ResetTimer()
		futures := make([]tessera.IndexFuture, len(events))
		for i, e := range events {
			futures[i] = app.Add(ctx, tessera.NewEntry(e))
		}
		for _, f := range futures {
			if _, err := f(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	for _, bt := range batchings {
		b.Run("hegui/"+batchingName(bt.size, bt.age), func(b *testing.B) { benchHeguiBulk(b, bt.size, bt.age) })
	}
}

func benchHeguiBulk(b *testing.B, size uint, age time.Duration) {
	{
		events := benchEvents(b, b.N)
		url, token := benchServer(b, size, age)
		var bodies [][]byte
		for i := 0; i < len(events); i += 1000 {
			bodies = append(bodies, append(bytes.Join(events[i:min(i+1000, len(events))], []byte("\n")), '\n'))
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		b.ResetTimer()
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(bodies) {
						return
					}
					if err := postBatch(client, url, token, bodies[i]); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	}
}

func postBatch(client *http.Client, url, token string, body []byte) error {
	for {
		req, _ := http.NewRequest(http.MethodPost, url+"/add", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var res struct{ Indexes []uint64 }
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK || err != nil {
			return fmt.Errorf("add: %s %v", resp.Status, err)
		}
		return nil
	}
}

// BenchmarkAppendLatency64 has 64 writers each send one event and wait for
// its durable index before sending the next, as services logging on their
// request path do, and reports the latency percentiles.
func BenchmarkAppendLatency64(b *testing.B) {
	for _, bt := range batchings {
		b.Run(batchingName(bt.size, bt.age), func(b *testing.B) { benchLatency(b, 64, bt.size, bt.age) })
	}
}

func benchLatency(b *testing.B, writers int, size uint, age time.Duration) {
	events := benchEvents(b, b.N)
	url, token := benchServer(b, size, age)
	app, err := translog.NewHTTPAppender(url, token, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: writers}})
	if err != nil {
		b.Fatal(err)
	}
	parsed := make([]translog.Event, len(events))
	for i, e := range events {
		if parsed[i], err = translog.ParseEvent(e); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, len(events))
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(parsed) {
					return
				}
				start := time.Now()
				if _, err := app.Append(context.Background(), parsed[i]); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// millionLog returns a client for a POSIX log of 1,000,000 events, built
// once per machine under the temporary directory (it takes about a
// minute) and reused by later runs.
func millionLog(b *testing.B) (*logclient.Client, translog.Checkpoint) {
	b.Helper()
	const n = 1_000_000
	dir := filepath.Join(os.TempDir(), "hegui-bench-log-1m")
	vkeyFile := filepath.Join(dir, "log.pub")
	if _, err := os.Stat(vkeyFile); err != nil {
		os.RemoveAll(dir)
		h, err := Init(dir, InitOptions{Origin: "bench.example/1m", NoSM2: true})
		if err != nil {
			b.Fatal(err)
		}
		h.Config.Batching.MaxSize = 1024
		srv, err := New(context.Background(), Options{Home: h})
		if err != nil {
			b.Fatal(err)
		}
		events := benchEvents(b, n)
		futures := make([]tessera.IndexFuture, n)
		for i, e := range events {
			futures[i] = srv.add(context.Background(), tessera.NewEntry(e))
		}
		for _, f := range futures {
			if _, err := f(); err != nil {
				b.Fatal(err)
			}
		}
		for {
			cp, err := srv.reader.ReadCheckpoint(context.Background())
			if err == nil && bytes.Contains(cp, []byte("\n1000000\n")) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		srv.Close(context.Background())
	}
	h, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	vs, err := h.Verifiers()
	if err != nil {
		b.Fatal(err)
	}
	src, err := logclient.OpenSource(h.StaticDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	c, err := logclient.NewClient(src, vs)
	if err != nil {
		b.Fatal(err)
	}
	cp, err := c.Checkpoint(context.Background())
	if err != nil || cp.Size != n {
		b.Fatalf("million-entry log at %s: size %d, %v (remove it to rebuild)", dir, cp.Size, err)
	}
	return c, cp
}

// BenchmarkProofs builds and verifies proofs on a log of a million
// entries read from its files: an inclusion proof for a random entry, and
// a consistency proof from a random earlier size.
func BenchmarkProofs(b *testing.B) {
	c, cp := millionLog(b)
	ctx := context.Background()
	b.Run("inclusion", func(b *testing.B) {
		for b.Loop() {
			i := randIndex(b, cp.Size)
			entry, err := c.Entry(ctx, i, cp.Size)
			if err != nil {
				b.Fatal(err)
			}
			p, err := c.Inclusion(ctx, entry, i, cp) // builds and verifies
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Verify(entry, c.Verifiers()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("consistency", func(b *testing.B) {
		// Older checkpoints stand in as roots computed from the tiles,
		// before the clock starts.
		var olders []translog.Checkpoint
		for range 64 {
			size := randIndex(b, cp.Size-1) + 1
			root, err := rootAt(ctx, c, size, cp.Size)
			if err != nil {
				b.Fatal(err)
			}
			olders = append(olders, translog.Checkpoint{Origin: cp.Origin, Size: size, Root: root})
		}
		i := 0
		for b.Loop() {
			if _, err := c.Consistency(ctx, olders[i%len(olders)], cp); err != nil { // builds and verifies
				b.Fatal(err)
			}
			i++
		}
	})
}

// rootAt computes the root of the tree of size n from the tiles, standing
// in for an older checkpoint.
func rootAt(ctx context.Context, c *logclient.Client, n, latest uint64) ([]byte, error) {
	r, err := c.TreeAt(ctx, n, latest)
	if err != nil {
		return nil, err
	}
	return r.GetRootHash(nil)
}

func randIndex(b *testing.B, n uint64) uint64 {
	v, err := rand.Int(rand.Reader, new(big.Int).SetUint64(n))
	if err != nil {
		b.Fatal(err)
	}
	return v.Uint64()
}

// BenchmarkVerifyMillion runs the full verification of `hegui log verify`
// on the million-entry log ("verify") next to the bare hashing it cannot
// avoid ("hash-floor": SHA-256 of every entry and of the tree's interior
// nodes, from entries already in memory).
func BenchmarkVerifyMillion(b *testing.B) {
	c, cp := millionLog(b)
	ctx := context.Background()
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.VerifyTree(ctx, cp, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hash-floor", func(b *testing.B) {
		events := benchEvents(b, int(cp.Size))
		rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
		for b.Loop() {
			r := rf.NewEmptyRange(0)
			for _, e := range events {
				if err := r.Append(translog.LeafHash(e), nil); err != nil {
					b.Fatal(err)
				}
			}
			root, _ := r.GetRootHash(nil)
			if !bytes.Equal(root, cp.Root) {
				b.Fatal("the benchmark events are not the log's")
			}
		}
	})
}
