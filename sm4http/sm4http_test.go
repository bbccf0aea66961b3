package sm4http

import (
	"bytes"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/internal/peertest"
)

// echo answers with the request body upper-cased, as JSON's content type.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(bytes.ToUpper(body))
})

var psk = bytes.Repeat([]byte{0x11}, KeySize)

func newServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s.Handler(echo))
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, c *http.Client, url, body string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(out), resp.Header
}

func TestRoundTrip(t *testing.T) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, &Server{Keys: StaticKeys{"app-1": psk}, PrivateKey: priv})
	big := strings.Repeat("身份证 11010519491231002x ", 20_000) // several chunks
	for name, tr := range map[string]*Transport{
		"pre-shared": {KeyID: "app-1", Key: psk},
		"wrapped":    {ServerKey: &priv.PublicKey},
	} {
		t.Run(name, func(t *testing.T) {
			c := &http.Client{Transport: tr}
			for _, body := range []string{"", "hello", big} {
				status, out, h := post(t, c, srv.URL, body)
				if status != 200 || out != strings.ToUpper(body) {
					t.Fatalf("status %d, %d bytes back for %d", status, len(out), len(body))
				}
				if h.Get("Content-Type") != "application/json" || h.Get(Header) == "" {
					t.Fatalf("response headers %v", h)
				}
			}
		})
	}
}

// rawRequest seals body with key under header parameters p, as a client
// would, for tests that then break something.
func rawRequest(t *testing.T, url string, key []byte, p params, body []byte) *http.Request {
	t.Helper()
	aead, err := newAEAD(key)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", url, nil)
	var sealed bytes.Buffer
	s := newSealer(&sealed, aead, requestBinding("POST", req.URL.RequestURI(), p.String()), p.nonce)
	s.Write(body)
	s.Close()
	req.Body = io.NopCloser(bytes.NewReader(sealed.Bytes()))
	req.ContentLength = int64(sealed.Len())
	req.Header.Set(Header, p.String())
	return req
}

func newParams(kid string) params {
	p := params{kid: kid, ts: time.Now().Unix(), nonce: make([]byte, nonceSize)}
	rand.Read(p.nonce)
	return p
}

func send(t *testing.T, req *http.Request) (int, string) {
	return sendOpen(t, req, nil)
}

// sendOpen sends req and, given the key, opens an encrypted response.
func sendOpen(t *testing.T, req *http.Request, key []byte) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := io.Reader(resp.Body)
	if h := resp.Header.Get(Header); h != "" && key != nil {
		rp, err := parseParams(h)
		if err != nil {
			t.Fatal(err)
		}
		aead, _ := newAEAD(key)
		body = newOpener(resp.Body, aead, responseBinding(req.Header.Get(Header), h), rp.nonce)
	}
	out, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(out)
}

func TestRefusals(t *testing.T) {
	srv := newServer(t, &Server{Keys: StaticKeys{"app-1": psk}})
	body := []byte("hello")
	flip := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-1] ^= 1; return b }
	p := newParams("app-1")
	good := rawRequest(t, srv.URL, psk, p, body)
	sealed, _ := io.ReadAll(good.Body)
	again := func(b []byte) *http.Request {
		req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(b))
		req.Header.Set(Header, p.String())
		return req
	}
	// The first is accepted; the same again is a replay.
	if status, out := sendOpen(t, again(sealed), psk); status != 200 || out != "HELLO" {
		t.Fatalf("the good request: %d %q", status, out)
	}
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		want   string
	}{
		{"replayed", again(sealed), 409, "replayed"},
		{"no header", func() *http.Request { r, _ := http.NewRequest("POST", srv.URL, strings.NewReader("x")); return r }(), 400, "not encrypted"},
		{"unknown key", rawRequest(t, srv.URL, psk, newParams("app-2"), body), 401, `"app-2" is not known`},
		{"another key", rawRequest(t, srv.URL, bytes.Repeat([]byte{0x22}, KeySize), newParams("app-1"), body), 400, "does not decrypt"},
		{"changed", func() *http.Request {
			q := newParams("app-1")
			r := rawRequest(t, srv.URL, psk, q, body)
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(flip(b)))
			return r
		}(), 400, "does not decrypt"},
		{"cut short", func() *http.Request {
			q := newParams("app-1")
			r := rawRequest(t, srv.URL, psk, q, bytes.Repeat([]byte("x"), ChunkSize+10))
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b[:4+ChunkSize+16])) // the first chunk alone
			r.ContentLength = int64(4 + ChunkSize + 16)
			return r
		}(), 400, "does not decrypt"},
		{"old", func() *http.Request {
			q := newParams("app-1")
			q.ts -= 3600
			return rawRequest(t, srv.URL, psk, q, body)
		}(), 400, "outside the 5m0s window"},
		{"malformed header", func() *http.Request {
			r := rawRequest(t, srv.URL, psk, newParams("app-1"), body)
			r.Header.Set(Header, "v=2; kid=app-1")
			return r
		}(), 400, "version"},
		{"wrapped key, no private key", func() *http.Request {
			q := newParams("")
			q.kid, q.wrapped = "", []byte("not a key")
			return rawRequest(t, srv.URL, psk, q, body)
		}(), 400, "no SM2 private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := send(t, tc.req)
			if status != tc.status || !strings.Contains(out, tc.want) {
				t.Fatalf("%d %q, want %d and %q", status, out, tc.status, tc.want)
			}
		})
	}
}

// TestDowngrade: a success that comes back unencrypted is refused.
func TestDowngrade(t *testing.T) {
	plain := httptest.NewServer(echo)
	defer plain.Close()
	c := &http.Client{Transport: &Transport{KeyID: "app-1", Key: psk}}
	if _, err := c.Post(plain.URL, "text/plain", strings.NewReader("x")); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("an unencrypted 200: %v", err)
	}
}

// TestOpenSSL wraps keys with OpenSSL's SM2 encryption for the server, and
// unwraps the client's with OpenSSL.
func TestOpenSSL(t *testing.T) {
	dir := t.TempDir()
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := smx509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := smx509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600) // a test fixture
	os.WriteFile(filepath.Join(dir, "server.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
	key := bytes.Repeat([]byte{0x5a}, KeySize)
	os.WriteFile(filepath.Join(dir, "key"), key, 0o600)

	// OpenSSL wraps, the server unwraps.
	peertest.OpenSSL(t, dir, "pkeyutl", "-encrypt", "-pubin", "-inkey", "server.pub", "-in", "key", "-out", "wrapped")
	wrapped, _ := os.ReadFile(filepath.Join(dir, "wrapped"))
	srv := newServer(t, &Server{PrivateKey: priv})
	p := newParams("")
	p.kid, p.wrapped = "", wrapped
	if status, out := sendOpen(t, rawRequest(t, srv.URL, key, p, []byte("from openssl")), key); status != 200 || out != "FROM OPENSSL" {
		t.Fatalf("a key OpenSSL wrapped: %d %q", status, out)
	}

	// The client wraps, OpenSSL unwraps.
	tr := &Transport{ServerKey: &priv.PublicKey}
	clientKey, cp, err := tr.params()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "client-wrapped"), cp.wrapped, 0o644)
	peertest.OpenSSL(t, dir, "pkeyutl", "-decrypt", "-inkey", "server.key", "-in", "client-wrapped", "-out", "unwrapped")
	if got, _ := os.ReadFile(filepath.Join(dir, "unwrapped")); !bytes.Equal(got, clientKey) {
		t.Fatalf("OpenSSL unwrapped %x, the client wrapped %x", got, clientKey)
	}
}

// FuzzOpen feeds any bytes to the opener and any header to the parser:
// an error, never a panic, and nothing opens without the key.
func FuzzOpen(f *testing.F) {
	aead, _ := newAEAD(psk)
	p := newParams("k")
	var sealed bytes.Buffer
	s := newSealer(&sealed, aead, p.String(), p.nonce)
	s.Write([]byte("hello"))
	s.Close()
	f.Add(sealed.Bytes(), p.String())
	f.Add([]byte{0, 0, 0, 0}, "v=1; kid=k; ts=1; n=AAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		parseParams(header)
		out, err := io.ReadAll(newOpener(bytes.NewReader(body), aead, p.String(), p.nonce))
		if err == nil && !bytes.Equal(body, sealed.Bytes()) && string(out) != "hello" && len(body) > 0 {
			t.Fatalf("%x opened as %q", body, out)
		}
	})
}

// TestNonceSpentOnlyByAuthenticBody: a body that does not open leaves its
// nonce unspent, so nobody without the key can fill the replay cache or
// block a request to come.
func TestNonceSpentOnlyByAuthenticBody(t *testing.T) {
	srv := newServer(t, &Server{Keys: StaticKeys{"app-1": psk}})
	p := newParams("app-1")
	junk, _ := http.NewRequest("POST", srv.URL, strings.NewReader("\x00\x00\x00\x20junk"))
	junk.Header.Set(Header, p.String())
	if status, _ := send(t, junk); status != 400 {
		t.Fatalf("junk body: %d", status)
	}
	if status, out := sendOpen(t, rawRequest(t, srv.URL, psk, p, []byte("ok")), psk); status != 200 || out != "OK" {
		t.Fatalf("the real request with that nonce: %d %q", status, out)
	}
}

// TestNonceRememberedWhileAcceptable: a request stamped ahead of the
// server's clock stays acceptable until a window after its timestamp, and
// its nonce is remembered that long.
func TestNonceRememberedWhileAcceptable(t *testing.T) {
	s := &Server{}
	now := time.Unix(1_800_000_000, 0)
	ts := now.Add(4 * time.Minute)
	if ok, _ := s.fresh("n", now, ts); !ok {
		t.Fatal("a new nonce refused")
	}
	later := now.Add(8 * time.Minute) // past now+window, within ts+window
	s.swept = time.Time{}
	for i := range maxSeen / 2 {
		s.seen[fmt.Sprint(i)] = now // force a sweep of expired entries
	}
	if ok, _ := s.fresh("n", later, ts); ok {
		t.Fatal("a replay accepted after the sweep, while its timestamp is still in the window")
	}
}
