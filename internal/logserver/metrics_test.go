package logserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMetrics counts appends by status and the entries appended.
func TestMetrics(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	l := startLog(t, h)
	l.appendBatch(t, token, numberedEvents(t, "m", 3))
	if status, _, _ := l.post(t, "", "application/json", canonical(t, testEvent("a", "user.login"))); status != http.StatusUnauthorized {
		t.Fatalf("status %d", status)
	}
	resp, err := http.Get(l.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`hegui_log_append_requests_total{code="200"} 1`,
		`hegui_log_append_requests_total{code="401"} 1`,
		`hegui_log_appended_entries_total 3`,
		`hegui_log_append_duration_seconds_count 2`,
		`hegui_log_inflight_entries 0`,
		`hegui_log_reserved_body_bytes 0`,
		`hegui_log_integrated_size 3`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
