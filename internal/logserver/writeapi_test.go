package logserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
)

func TestWriteAPI(t *testing.T) {
	h := newHome(t)
	ops := addToken(t, h, "ops", "*")
	ci := addToken(t, h, "ci", "delivery.*")
	l := startLog(t, h)

	good := canonical(t, testEvent("alice", "user.login"))
	delivery := canonical(t, testEvent("ci-bot", "delivery.publish"))
	badOutcome := strings.Replace(string(good), `"outcome":"success"`, `"outcome":"maybe"`, 1)
	bigAttrs := translog.Event{Time: time.Date(2026, 5, 17, 8, 30, 0, 0, time.UTC), Actor: "a", Action: "x", Outcome: "success",
		Attributes: map[string]string{}}
	for i := range 20 {
		bigAttrs.Attributes[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", 1000)
	}
	bigAttrsJSON, err := json.Marshal(bigAttrs)
	if err != nil {
		t.Fatal(err)
	}
	tooManyLines := strings.Repeat(string(good)+"\n", logserver.MaxBatchEvents+1)

	const jsonType, ndjsonType = "application/json", "application/x-ndjson"
	tests := []struct {
		name        string
		token       string
		contentType string
		body        string
		status      int
		contains    string
	}{
		{"no token", "", jsonType, string(good), http.StatusUnauthorized, "bearer token"},
		{"wrong token", "hgl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", jsonType, string(good), http.StatusUnauthorized, "bearer token"},
		{"token of another log", logserver.TokenPrefix + "x", jsonType, string(good), http.StatusUnauthorized, ""},
		{"action not allowed to the writer", ci, jsonType, string(good), http.StatusForbidden, `writer "ci" may not log action "user.login"`},
		{"batch with one action not allowed", ci, ndjsonType, string(delivery) + "\n" + string(good) + "\n", http.StatusForbidden, "line 2:"},
		{"schema error", ops, jsonType, badOutcome, http.StatusBadRequest, "outcome"},
		{"missing field", ops, jsonType, strings.Replace(string(good), `"actor":"alice",`, "", 1), http.StatusBadRequest, "actor: missing"},
		{"unknown field", ops, jsonType, strings.Replace(string(good), `{`, `{"level":"info",`, 1), http.StatusBadRequest, `unknown field "level"`},
		{"not JSON", ops, jsonType, "hello", http.StatusBadRequest, "event:"},
		{"two events without NDJSON", ops, jsonType, string(good) + "\n" + string(delivery), http.StatusBadRequest, "trailing data"},
		{"body over the request limit", ops, jsonType, `{"message":"` + strings.Repeat("m", 4*translog.MaxEventSize) + `"}`, http.StatusRequestEntityTooLarge, "larger than"},
		{"canonical event over the event limit", ops, jsonType, string(bigAttrsJSON), http.StatusRequestEntityTooLarge, "limit"},
		{"batch with one bad line", ops, ndjsonType, string(good) + "\n" + badOutcome + "\n" + string(delivery) + "\n", http.StatusBadRequest, "line 2: event: outcome"},
		{"batch with a line over the limit", ops, ndjsonType, string(good) + "\n" + strings.Repeat("x", 4*translog.MaxEventSize+1) + "\n", http.StatusBadRequest, "line 2"},
		{"empty batch", ops, ndjsonType, "\n\n", http.StatusBadRequest, "no events"},
		{"batch over the event count limit", ops, ndjsonType, tooManyLines, http.StatusRequestEntityTooLarge, fmt.Sprint(logserver.MaxBatchEvents)},
	}

	// One good append before and one after the refusals: their indexes
	// are consecutive only if no refused request appended anything.
	first := appendOne(t, l, ops, good)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := l.post(t, tt.token, tt.contentType, []byte(tt.body))
			if status != tt.status {
				t.Fatalf("status %d (%s), want %d", status, strings.TrimSpace(body), tt.status)
			}
			if !strings.Contains(body, tt.contains) {
				t.Fatalf("answer %q does not contain %q", body, tt.contains)
			}
			if status == http.StatusUnauthorized && !strings.HasPrefix(header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without a Bearer challenge: WWW-Authenticate %q", header.Get("WWW-Authenticate"))
			}
		})
	}
	second := appendOne(t, l, ops, delivery)
	if second != first+1 {
		t.Fatalf("a refused request appended entries: index %d after %d", second, first)
	}

	// A batch is appended in order.
	batch := numberedEvents(t, "batch", 5)
	idx := l.appendBatch(t, ci, batch)
	for i := range idx {
		if idx[i] != second+1+uint64(i) {
			t.Fatalf("batch indexes %v after %d", idx, second)
		}
	}
	cp := waitForSize(t, l.client, idx[4]+1)
	if cp.Size != idx[4]+1 {
		t.Fatalf("checkpoint size %d, want %d", cp.Size, idx[4]+1)
	}
	for i, want := range [][]byte{good, delivery, batch[0], batch[4]} {
		at := []uint64{first, second, idx[0], idx[4]}[i]
		got, err := l.client.Entry(context.Background(), at, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("entry %d is %s, want %s", at, got, want)
		}
	}
}

// appendOne appends one event and returns its index.
func appendOne(t testing.TB, l *runningLog, token string, event []byte) uint64 {
	t.Helper()
	status, header, body := l.post(t, token, "application/json", event)
	if status != http.StatusOK {
		t.Fatalf("append: %d %s", status, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("answer Content-Type %q", ct)
	}
	var r translog.AddResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return r.Index
}

// TestServerCanonicalises: the log stores the canonical encoding of what
// a writer sent, whatever JSON spelling it used.
func TestServerCanonicalises(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops")
	l := startLog(t, h)
	sent := `{ "outcome":"success", "time":"2026-05-17T16:30:00.500+08:00", "actor":"\u0061lice", "action":"user.login" }`
	idx := appendOne(t, l, token, []byte(sent))
	cp := waitForSize(t, l.client, idx+1)
	got, err := l.client.Entry(context.Background(), idx, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"action":"user.login","actor":"alice","outcome":"success","schema":"hegui.dev/audit-event/v1","time":"2026-05-17T08:30:00.5Z"}`
	if string(got) != want {
		t.Fatalf("stored %s, want %s", got, want)
	}
}

// TestHTTPAppender drives the server with translog's appender: durable
// indexes, a covering checkpoint on request, and errors of the right type.
func TestHTTPAppender(t *testing.T) {
	ctx := context.Background()
	h := newHome(t)
	token := addToken(t, h, "app", "user.*")
	l := startLog(t, h)

	app, err := translog.NewHTTPAppender(l.URL, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	i0, err := app.Append(ctx, testEvent("alice", "user.login"))
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	r, err := app.AppendAndWait(ctx, testEvent("bob", "user.logout"))
	if err != nil {
		t.Fatalf("AppendAndWait: %v", err)
	}
	if r.Index != i0+1 {
		t.Fatalf("AppendAndWait index %d after %d", r.Index, i0)
	}
	cp, err := translog.OpenCheckpoint([]byte(r.Checkpoint), verifiersOf(t, h))
	if err != nil {
		t.Fatalf("the checkpoint AppendAndWait returned: %v", err)
	}
	if cp.Size <= r.Index {
		t.Fatalf("checkpoint of size %d does not cover index %d", cp.Size, r.Index)
	}
	p, err := l.client.Inclusion(ctx, canonical(t, testEvent("bob", "user.logout")), r.Index, cp)
	if err != nil {
		t.Fatalf("Inclusion in the returned checkpoint: %v", err)
	}
	if _, err := p.Verify(canonical(t, testEvent("bob", "user.logout")), verifiersOf(t, h)); err != nil {
		t.Fatal(err)
	}

	var unavailable *translog.UnavailableError
	if _, err := app.Append(ctx, testEvent("alice", "key.rotate")); !errors.As(err, &unavailable) || unavailable.Status != http.StatusForbidden {
		t.Fatalf("Append of a forbidden action = %v, want an UnavailableError with status 403", err)
	}
	stranger, err := translog.NewHTTPAppender(l.URL, "hgl_not-a-token", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stranger.Append(ctx, testEvent("alice", "user.login")); !errors.As(err, &unavailable) || unavailable.Status != http.StatusUnauthorized {
		t.Fatalf("Append with an unknown token = %v, want an UnavailableError with status 401", err)
	}
	var rejected *translog.RejectedError
	if _, err := app.Append(ctx, translog.Event{Actor: "alice", Action: "user.login", Outcome: "success"}); !errors.As(err, &rejected) {
		t.Fatalf("Append of an event without time = %v, want a RejectedError", err)
	}

	// A batch: the indexes follow on, in order.
	batch := []translog.Event{testEvent("carol", "user.login"), testEvent("dave", "user.login"), testEvent("erin", "user.logout")}
	idx, err := app.AppendBatch(ctx, batch)
	if err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
	if len(idx) != 3 || idx[1] != idx[0]+1 || idx[2] != idx[0]+2 || idx[0] <= r.Index {
		t.Fatalf("AppendBatch indexes %v after %d", idx, r.Index)
	}
	if _, err := app.AppendBatch(ctx, []translog.Event{testEvent("frank", "key.rotate")}); !errors.As(err, &unavailable) || unavailable.Status != http.StatusForbidden {
		t.Fatalf("AppendBatch of a forbidden action = %v, want an UnavailableError with status 403", err)
	}
	tooMany := make([]translog.Event, translog.MaxBatchEvents+1)
	if _, err := app.AppendBatch(ctx, tooMany); !errors.As(err, &rejected) || rejected.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("AppendBatch of %d events = %v, want a RejectedError with status 413", len(tooMany), err)
	}
}

// TestWritersReload: tokens added or revoked while the server runs apply
// without a restart (the server re-reads the writers file within about a
// second; the test polls with a generous deadline).
func TestWritersReload(t *testing.T) {
	h := newHome(t)
	addToken(t, h, "first")
	l := startLog(t, h)
	event := canonical(t, testEvent("alice", "user.login"))

	late := addToken(t, h, "late", "user.*")
	waitForStatus(t, l, late, event, http.StatusOK)

	if err := logserver.RemoveWriter(h.Dir, "late"); err != nil {
		t.Fatal(err)
	}
	waitForStatus(t, l, late, event, http.StatusUnauthorized)
}

func waitForStatus(t *testing.T, l *runningLog, token string, event []byte, want int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		status, _, body := l.post(t, token, "application/json", event)
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d (%s) after %v, want %d", status, strings.TrimSpace(body), waitLimit, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBearerSchemeCaseInsensitive: the authentication scheme is
// case-insensitive (RFC 7235 section 2.1) and may be followed by more than
// one space; other schemes are refused.
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	l := startLog(t, h)
	event := canonical(t, testEvent("alice", "user.login"))
	for _, tc := range []struct {
		authorization string
		status        int
	}{
		{"Bearer " + token, http.StatusOK},
		{"bearer " + token, http.StatusOK},
		{"BEARER " + token, http.StatusOK},
		{"Bearer   " + token, http.StatusOK},
		{"Basic " + token, http.StatusUnauthorized},
		{"Bearer" + token, http.StatusUnauthorized},
		{token, http.StatusUnauthorized},
	} {
		req, err := http.NewRequest(http.MethodPost, l.URL+"/add", strings.NewReader(string(event)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", tc.authorization)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			scheme, _, _ := strings.Cut(tc.authorization, token)
			t.Errorf("Authorization %q+token: %d, want %d", scheme, resp.StatusCode, tc.status)
		}
	}
}
