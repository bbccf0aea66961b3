package logserver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hegui.dev/hegui/internal/logserver"
)

// TestMutualTLSWriters appends with TLS client certificates, as `hegui log
// serve --client-ca` runs: a certificate whose CN is a writer may append,
// one issued by the CA for another CN gets 401, reads need no certificate.
func TestMutualTLSWriters(t *testing.T) {
	h := newHome(t)
	if err := logserver.AddCert(h.Dir, "payments", "payments.svc.example.cn", []string{"user.*"}); err != nil {
		t.Fatal(err)
	}
	ca, caKey := newCA(t)
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	hs.StartTLS()
	defer func() {
		hs.Close()
		srv.Close(context.Background())
	}()

	ev := canonical(t, testEvent("svc", "user.login"))
	post := func(cert *tls.Certificate) int {
		tr := hs.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		resp, err := (&http.Client{Transport: tr}).Post(hs.URL+"/add", "application/json", bytes.NewReader(ev))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	payments := clientCert(t, ca, caKey, "payments.svc.example.cn")
	other := clientCert(t, ca, caKey, "billing.svc.example.cn")
	if got := post(&payments); got != http.StatusOK {
		t.Errorf("writer's certificate: %d, want 200", got)
	}
	if got := post(&other); got != http.StatusUnauthorized {
		t.Errorf("certificate of a CN that is not a writer: %d, want 401", got)
	}
	if got := post(nil); got != http.StatusUnauthorized {
		t.Errorf("no certificate, no token: %d, want 401", got)
	}
	resp, err := hs.Client().Get(hs.URL + "/log.pub")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("read without a certificate: %d", resp.StatusCode)
	}
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test writers CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func clientCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
