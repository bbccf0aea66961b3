package logserver_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/httpserve"
	"hegui.dev/hegui/internal/logserver"
)

// TestOverloadAnswers503 fills the server's in-flight limit with a batch
// whose body has not all arrived: its events count as soon as they are
// read. A request that does not fit meanwhile is answered 503 with
// Retry-After and appends nothing, and fits once the load is gone; a batch
// larger than the limit, which can never fit, is answered 413.
func TestOverloadAnswers503(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	srv := newServer(t, h, logserver.Options{MaxInFlight: 2})
	addr := serveLikeCLI(t, srv, httpserve.DefaultMaxConnections)
	l := &runningLog{URL: "http://" + addr}
	ev := canonical(t, testEvent("alice", "user.login"))

	status, _, body := l.post(t, token, "application/x-ndjson", ndjson([][]byte{ev, ev, ev}))
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "more than 2 events") {
		t.Fatalf("3 events over a limit of 2: %d %q, want 413 naming the limit", status, strings.TrimSpace(body))
	}

	// Two events, then a blank line whose newline is held back.
	held := append(ndjson([][]byte{ev, ev}), '\n')
	c := sendPartial(t, addr, postHead(token, "application/x-ndjson", len(held)), held[:len(held)-1])
	waitForMetric(t, addr, "hegui_log_inflight_entries", 2)

	status, header, body := l.post(t, token, "application/json", ev)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("1 event while 2 of 2 are in flight: %d %q, want 503", status, strings.TrimSpace(body))
	}
	if s, err := strconv.Atoi(header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", header.Get("Retry-After"))
	}

	if _, err := c.Write(held[len(held)-1:]); err != nil {
		t.Fatal(err)
	}
	resp, body := readAnswer(t, c)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the held batch: %d %q", resp.StatusCode, body)
	}
	// The refused request appended nothing: these are the first entries.
	if !strings.Contains(body, `"indexes":[0,1]`) {
		t.Errorf("answer %s, want indexes 0 and 1", body)
	}
	if i := appendOne(t, l, token, ev); i != 2 {
		t.Errorf("the refused event, sent again: index %d, want 2", i)
	}
}

// TestBatchOfMaxEvents: a batch of the documented maximum fits a server
// with default settings.
func TestBatchOfMaxEvents(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	l := startLog(t, h)
	events := numberedEvents(t, "max", logserver.MaxBatchEvents)
	idx := l.appendBatch(t, token, events)
	if idx[0] != 0 || idx[len(idx)-1] != logserver.MaxBatchEvents-1 {
		t.Fatalf("indexes %d..%d, want 0..%d", idx[0], idx[len(idx)-1], logserver.MaxBatchEvents-1)
	}
}

// TestBodyAdmittedBeforeRead holds the server's whole body budget with a
// batch whose body has not arrived. Another request is answered 503 with
// Retry-After, and one larger than the budget 413, before either sends a
// byte of its body: the server does not read a body it has no room for.
// Once the held request is gone, the refused one fits.
func TestBodyAdmittedBeforeRead(t *testing.T) {
	const budget = 1 << 20
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	srv := newServer(t, h, logserver.Options{MaxBodyBytes: budget})
	addr := serveLikeCLI(t, srv, httpserve.DefaultMaxConnections)
	ev := canonical(t, testEvent("alice", "user.login"))

	holder := sendPartial(t, addr, postHead(token, "application/x-ndjson", budget), ndjson([][]byte{ev}))
	waitForMetric(t, addr, "hegui_log_reserved_body_bytes", budget)

	for _, tc := range []struct {
		name        string
		contentType string
		length      int
		status      int
	}{
		{"event while the budget is held", "application/json", len(ev), http.StatusServiceUnavailable},
		{"batch larger than the budget", "application/x-ndjson", budget + 1, http.StatusRequestEntityTooLarge},
		{"event larger than its limit", "application/json", 1 << 20, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sendPartial(t, addr, postHead(token, tc.contentType, tc.length), nil)
			resp, body := readAnswer(t, c)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			expectClosed(t, resp, c)
		})
	}

	holder.Close()
	waitForMetric(t, addr, "hegui_log_reserved_body_bytes", 0)
	l := &runningLog{URL: "http://" + addr}
	if i := appendOne(t, l, token, ev); i != 0 {
		t.Errorf("first append at index %d", i)
	}
}

// postHead is the request line and headers of an append of length bytes.
func postHead(token, contentType string, length int) string {
	return fmt.Sprintf("POST /add HTTP/1.1\r\nHost: log.test\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d", token, contentType, length)
}

// newServer starts a log server with opts on h and closes it when the test
// ends.
func newServer(t *testing.T, h *logserver.Home, opts logserver.Options) *logserver.Server {
	t.Helper()
	opts.Home = h
	srv, err := logserver.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("logserver.New: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(context.Background()); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
	})
	return srv
}
