package logserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/internal/testcert"
)

// TestMutualTLSWriters appends with TLS client certificates, as `hegui log
// serve --client-ca` runs: a certificate whose CN is a writer may append,
// one issued by the CA for another CN gets 401, reads need no certificate.
func TestMutualTLSWriters(t *testing.T) {
	h := newHome(t)
	if err := logserver.AddCert(h.Dir, "payments", "payments.svc.example.cn", []string{"user.*"}); err != nil {
		t.Fatal(err)
	}
	ca := testcert.NewCA(t, "test writers CA")
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.TLS = &tls.Config{ClientCAs: ca.Pool(), ClientAuth: tls.VerifyClientCertIfGiven}
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
	payments := ca.Leaf(t, "payments.svc.example.cn")
	other := ca.Leaf(t, "billing.svc.example.cn")
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
