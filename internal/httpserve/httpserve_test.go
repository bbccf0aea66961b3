package httpserve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/testcert"
)

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		io.WriteString(w, "hello "+r.TLS.PeerCertificates[0].Subject.CommonName)
		return
	}
	io.WriteString(w, "hello")
})

// start runs opts until the test ends and returns the server's URL.
func start(t *testing.T, opts Options) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	opts.Listening = func(url string) error { urls <- url; return nil }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("a server stopped by its context returned %v", err)
		}
	})
	select {
	case url := <-urls:
		return url
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	return ""
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func TestRunServesAndStops(t *testing.T) {
	url := start(t, Options{Addr: "127.0.0.1:0", Handler: hello})
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	if got := get(t, http.DefaultClient, url); got != "hello" {
		t.Errorf("got %q", got)
	}
}

// TestSlowHeaders: a client that sends no headers is cut off after
// ReadHeaderTimeout instead of holding its connection.
func TestSlowHeaders(t *testing.T) {
	url := start(t, Options{Addr: "127.0.0.1:0", Handler: hello, ReadHeaderTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("the server did not close a connection whose headers never ended: %v", err)
	}
}

func TestRunRefuses(t *testing.T) {
	for name, opts := range map[string]Options{
		"certificate without key": {Addr: "127.0.0.1:0", TLSCert: "c.pem"},
		"client CAs without TLS":  {Addr: "127.0.0.1:0", ClientCAs: x509.NewCertPool()},
		"busy address":            {Addr: "256.0.0.1:0"},
	} {
		if err := Run(context.Background(), opts); err == nil {
			t.Errorf("%s: Run succeeded", name)
		}
	}
}

// TestTLSClientCertificates serves HTTPS with client certificates that are
// verified when presented and optional otherwise.
func TestTLSClientCertificates(t *testing.T) {
	ca := testcert.NewCA(t, "test CA")
	certFile, keyFile := testcert.WriteFiles(t, t.TempDir(), "srv", ca.Leaf(t, "127.0.0.1"))
	url := start(t, Options{Addr: "127.0.0.1:0", Handler: hello, TLSCert: certFile, TLSKey: keyFile, ClientCAs: ca.Pool()})
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("URL %q", url)
	}
	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: ca.Pool()}
		if cert != nil {
			// GetClientCertificate presents it whatever CAs the server asks for.
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	if got := get(t, client(nil), url); got != "hello" {
		t.Errorf("without a client certificate: %q", got)
	}
	writer := ca.Leaf(t, "writer.example")
	if got := get(t, client(&writer), url); got != "hello writer.example" {
		t.Errorf("with a client certificate: %q", got)
	}
	stranger := testcert.NewCA(t, "another CA").Leaf(t, "stranger")
	if _, err := client(&stranger).Get(url); err == nil {
		t.Error("a client certificate from another CA was accepted")
	}
}
