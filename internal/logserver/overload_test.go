package logserver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/logserver"
)

// TestOverloadAnswers503 fills the server's in-flight limit: a request
// that does not fit is answered 503 with Retry-After, appends nothing, and
// the same request fits once the load is gone.
func TestOverloadAnswers503(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h, MaxInFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.Close()
		srv.Close(context.Background())
	}()
	ev := canonical(t, testEvent("alice", "user.login"))
	batch := bytes.Join([][]byte{ev, ev, ev}, []byte("\n"))
	post := func(body []byte) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/add", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp, string(out)
	}
	resp, _ := post(batch)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("3 events over a limit of 2: status %d, want 503", resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	resp, body := post(bytes.Join([][]byte{ev, ev}, []byte("\n")))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("2 events within the limit: status %d", resp.StatusCode)
	}
	// The refused request appended nothing: these are the first entries.
	if !strings.Contains(body, `"indexes":[0,1]`) {
		t.Errorf("answer %s, want indexes 0 and 1", body)
	}
}
