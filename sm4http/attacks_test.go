package sm4http_test

// Attacks on the protocol, each with what the package must do: a
// response sent back as a request, a response to another request, a body
// moved to another endpoint, a handler that panics half-way, statuses
// without a body.

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"hegui.dev/hegui/sm4http"
)

var psk = bytes.Repeat([]byte{0x11}, 16)

// recorder captures the raw (sealed) request and response of the last round trip.
type recorder struct {
	reqHeader, respHeader string
	reqBody, respBody     []byte
	status                int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	r.reqHeader, r.reqBody = req.Header.Get(sm4http.Header), body
	req2 := req.Clone(req.Context())
	req2.Body = io.NopCloser(bytes.NewReader(body))
	req2.ContentLength = int64(len(body))
	resp, err := http.DefaultTransport.RoundTrip(req2)
	if err != nil {
		return nil, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.respHeader, r.respBody, r.status = resp.Header.Get(sm4http.Header), rb, resp.StatusCode
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	return resp, nil
}

// replay returns a canned response.
type replay struct{ r *recorder }

func (p replay) RoundTrip(req *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, req.Body)
	req.Body.Close()
	h := http.Header{}
	h.Set(sm4http.Header, p.r.respHeader)
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(p.r.respBody)), Request: req}, nil
}

var got atomic.Value

var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	got.Store(string(b))
	w.Write(bytes.ToUpper(b))
})

func TestResponseSwapPSK(t *testing.T) {
	srv := httptest.NewServer((&sm4http.Server{Keys: sm4http.StaticKeys{"app": psk}}).Handler(echo))
	defer srv.Close()
	rec := &recorder{}
	c := &http.Client{Transport: &sm4http.Transport{Base: rec, KeyID: "app", Key: psk}}
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("balance of alice: 100"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	// A later request (bob's) gets alice's old response, replayed by the network.
	c2 := &http.Client{Transport: &sm4http.Transport{Base: replay{rec}, KeyID: "app", Key: psk}}
	resp, err = c2.Post(srv.URL, "text/plain", strings.NewReader("balance of bob?"))
	if err != nil {
		t.Logf("refused: %v", err)
		return
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("request for bob accepted a replayed response to another request: %q", b)
	}
}

func reflectResponse(t *testing.T, s *sm4http.Server, tr *sm4http.Transport) {
	srv := httptest.NewServer(s.Handler(echo))
	defer srv.Close()
	rec := &recorder{}
	tr.Base = rec
	c := &http.Client{Transport: tr}
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("transfer 100 to carol"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	// The attacker posts the server's response back to the server as a request.
	req, _ := http.NewRequest("POST", srv.URL+"/other-endpoint", bytes.NewReader(rec.respBody))
	req.Header.Set(sm4http.Header, rec.respHeader)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(r2.Body)
	if r2.StatusCode == 200 {
		t.Fatalf("server accepted its own response as a request; handler read %q", got.Load())
	}
}

func TestResponseReflectedAsRequestPSK(t *testing.T) {
	reflectResponse(t, &sm4http.Server{Keys: sm4http.StaticKeys{"app": psk}}, &sm4http.Transport{KeyID: "app", Key: psk})
}

func TestResponseReflectedAsRequestWrapped(t *testing.T) {
	priv, _ := sm2.GenerateKey(rand.Reader)
	reflectResponse(t, &sm4http.Server{PrivateKey: priv}, &sm4http.Transport{ServerKey: &priv.PublicKey})
}

func TestRedirectToOtherPath(t *testing.T) {
	// A captured (dropped) request is delivered to another path/method: accepted.
	var path string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { path = r.Method + " " + r.URL.Path; echo(w, r) })
	srv := httptest.NewServer((&sm4http.Server{Keys: sm4http.StaticKeys{"app": psk}}).Handler(h))
	defer srv.Close()
	cap := &capture{}
	c := &http.Client{Transport: &sm4http.Transport{Base: cap, KeyID: "app", Key: psk}}
	c.Post(srv.URL+"/api/comment", "text/plain", strings.NewReader(`{"amount":100}`))
	req, _ := http.NewRequest("PUT", srv.URL+"/api/transfer", bytes.NewReader(cap.body))
	req.Header.Set(sm4http.Header, cap.h)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if r2.StatusCode == 200 {
		t.Fatalf("sealed body for POST /api/comment accepted at %s", path)
	}
}

type capture struct {
	h    string
	body []byte
}

func (c *capture) RoundTrip(req *http.Request) (*http.Response, error) {
	c.body, _ = io.ReadAll(req.Body)
	c.h = req.Header.Get(sm4http.Header)
	return nil, fmt.Errorf("dropped")
}

func TestNoBodyStatus(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.ReadAll(r.Body); w.WriteHeader(204) })
	srv := httptest.NewServer((&sm4http.Server{Keys: sm4http.StaticKeys{"app": psk}}).Handler(h))
	defer srv.Close()
	c := &http.Client{Transport: &sm4http.Transport{KeyID: "app", Key: psk}}
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("204 response body read fails: %v", err)
	}
}

func TestPanicBodyRefused(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Write([]byte(`{"items":[1,2,3`))
		panic("db error mid-response")
	})
	recoverer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() { recover() }()
			next.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(recoverer((&sm4http.Server{Keys: sm4http.StaticKeys{"app": psk}}).Handler(inner)))
	defer srv.Close()
	c := &http.Client{Transport: &sm4http.Transport{KeyID: "app", Key: psk}}
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("truncated body accepted as complete and authentic: %d %q", resp.StatusCode, b)
	}
}
