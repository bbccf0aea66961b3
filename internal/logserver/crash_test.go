package logserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"

	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// childServer is this test binary run as a log server (see TestMain).
type childServer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer // read only after done is closed
	done   chan struct{}
	URL    string
}

func startChild(t *testing.T, dir string) *childServer {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addrFile := filepath.Join(t.TempDir(), "addr")
	c := &childServer{done: make(chan struct{})}
	c.cmd = exec.Command(exe)
	c.cmd.Env = append(os.Environ(), childHomeEnv+"="+dir, childAddrEnv+"="+addrFile)
	c.cmd.Stderr = &c.stderr
	// The child exits when this pipe closes, so it never outlives the test.
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("child log server stderr:\n%s", strings.TrimSpace(c.stderr.String()))
		}
	})

	deadline := time.Now().Add(waitLimit)
	for {
		addr, err := os.ReadFile(addrFile)
		if err == nil {
			c.URL = "http://" + string(addr)
			return c
		}
		select {
		case <-c.done:
			t.Fatalf("child log server exited: %v\n%s", c.cmd.ProcessState, c.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("child log server did not start in %v", waitLimit)
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *childServer) kill() {
	c.cmd.Process.Kill()
	c.stdin.Close()
	<-c.done
}

// appendResult is one acknowledged append.
type appendResult struct {
	job   int
	index uint64
	entry []byte
}

// crashEvent is the event of job in its attempt'th try: content unique to
// both.
func crashEvent(job, attempt int) ([]byte, error) {
	return testEvent(fmt.Sprintf("crash-%05d-try%d", job, attempt), "delivery.publish").Canonical()
}

// appendJobs appends the events of jobs with single-event requests from
// workers goroutines. onAck is called for every acknowledged append; once
// stop returns true no more requests are sent. It returns the jobs that were
// not acknowledged, with the first error seen.
func appendJobs(url, token string, jobs []int, attempt, workers int, onAck func(appendResult), stop func() bool) ([]int, error) {
	client := &http.Client{
		Timeout:   waitLimit,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers},
	}
	defer client.CloseIdleConnections()
	queue := make(chan int, len(jobs))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)

	var mu sync.Mutex
	var failed []int
	var firstErr error
	fail := func(job int, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed = append(failed, job)
		if firstErr == nil {
			firstErr = err
		}
	}
	send := func(job int) (appendResult, error) {
		entry, err := crashEvent(job, attempt)
		if err != nil {
			return appendResult{}, err
		}
		req, err := http.NewRequest(http.MethodPost, url+"/add", bytes.NewReader(entry))
		if err != nil {
			return appendResult{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return appendResult{}, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return appendResult{}, err
		}
		if resp.StatusCode != http.StatusOK {
			return appendResult{}, fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		var r translog.AddResponse
		if err := json.Unmarshal(body, &r); err != nil {
			return appendResult{}, err
		}
		return appendResult{job: job, index: r.Index, entry: entry}, nil
	}

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for job := range queue {
				if stop != nil && stop() {
					fail(job, fmt.Errorf("not sent: the server was killed"))
					continue
				}
				r, err := send(job)
				if err != nil {
					fail(job, err)
					continue
				}
				onAck(r)
			}
		})
	}
	wg.Wait()
	return failed, firstErr
}

// TestCrashKeepsAcknowledgedAppends SIGKILLs a log server in the middle of
// concurrent appends, restarts it on the same home and checks that every
// append it acknowledged is in the log, at the index it was given, byte for
// byte, and that the log verifies.
func TestCrashKeepsAcknowledgedAppends(t *testing.T) {
	const (
		total     = 10000
		killAfter = 3000
		workers   = 32
	)
	ctx := context.Background()
	h := newHome(t)
	token := addToken(t, h, "crash", "delivery.*")

	var mu sync.Mutex
	var acks []appendResult
	record := func(r appendResult) {
		mu.Lock()
		defer mu.Unlock()
		acks = append(acks, r)
	}

	// Phase 1: append until killAfter are acknowledged, then SIGKILL the
	// server with requests in flight.
	child := startChild(t, h.Dir)
	var killed atomic.Bool
	var killOnce sync.Once
	var n atomic.Int64
	jobs := make([]int, total)
	for i := range jobs {
		jobs[i] = i
	}
	// The kill lands a random moment (up to two batching periods) after the
	// killAfter'th answer, so that over runs it hits the server while it
	// waits for a batch, writes bundles and tiles, or answers. What the
	// test requires of the log does not depend on where it lands.
	threshold := make(chan struct{})
	first := child
	go func() {
		<-threshold
		time.Sleep(rand.N(20 * time.Millisecond))
		first.cmd.Process.Kill()
		killed.Store(true)
	}()
	retry, _ := appendJobs(child.URL, token, jobs, 0, workers, func(r appendResult) {
		record(r)
		if n.Add(1) >= killAfter {
			killOnce.Do(func() { close(threshold) })
		}
	}, killed.Load)
	if !killed.Load() {
		t.Fatalf("the server was never killed: %d acknowledged", n.Load())
	}
	<-first.done
	phase1 := len(acks)
	if len(retry)+phase1 != total {
		t.Fatalf("%d acknowledged and %d not, of %d", phase1, len(retry), total)
	}
	t.Logf("killed the server after %d acknowledged appends; %d to send again", phase1, len(retry))

	// Phase 2: restart on the same home and send the rest (as new events,
	// since an unacknowledged one may or may not be in the log).
	child = startChild(t, h.Dir)
	if failed, err := appendJobs(child.URL, token, retry, 1, workers, record, nil); len(failed) > 0 {
		t.Fatalf("%d appends failed after the restart, first: %v", len(failed), err)
	}
	if len(acks) != total {
		t.Fatalf("%d acknowledged appends, want %d", len(acks), total)
	}

	byIndex := map[uint64]appendResult{}
	var highest uint64
	for _, r := range acks {
		if prev, ok := byIndex[r.index]; ok {
			t.Fatalf("index %d was acknowledged twice: for job %d and for job %d", r.index, prev.job, r.job)
		}
		byIndex[r.index] = r
		highest = max(highest, r.index)
	}

	src, err := logclient.OpenSource(child.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	httpClient, err := logclient.NewClient(src, verifiersOf(t, h))
	if err != nil {
		t.Fatal(err)
	}
	cp := waitForSize(t, httpClient, highest+1)

	// Every acknowledged index holds exactly the acknowledged bytes; every
	// other index holds an event sent in phase 1 whose answer was lost.
	dir := dirClient(t, h)
	lostInFlight := map[string]bool{}
	for _, j := range retry {
		e, err := crashEvent(j, 0)
		if err != nil {
			t.Fatal(err)
		}
		lostInFlight[string(e)] = true
	}
	var unacknowledged []uint64
	for b := uint64(0); b*layout.EntryBundleWidth < cp.Size; b++ {
		raw, err := dir.Source().ReadEntryBundle(ctx, b, layout.PartialTileSize(0, b, cp.Size))
		if err != nil {
			t.Fatal(err)
		}
		var bundle api.EntryBundle
		if err := bundle.UnmarshalText(raw); err != nil {
			t.Fatalf("bundle %d: %v", b, err)
		}
		for i, e := range bundle.Entries {
			idx := b*layout.EntryBundleWidth + uint64(i)
			if idx >= cp.Size {
				break
			}
			if r, ok := byIndex[idx]; ok {
				if !bytes.Equal(e, r.entry) {
					t.Fatalf("index %d holds %s, but %s was acknowledged there", idx, e, r.entry)
				}
				continue
			}
			if !lostInFlight[string(e)] {
				t.Fatalf("index %d holds %s, which no unanswered request sent", idx, e)
			}
			unacknowledged = append(unacknowledged, idx)
		}
	}
	if got := uint64(len(byIndex) + len(unacknowledged)); got != cp.Size {
		t.Fatalf("read %d entries of a log of size %d", got, cp.Size)
	}
	// At most one request per worker was in flight when the server died.
	if len(unacknowledged) > workers {
		sort.Slice(unacknowledged, func(i, j int) bool { return unacknowledged[i] < unacknowledged[j] })
		t.Fatalf("%d unacknowledged entries in the log, more than the %d requests in flight: %v", len(unacknowledged), workers, unacknowledged)
	}
	t.Logf("log size %d: %d acknowledged, %d written but unanswered at the crash", cp.Size, len(byIndex), len(unacknowledged))

	rep, err := dir.VerifyTree(ctx, cp, nil)
	if err != nil {
		t.Fatalf("VerifyTree after the crash: %v", err)
	}
	if rep.Entries != cp.Size {
		t.Fatalf("VerifyTree checked %d entries of %d", rep.Entries, cp.Size)
	}
}
