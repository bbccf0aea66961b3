package httpserve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	dir := t.TempDir()
	ca, caKey := certificate(t, "test CA", nil, nil, true)
	srv, srvKey := certificate(t, "127.0.0.1", ca, caKey, false)
	client, clientKey := certificate(t, "writer.example", ca, caKey, false)
	certFile, keyFile := filepath.Join(dir, "srv.pem"), filepath.Join(dir, "srv.key")
	writePEM(t, certFile, "CERTIFICATE", srv.Raw)
	der, _ := x509.MarshalECPrivateKey(srvKey)
	writePEM(t, keyFile, "EC PRIVATE KEY", der)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	url := start(t, Options{Addr: "127.0.0.1:0", Handler: hello, TLSCert: certFile, TLSKey: keyFile, ClientCAs: pool})
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("URL %q", url)
	}
	anonymous := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if got := get(t, anonymous, url); got != "hello" {
		t.Errorf("without a client certificate: %q", got)
	}
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{client.Raw}, PrivateKey: clientKey}}}}}
	if got := get(t, withCert, url); got != "hello writer.example" {
		t.Errorf("with a client certificate: %q", got)
	}
	stranger, strangerKey := certificate(t, "stranger", nil, nil, false)
	// GetClientCertificate presents it whatever CAs the server asks for.
	withStranger := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &tls.Certificate{Certificate: [][]byte{stranger.Raw}, PrivateKey: strangerKey}, nil
		}}}}
	if _, err := withStranger.Get(url); err == nil {
		t.Error("a client certificate from another CA was accepted")
	}
}

// certificate makes a test certificate for cn, signed by parent (self-signed
// when nil).
func certificate(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        isCA, BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(cn); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
