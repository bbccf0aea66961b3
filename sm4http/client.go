package sm4http

import (
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// Transport is an http.RoundTripper that seals request bodies and opens
// response bodies. With KeyID and Key it uses the pre-shared key; with
// ServerKey it chooses a fresh key for each request and wraps it with the
// server's SM2 public key.
type Transport struct {
	// Base sends the requests (default http.DefaultTransport).
	Base http.RoundTripper
	// KeyID and Key are a pre-shared key and its ID.
	KeyID string
	Key   []byte
	// ServerKey is the server's SM2 public key, to wrap fresh keys with.
	ServerKey *ecdsa.PublicKey
	// Window is how far a response's timestamp may be from now, either
	// way (default 5 minutes).
	Window time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (t *Transport) window() time.Duration {
	if t.Window > 0 {
		return t.Window
	}
	return 5 * time.Minute
}

// ErrNotEncrypted is the error for a successful response that came back
// unencrypted: a downgrade, refused.
var ErrNotEncrypted = errors.New("sm4http: the response is not encrypted")

// RoundTrip sends req with its body sealed and opens the response's. An
// error response the server's middleware wrote itself (a 4xx or 5xx) comes
// back as it is, unencrypted; a 2xx or 3xx must be encrypted.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	key, p, err := t.params()
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	header := p.String()
	body := req.Body
	pr, pw := io.Pipe()
	go func() {
		s := newSealer(pw, aead, requestBinding(req.Method, req.URL.RequestURI(), header), p.nonce)
		var err error
		if body != nil {
			_, err = io.Copy(s, body)
			body.Close()
		}
		if err == nil {
			err = s.Close()
		}
		pw.CloseWithError(err)
	}()
	r2 := req.Clone(req.Context())
	r2.Body = pr
	r2.GetBody = nil
	r2.ContentLength = -1
	r2.Header.Set(Header, header)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r2)
	if err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	rh := resp.Header.Get(Header)
	if rh == "" {
		if resp.StatusCode < 400 {
			resp.Body.Close()
			return nil, ErrNotEncrypted
		}
		return resp, nil
	}
	rp, err := parseParams(rh)
	if err != nil || rp.kid != p.kid || string(rp.wrapped) != string(p.wrapped) {
		resp.Body.Close()
		return nil, fmt.Errorf("sm4http: the response's %s header does not answer the request's", Header)
	}
	if d := now().Sub(rp.time()); d > t.window() || d < -t.window() {
		resp.Body.Close()
		return nil, fmt.Errorf("sm4http: the response's timestamp is %s from this clock, outside the %s window", d.Round(time.Second), t.window())
	}
	if req.Method == http.MethodHead || !bodyAllowed(resp.StatusCode) {
		return resp, nil
	}
	// The response's chunks authenticate the request's header: a response
	// to another request (or one replayed) does not open.
	resp.Body = struct {
		io.Reader
		io.Closer
	}{newOpener(resp.Body, aead, responseBinding(header, rh), rp.nonce), resp.Body}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	return resp, nil
}

// params chooses the request's key and header parameters.
func (t *Transport) params() ([]byte, params, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	p := params{ts: now().Unix(), nonce: make([]byte, nonceSize)}
	if _, err := rand.Read(p.nonce); err != nil {
		return nil, p, err
	}
	switch {
	case t.ServerKey != nil:
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, p, err
		}
		wrapped, err := sm2.EncryptASN1(rand.Reader, t.ServerKey, key)
		if err != nil {
			return nil, p, fmt.Errorf("sm4http: wrapping the key: %w", err)
		}
		p.wrapped = wrapped
		return key, p, nil
	case validKeyID(t.KeyID) && len(t.Key) == KeySize:
		p.kid = t.KeyID
		return t.Key, p, nil
	}
	return nil, p, errors.New("sm4http: the transport needs a KeyID (letters, digits, . - _) and a 16-byte Key, or a ServerKey")
}
