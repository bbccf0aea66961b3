package logserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// The crash test runs this test binary a second time as a log server it
// can SIGKILL: with childHomeEnv set, TestMain serves the log home it names
// on 127.0.0.1 and writes the address to the file childAddrEnv names.
const (
	childHomeEnv = "HEGUI_TEST_LOGSERVER_HOME"
	childAddrEnv = "HEGUI_TEST_LOGSERVER_ADDR"
)

func TestMain(m *testing.M) {
	if home := os.Getenv(childHomeEnv); home != "" {
		if err := serveChild(home, os.Getenv(childAddrEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child log server:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild serves the log until it is killed, or until its standard input
// closes (the test that started it is gone).
func serveChild(dir, addrFile string) error {
	h, err := logserver.Open(dir)
	if err != nil {
		return err
	}
	h.Config.CheckpointInterval = testCheckpointInterval
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tmp := addrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(ln.Addr().String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, addrFile); err != nil {
		return err
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	return http.Serve(ln, srv.Handler())
}

const testOrigin = "test.example/log"

// testCheckpointInterval is the shortest interval Tessera's POSIX driver
// allows (its minCheckpointInterval), so tests wait little for checkpoints.
const testCheckpointInterval = logserver.Duration(100 * time.Millisecond)

// waitLimit bounds every poll: far longer than anything takes on a loaded
// machine, so it only ends tests that would otherwise hang.
const waitLimit = 30 * time.Second

// newHome initialises a log home in a temporary directory.
func newHome(t testing.TB) *logserver.Home {
	t.Helper()
	h, err := logserver.Init(filepath.Join(t.TempDir(), "log"), logserver.InitOptions{Origin: testOrigin})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	h.Config.CheckpointInterval = testCheckpointInterval
	return h
}

// copyHome copies a stopped log home, keys, tiles, Tessera state and all,
// to a new directory and opens it.
func copyHome(t testing.TB, h *logserver.Home) *logserver.Home {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(dir, os.DirFS(h.Dir)); err != nil {
		t.Fatalf("copy %s: %v", h.Dir, err)
	}
	c, err := logserver.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Config.CheckpointInterval = testCheckpointInterval
	return c
}

func addToken(t testing.TB, h *logserver.Home, name string, actions ...string) string {
	t.Helper()
	token, err := logserver.AddToken(h.Dir, name, actions)
	if err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	return token
}

func verifiersOf(t testing.TB, h *logserver.Home) []note.Verifier {
	t.Helper()
	vs, err := h.Verifiers()
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// dirClient reads a log home's files directly, as `hegui log verify DIR`
// does.
func dirClient(t testing.TB, h *logserver.Home) *logclient.Client {
	t.Helper()
	src, err := logclient.OpenSource(h.StaticDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(src, verifiersOf(t, h))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runningLog is a log server behind an httptest server.
type runningLog struct {
	home   *logserver.Home
	srv    *logserver.Server
	http   *httptest.Server
	URL    string
	client *logclient.Client // reads over HTTP
	closed bool
}

func startLog(t testing.TB, h *logserver.Home) *runningLog {
	t.Helper()
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err != nil {
		t.Fatalf("logserver.New: %v", err)
	}
	l := &runningLog{home: h, srv: srv, http: httptest.NewServer(srv.Handler())}
	l.URL = l.http.URL
	t.Cleanup(func() { l.stop(t) })
	src, err := logclient.OpenSource(l.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.client, err = logclient.NewClient(src, verifiersOf(t, h)); err != nil {
		t.Fatal(err)
	}
	return l
}

// stop closes the HTTP server and the log; it waits for a checkpoint that
// covers every append that was answered.
func (l *runningLog) stop(t testing.TB) {
	t.Helper()
	if l.closed {
		return
	}
	l.closed = true
	l.http.Close()
	if err := l.srv.Close(context.Background()); err != nil {
		t.Errorf("Server.Close: %v", err)
	}
}

// post sends body to /add and returns the status, headers and body of the
// answer.
func (l *runningLog) post(t testing.TB, token, contentType string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, l.URL+"/add", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /add: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(data)
}

// appendBatch appends events as one NDJSON request and returns their
// indexes.
func (l *runningLog) appendBatch(t testing.TB, token string, events [][]byte) []uint64 {
	t.Helper()
	status, _, body := l.post(t, token, "application/x-ndjson", ndjson(events))
	if status != http.StatusOK {
		t.Fatalf("batch append: %d %s", status, body)
	}
	var res struct{ Indexes []uint64 }
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("batch answer %q: %v", body, err)
	}
	if len(res.Indexes) != len(events) {
		t.Fatalf("batch of %d got %d indexes", len(events), len(res.Indexes))
	}
	return res.Indexes
}

// waitForSize polls the log's checkpoint until it covers n entries.
func waitForSize(t testing.TB, c *logclient.Client, n uint64) translog.Checkpoint {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		cp, err := c.Checkpoint(context.Background())
		if err == nil && cp.Size >= n {
			return cp
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %d after %v (last: %v, %v)", n, waitLimit, cp.Size, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testEvent returns a valid event whose content is unique to actor.
func testEvent(actor, action string) translog.Event {
	return translog.Event{
		Time:    time.Date(2026, 5, 17, 8, 30, 0, 0, time.UTC),
		Actor:   actor,
		Action:  action,
		Object:  "hello_1.2.0",
		Outcome: translog.OutcomeSuccess,
		Host:    "build-01",
	}
}

func canonical(t testing.TB, e translog.Event) []byte {
	t.Helper()
	c, err := e.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// numberedEvents returns the canonical bytes of n distinct events.
func numberedEvents(t testing.TB, prefix string, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		out[i] = canonical(t, testEvent(fmt.Sprintf("%s-%05d", prefix, i), "delivery.publish"))
	}
	return out
}

func ndjson(lines [][]byte) []byte {
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// fillLog appends n events in batches of at most 200, waits for a
// checkpoint that covers them and returns the events by index.
func fillLog(t testing.TB, l *runningLog, token, prefix string, n int) map[uint64][]byte {
	t.Helper()
	events := numberedEvents(t, prefix, n)
	byIndex := map[uint64][]byte{}
	for start := 0; start < n; start += 200 {
		batch := events[start:min(n, start+200)]
		for i, idx := range l.appendBatch(t, token, batch) {
			byIndex[idx] = batch[i]
		}
	}
	return byIndex
}
