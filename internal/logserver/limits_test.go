package logserver_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/httpserve"
	"hegui.dev/hegui/internal/logserver"
)

// TestRefusedBodiesAreNotRead sends requests that declare a body and then
// send none of it, as a client that trickles its body would. A request
// the server refuses without needing the body, an append without
// credentials above all, is answered at once and its connection closed,
// instead of being held while the server waits for the body.
func TestRefusedBodiesAreNotRead(t *testing.T) {
	h := newHome(t)
	token := addToken(t, h, "ops", "*")
	srv := newServer(t, h, logserver.Options{})
	addr := serveLikeCLI(t, srv, httpserve.DefaultMaxConnections)
	for _, tc := range []struct {
		name   string
		head   string
		status int
	}{
		{"append without credentials", "POST /add HTTP/1.1\r\nHost: log.test\r\nContent-Type: application/json\r\nContent-Length: 100000", http.StatusUnauthorized},
		{"append with an unknown token", "POST /add HTTP/1.1\r\nHost: log.test\r\nAuthorization: Bearer hgl_unknown\r\nContent-Length: 1000", http.StatusUnauthorized},
		{"append of a body over the limit", postHead(token, "application/x-ndjson", 64<<20), http.StatusRequestEntityTooLarge},
		{"read with a body", "GET /log.pub HTTP/1.1\r\nHost: log.test\r\nContent-Length: 1000", http.StatusOK},
		{"unknown path with a body", "PUT /add HTTP/1.1\r\nHost: log.test\r\nContent-Length: 1000", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sendPartial(t, addr, tc.head, nil)
			resp, body := readAnswer(t, c)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			expectClosed(t, resp, c)
		})
	}
}

// TestConnectionLimit: a server keeps at most its limit of connections
// open; a further client is served once one of them closes.
func TestConnectionLimit(t *testing.T) {
	h := newHome(t)
	srv := newServer(t, h, logserver.Options{})
	addr := serveLikeCLI(t, srv, 2)
	first := sendPartial(t, addr, "", nil)
	sendPartial(t, addr, "", nil)

	third := sendPartial(t, addr, "GET /log.pub HTTP/1.1\r\nHost: log.test", nil)
	// The kernel completes the connection, but the server does not take
	// it while two are open. A short wait can only make this check pass
	// wrongly on a slow machine, never fail wrongly.
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var b [1]byte
	if n, err := third.Read(b[:]); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection over a limit of 2 was answered (%d bytes, %v)", n, err)
	}
	first.Close()
	resp, body := readAnswer(t, third)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, testOrigin) {
		t.Fatalf("third connection after one closed: %d %q", resp.StatusCode, body)
	}
}

// serveLikeCLI serves srv on 127.0.0.1 as `hegui log serve` does, with its
// httpserve server behind a LimitListener of maxConns, and returns the
// address.
func serveLikeCLI(t *testing.T, srv *logserver.Server, maxConns int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httpserve.Server(srv.ServeOptions())
	go hs.Serve(httpserve.LimitListener(ln, maxConns))
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// sendPartial connects to addr and sends head, a request line and its
// headers ("" sends nothing), then body, which may be shorter than the
// request's Content-Length says.
func sendPartial(t *testing.T, addr, head string, body []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if head != "" {
		if _, err := io.WriteString(c, head+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write(body); err != nil {
		t.Fatal(err)
	}
	return c
}

// readAnswer reads the response on c. It fails the test when none comes
// within waitLimit: a server that waits for the rest of a body never
// answers.
func readAnswer(t *testing.T, c net.Conn) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitLimit))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("answer body: %v", err)
	}
	return resp, strings.TrimSpace(string(body))
}

// expectClosed checks that the server said it closes the connection of
// resp, and did.
func expectClosed(t *testing.T, resp *http.Response, c net.Conn) {
	t.Helper()
	if !resp.Close {
		t.Errorf("answer without Connection: close")
	}
	c.SetReadDeadline(time.Now().Add(waitLimit))
	var b [1]byte
	if n, err := c.Read(b[:]); n > 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection still open after the answer (%d bytes, %v)", n, err)
	}
}

// waitForMetric polls the server's metrics until name has value.
func waitForMetric(t *testing.T, addr, name string, value float64) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	var last string
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = "absent"
		for line := range strings.Lines(string(body)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
				last = v
				if f, err := strconv.ParseFloat(v, 64); err == nil && f == value {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s is %s after %v, want %v", name, last, waitLimit, value)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
