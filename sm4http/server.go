package sm4http

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// Keys gives pre-shared keys by ID.
type Keys interface {
	// Key returns the key with the ID, or ErrUnknownKey.
	Key(id string) ([]byte, error)
}

// ErrUnknownKey is the error for a key ID a Keys does not hold.
var ErrUnknownKey = errors.New("sm4http: unknown key ID")

// StaticKeys are pre-shared keys in memory, by ID.
type StaticKeys map[string][]byte

// Key returns the key with the ID.
func (k StaticKeys) Key(id string) ([]byte, error) {
	if key, ok := k[id]; ok {
		return key, nil
	}
	return nil, ErrUnknownKey
}

// Server decrypts request bodies and encrypts response bodies.
type Server struct {
	// Keys are the pre-shared keys requests may name.
	Keys Keys
	// PrivateKey unwraps the keys clients choose and wrap with its public
	// key; nil refuses such requests.
	PrivateKey *sm2.PrivateKey
	// Window is how far a request's timestamp may be from now, either way
	// (default 5 minutes); a nonce is remembered that long.
	Window time.Duration
	// MaxBuffered: a body up to this size (default 1 MiB) is
	// authenticated whole before the handler sees it, so that a changed
	// one is answered 400 by the server; a larger one is streamed, and a
	// change is the handler's read error (ErrTampered).
	MaxBuffered int64
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time // nonces, until when they are remembered
	swept time.Time            // when expired nonces were last removed
}

func (s *Server) window() time.Duration {
	if s.Window > 0 {
		return s.Window
	}
	return 5 * time.Minute
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// maxSeen bounds the nonces remembered; past it, a request is refused as
// if replayed until old ones expire (503: too many requests to check).
const maxSeen = 1 << 20

// fresh records a nonce and reports whether it is new. A nonce is
// remembered until a window after the later of its request's timestamp
// and now: as long as the request could be accepted again.
func (s *Server) fresh(nonce string, now, ts time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	// Expired nonces are swept at most once a tenth of the window, so a
	// full cache costs a sweep now and then, not one per request.
	if len(s.seen) >= maxSeen/2 && now.Sub(s.swept) > s.window()/10 {
		s.swept = now
		for n, until := range s.seen {
			if now.After(until) {
				delete(s.seen, n)
			}
		}
	}
	if until, ok := s.seen[nonce]; ok && !now.After(until) {
		return false, nil
	}
	if len(s.seen) >= maxSeen {
		return false, errors.New("too many requests within the replay window to check")
	}
	later := now
	if ts.After(now) {
		later = ts
	}
	s.seen[nonce] = later.Add(s.window())
	return true, nil
}

// Handler wraps next: a request must carry the Hegui-SM4 header and a body
// sealed with its key; next reads the plaintext and what it writes is
// sealed back with the same key and a fresh nonce. A request that does not
// is answered with a 4xx and a line saying why: 400 for a missing or
// malformed header, a timestamp outside the window, a key that cannot be
// unwrapped or a body that does not open; 401 for an unknown key ID; 409
// for a replayed nonce.
func (s *Server) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get(Header)
		if h == "" {
			http.Error(w, "sm4http: the request is not encrypted (no "+Header+" header)", http.StatusBadRequest)
			return
		}
		p, err := parseParams(h)
		if err != nil {
			http.Error(w, "sm4http: "+err.Error(), http.StatusBadRequest)
			return
		}
		now := s.now()
		if d := now.Sub(p.time()); d > s.window() || d < -s.window() {
			http.Error(w, fmt.Sprintf("sm4http: the request's timestamp is %s from this server's clock, outside the %s window", d.Round(time.Second), s.window()), http.StatusBadRequest)
			return
		}
		key, status, err := s.key(p)
		if err != nil {
			http.Error(w, "sm4http: "+err.Error(), status)
			return
		}
		aead, err := newAEAD(key)
		if err != nil {
			http.Error(w, "sm4http: "+err.Error(), http.StatusInternalServerError)
			return
		}
		body := io.Reader(newOpener(r.Body, aead, requestBinding(r.Method, r.URL.RequestURI(), h), p.nonce))
		limit := s.MaxBuffered
		if limit == 0 {
			limit = 1 << 20
		}
		// A body that fits is opened whole first: a change is a 400 here.
		buf, err := io.ReadAll(io.LimitReader(body, limit+1))
		if err != nil {
			http.Error(w, "sm4http: the request body does not decrypt: changed, cut short, sealed with another key, or sent to another endpoint", http.StatusBadRequest)
			return
		}
		if int64(len(buf)) <= limit {
			body = bytes.NewReader(buf)
		} else {
			body = io.MultiReader(bytes.NewReader(buf), body)
		}
		// The nonce is spent only by a request whose body authenticates
		// (its first MaxBuffered bytes), so that nobody without the key
		// can fill the replay cache.
		if ok, err := s.fresh(string(p.nonce), now, p.time()); err != nil {
			http.Error(w, "sm4http: "+err.Error(), http.StatusServiceUnavailable)
			return
		} else if !ok {
			http.Error(w, "sm4http: the request was replayed (its nonce was seen within the window)", http.StatusConflict)
			return
		}
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(body)
		r2.ContentLength = -1
		r2.Header.Del(Header)
		nonce := make([]byte, nonceSize)
		if _, err := rand.Read(nonce); err != nil {
			http.Error(w, "sm4http: "+err.Error(), http.StatusInternalServerError)
			return
		}
		rp := params{kid: p.kid, wrapped: p.wrapped, ts: now.Unix(), nonce: nonce}
		ew := &encryptingWriter{ResponseWriter: w, header: rp.String(), bind: responseBinding(h, rp.String()), aead: aead, nonce: nonce, head: r.Method == http.MethodHead}
		// The last chunk is sealed only when the handler returns: a
		// handler that panics leaves a body the client refuses as cut
		// short, never one that looks whole.
		next.ServeHTTP(ew, r2)
		ew.finish()
	})
}

// key finds the request's key: pre-shared by ID, or unwrapped with the
// server's private key.
func (s *Server) key(p params) ([]byte, int, error) {
	if p.wrapped == nil {
		if s.Keys == nil {
			return nil, http.StatusUnauthorized, fmt.Errorf("key ID %q: this server has no pre-shared keys", p.kid)
		}
		key, err := s.Keys.Key(p.kid)
		if errors.Is(err, ErrUnknownKey) {
			return nil, http.StatusUnauthorized, fmt.Errorf("key ID %q is not known here", p.kid)
		}
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		return key, 0, nil
	}
	if s.PrivateKey == nil {
		return nil, http.StatusBadRequest, errors.New("this server takes no wrapped keys (no SM2 private key)")
	}
	key, err := sm2.Decrypt(s.PrivateKey, p.wrapped)
	if err != nil || len(key) != KeySize {
		return nil, http.StatusBadRequest, errors.New("the wrapped key does not unwrap with this server's SM2 key (wrapped for another server?)")
	}
	return key, 0, nil
}

// encryptingWriter seals what a handler writes.
type encryptingWriter struct {
	http.ResponseWriter
	header, bind string
	aead         cipher.AEAD
	nonce        []byte
	head         bool // a HEAD request: no body
	sealer       *sealer
	wroteHeader  bool
}

func (e *encryptingWriter) WriteHeader(code int) {
	if e.wroteHeader {
		return
	}
	e.wroteHeader = true
	h := e.Header()
	h.Del("Content-Length")
	h.Set(Header, e.header)
	e.ResponseWriter.WriteHeader(code)
	if !e.head && bodyAllowed(code) {
		e.sealer = newSealer(e.ResponseWriter, e.aead, e.bind, e.nonce)
	}
}

func (e *encryptingWriter) Write(p []byte) (int, error) {
	e.WriteHeader(http.StatusOK)
	if e.sealer == nil {
		return 0, http.ErrBodyNotAllowed
	}
	return e.sealer.Write(p)
}

func (e *encryptingWriter) finish() {
	e.WriteHeader(http.StatusOK)
	if e.sealer != nil {
		e.sealer.Close()
	}
}

// bodyAllowed reports whether a response with the status has a body.
func bodyAllowed(status int) bool {
	return !(status >= 100 && status < 200 || status == http.StatusNoContent || status == http.StatusNotModified)
}
