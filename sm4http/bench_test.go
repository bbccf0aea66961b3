package sm4http

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkBody seals and opens 1 MiB as sm4http does (chunked, framed,
// each chunk's index and finality authenticated), against raw SM4-GCM
// Seal and Open of the same 64 KiB chunks.
func BenchmarkBody(b *testing.B) {
	data := bytes.Repeat([]byte("身份证 11010519491231002x "), (1<<20)/30)
	aead, _ := newAEAD(psk)
	p := newParams("k")
	b.Run("raw-sm4-gcm", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		sealed := make([]byte, 0, ChunkSize+16)
		plain := make([]byte, 0, ChunkSize)
		for b.Loop() {
			for i := 0; i < len(data); i += ChunkSize {
				chunk := data[i:min(i+ChunkSize, len(data))]
				sealed = aead.Seal(sealed[:0], p.nonce, chunk, nil)
				if _, err := aead.Open(plain[:0], p.nonce, sealed, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("sm4http", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			s := newSealer(&buf, aead, p.String(), p.nonce)
			s.Write(data)
			s.Close()
			if n, err := io.Copy(io.Discard, newOpener(&buf, aead, p.String(), p.nonce)); err != nil || n != int64(len(data)) {
				b.Fatal(n, err)
			}
		}
	})
}

// BenchmarkRequest sends a 200-byte body to a local server and back,
// through the Transport and Server and, for the difference, plainly.
func BenchmarkRequest(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 200)
	for _, bc := range []struct {
		name string
		h    http.Handler
		tr   http.RoundTripper
	}{
		{"plain", echo, http.DefaultTransport},
		{"sm4http", (&Server{Keys: StaticKeys{"k": psk}}).Handler(echo), &Transport{KeyID: "k", Key: psk}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			c := &http.Client{Transport: bc.tr}
			for b.Loop() {
				resp, err := c.Post(srv.URL, "text/plain", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
