package modproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Timeouts of requests to the upstream proxy.
const (
	// upstreamHeaderTimeout bounds connecting and waiting for the response
	// headers.
	upstreamHeaderTimeout = 30 * time.Second
	// upstreamStallTimeout ends a download that receives nothing for this
	// long; a slow but moving download goes on.
	upstreamStallTimeout = 60 * time.Second
	// upstreamListTimeout bounds a version list: past it the proxy answers
	// from what it has stored.
	upstreamListTimeout = 15 * time.Second
)

// upstream is the GOPROXY the proxy fetches public modules from.
type upstream struct {
	base   string // without a trailing slash
	client *http.Client
	stall  time.Duration // upstreamStallTimeout, shorter in tests
}

// ParseUpstream checks a GOPROXY value and returns the URL of its first
// proxy: "https://proxy.example,direct" gives "https://proxy.example".
// direct and off are not upstreams (hegui proxy does not fetch from version
// control), and file:// proxies are accepted for tests and mirrors.
func ParseUpstream(goproxy string) (string, error) {
	for _, entry := range strings.FieldsFunc(goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		entry = strings.TrimSpace(entry)
		switch entry {
		case "", "direct", "off":
			continue
		}
		u, err := url.Parse(entry)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") || (u.Scheme != "file" && u.Host == "") {
			return "", fmt.Errorf("upstream %q is not an http, https or file URL", entry)
		}
		if u.User != nil {
			return "", fmt.Errorf("upstream %q carries credentials in the URL: give them in a .netrc file instead", u.Redacted())
		}
		return strings.TrimSuffix(entry, "/"), nil
	}
	return "", fmt.Errorf("GOPROXY %q names no proxy URL (direct and off cannot be an upstream)", goproxy)
}

func newUpstream(base string, client *http.Client) *upstream {
	if client == nil {
		client = defaultUpstreamClient()
	}
	return &upstream{base: base, client: client, stall: upstreamStallTimeout}
}

func defaultUpstreamClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = upstreamHeaderTimeout
	tr.DialContext = (&net.Dialer{Timeout: upstreamHeaderTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 64
	tr.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))
	return &http.Client{Transport: tr}
}

// upstreamError is an upstream answer other than 200.
type upstreamError struct {
	URL    string
	Status int    // 0 when the upstream could not be reached
	Text   string // the first line of the body, for refusals
	Err    error  // the transport error, when Status is 0
}

func (e *upstreamError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("upstream %s: %v", e.URL, e.Err)
	}
	msg := fmt.Sprintf("upstream %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Text != "" {
		msg += ": " + e.Text
	}
	return msg
}

func (e *upstreamError) Unwrap() error { return e.Err }

// notFound reports an answer that means "this proxy does not have it"
// (404, 410), as the go command reads them.
func (e *upstreamError) notFound() bool {
	return e.Status == http.StatusNotFound || e.Status == http.StatusGone
}

// isNotFound reports whether err is an upstream "not here".
func isNotFound(err error) bool {
	var ue *upstreamError
	return errors.As(err, &ue) && ue.notFound()
}

// get fetches base+path and returns its body, at most max bytes of it (a
// longer body fails the read), with a stall timeout. The caller closes the
// body.
func (u *upstream) get(ctx context.Context, base, path string, max int64) (io.ReadCloser, error) {
	target := base + path
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := u.client.Do(req)
	if err != nil {
		cancel()
		return nil, &upstreamError{URL: target, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		cancel()
		line, _, _ := strings.Cut(strings.TrimSpace(string(text)), "\n")
		return nil, &upstreamError{URL: target, Status: resp.StatusCode, Text: line}
	}
	if resp.ContentLength > max {
		resp.Body.Close()
		cancel()
		return nil, &upstreamError{URL: target, Status: http.StatusOK, Err: fmt.Errorf("%d bytes, more than the %d allowed", resp.ContentLength, max)}
	}
	return newStallReader(resp.Body, cancel, target, max, u.stall), nil
}

// getAll fetches base+path whole (at most max bytes).
func (u *upstream) getAll(ctx context.Context, base, path string, max int64) ([]byte, error) {
	body, err := u.get(ctx, base, path, max)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return io.ReadAll(body)
}

// stallReader reads a response body, failing it when it exceeds max bytes
// or when nothing arrives for upstreamStallTimeout.
type stallReader struct {
	body   io.ReadCloser
	cancel context.CancelFunc
	url    string
	left   int64
	stall  time.Duration
	timer  *time.Timer

	mu      sync.Mutex
	stalled bool
}

func newStallReader(body io.ReadCloser, cancel context.CancelFunc, url string, max int64, stall time.Duration) *stallReader {
	r := &stallReader{body: body, cancel: cancel, url: url, left: max, stall: stall}
	r.timer = time.AfterFunc(stall, func() {
		r.mu.Lock()
		r.stalled = true
		r.mu.Unlock()
		cancel()
	})
	return r
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		// One more byte tells a body of exactly max bytes from a longer one.
		var one [1]byte
		if n, _ := r.body.Read(one[:]); n > 0 {
			return 0, &upstreamError{URL: r.url, Status: http.StatusOK, Err: errors.New("the body is longer than allowed")}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.body.Read(p)
	r.left -= int64(n)
	if n > 0 {
		r.timer.Reset(r.stall)
	}
	if err != nil && err != io.EOF {
		r.mu.Lock()
		stalled := r.stalled
		r.mu.Unlock()
		if stalled {
			return n, &upstreamError{URL: r.url, Err: fmt.Errorf("nothing received for %s", r.stall)}
		}
		return n, &upstreamError{URL: r.url, Err: err}
	}
	return n, err
}

func (r *stallReader) Close() error {
	r.timer.Stop()
	err := r.body.Close()
	r.cancel()
	return err
}
