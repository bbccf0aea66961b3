package testcert

import (
	"crypto/tls"
	"io"
	"testing"
	"time"
)

// ServeTLS runs a real crypto/tls server with cfg on 127.0.0.1 until the
// test ends and returns its address. Each connection completes its
// handshake, reads until the peer closes, and is cut after 3 seconds.
func ServeTLS(t testing.TB, cfg *tls.Config) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				if c.(*tls.Conn).Handshake() == nil {
					io.Copy(io.Discard, c)
				}
			}()
		}
	}()
	return l.Addr().String()
}
