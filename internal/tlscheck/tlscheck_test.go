package tlscheck

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/testcert"
)

// serve runs a real crypto/tls server with cfg until the test ends.
func serve(t *testing.T, cfg *tls.Config) string { return testcert.ServeTLS(t, cfg) }

// leaf issues a server certificate for 127.0.0.1 from ca with key, valid
// from notBefore to notAfter.
func leaf(t *testing.T, ca *testcert.Issuer, key crypto.Signer, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: notBefore, NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}
}

// newCA is a CA valid for a year (testcert's lasts an hour: every chain
// would be "expiring").
func newCA(t *testing.T, cn string) *testcert.Issuer {
	t.Helper()
	key := ecKey(t).(*ecdsa.PrivateKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testcert.Issuer{Cert: cert, Key: key}
}

func ecKey(t *testing.T) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t *testing.T, bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rules(f []Finding, level string) []string {
	var out []string
	for _, x := range f {
		if x.Level == level && !slices.Contains(out, x.Rule) {
			out = append(out, x.Rule)
		}
	}
	slices.Sort(out)
	return out
}

func probe(t *testing.T, addr string, ca *testcert.Issuer) *Result {
	t.Helper()
	r, err := Probe(context.Background(), Options{Addr: addr, Roots: ca.Pool(), Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGoodServer(t *testing.T) {
	ca := newCA(t, "Test CA")
	now := time.Now()
	addr := serve(t, &tls.Config{Certificates: []tls.Certificate{leaf(t, ca, ecKey(t), now.Add(-time.Hour), now.Add(90*24*time.Hour))}})
	r := probe(t, addr, ca)
	if !r.Reachable || r.NegotiatedVersion != "TLS 1.3" || !r.ChainVerified || len(r.Chain) != 2 || r.Chain[0].KeyAlgorithm != "ECDSA" || r.Chain[0].KeyBits != 256 || r.ClientCertificate != "not requested" {
		t.Fatalf("%+v", r)
	}
	accepted := map[string]bool{}
	for _, v := range r.Versions {
		accepted[v.Name] = v.Accepted
	}
	if !accepted["TLS 1.3"] || !accepted["TLS 1.2"] || accepted["TLS 1.1"] || accepted["TLS 1.0"] {
		t.Fatalf("versions %+v", r.Versions)
	}
	// Go's default server accepts ECDHE with CBC in TLS 1.2: allowed by
	// gbt22239-l3, with a warning.
	if f := Judge(r, Profiles["gbt22239-l3"]); Failed(f) || strings.Join(rules(f, Warning), " ") != "not-aead" {
		t.Fatalf("gbt22239-l3: %+v", f)
	}
	// TLS 1.2 (with CBC) is accepted: modern fails it; no OCSP staple: a warning.
	f := Judge(r, Profiles["modern"])
	if got := rules(f, Error); strings.Join(got, " ") != "not-aead old-version" {
		t.Fatalf("modern errors %q: %+v", got, f)
	}
	if got := rules(f, Warning); strings.Join(got, " ") != "no-ocsp-stapling" {
		t.Fatalf("modern warnings %q", got)
	}

	// TLS 1.3 only, with a stapled OCSP response: modern holds.
	c := leaf(t, ca, ecKey(t), now.Add(-time.Hour), now.Add(90*24*time.Hour))
	c.OCSPStaple = []byte{0x30, 0x03, 0x0a, 0x01, 0x00} // a placeholder response the client only reports
	addr = serve(t, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{c}})
	r = probe(t, addr, ca)
	if f := Judge(r, Profiles["modern"]); Failed(f) || len(rules(f, Warning)) > 0 || !r.OCSPStapled {
		t.Fatalf("modern on a TLS 1.3-only server: %+v", f)
	}
}

// TestWeakServer: TLS 1.0, CBC, RC4, RSA key exchange and a 1024-bit RSA
// key, each named.
func TestWeakServer(t *testing.T) {
	ca := newCA(t, "Test CA")
	now := time.Now()
	addr := serve(t, &tls.Config{
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		Certificates: []tls.Certificate{leaf(t, ca, rsaKey(t, 1024), now.Add(-time.Hour), now.Add(90*24*time.Hour))},
	})
	r := probe(t, addr, ca)
	var tls10 []string
	for _, v := range r.Versions {
		if v.Name == "TLS 1.0" {
			tls10 = v.Suites
		}
	}
	if strings.Join(tls10, " ") != "TLS_ECDHE_RSA_WITH_RC4_128_SHA TLS_RSA_WITH_AES_128_CBC_SHA" {
		t.Fatalf("TLS 1.0 suites %q (%+v)", tls10, r.Versions)
	}
	f := Judge(r, Profiles["gbt22239-l3"])
	if got := strings.Join(rules(f, Error), " "); got != "no-fs old-version small-key weak-suite" {
		t.Fatalf("errors %q: %+v", got, f)
	}
}

func TestCertificateProblems(t *testing.T) {
	ca := newCA(t, "Test CA")
	now := time.Now()
	expired := serve(t, &tls.Config{Certificates: []tls.Certificate{leaf(t, ca, ecKey(t), now.Add(-60*24*time.Hour), now.Add(-24*time.Hour))}})
	f := Judge(probe(t, expired, ca), Profiles["gbt22239-l3"])
	if got := strings.Join(rules(f, Error), " "); got != "expired untrusted" {
		t.Fatalf("expired: %q %+v", got, f)
	}
	soon := serve(t, &tls.Config{Certificates: []tls.Certificate{leaf(t, ca, ecKey(t), now.Add(-time.Hour), now.Add(10*24*time.Hour))}})
	f = Judge(probe(t, soon, ca), Profiles["gbt22239-l3"])
	if Failed(f) || strings.Join(rules(f, Warning), " ") != "expiring not-aead" {
		t.Fatalf("expiring: %+v", f)
	}
	// Another CA: the chain does not verify.
	other := newCA(t, "Other CA")
	f = Judge(probe(t, soon, other), Profiles["gbt22239-l3"])
	if got := strings.Join(rules(f, Error), " "); got != "untrusted" {
		t.Fatalf("untrusted: %q", got)
	}
}

func TestClientCertificate(t *testing.T) {
	ca := newCA(t, "Test CA")
	now := time.Now()
	cert := leaf(t, ca, ecKey(t), now.Add(-time.Hour), now.Add(90*24*time.Hour))
	for auth, want := range map[tls.ClientAuthType]string{
		tls.RequestClientCert:          "requested",
		tls.RequireAnyClientCert:       "required",
		tls.NoClientCert:               "not requested",
		tls.RequireAndVerifyClientCert: "required",
	} {
		for _, max := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			addr := serve(t, &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: auth, ClientCAs: ca.Pool(), MaxVersion: max})
			r := probe(t, addr, ca)
			if r.ClientCertificate != want {
				t.Errorf("%v, max %s: client certificate %q, want %q", auth, tls.VersionName(max), r.ClientCertificate, want)
			}
			// The chain is seen and judged whatever the server asks of the
			// client (at TLS 1.2 a server that requires a certificate cuts
			// the handshake before it completes).
			if !r.ChainVerified || len(r.Chain) != 2 || Failed(Judge(r, Profiles["gbt22239-l3"])) {
				t.Errorf("%v, max %s: chain %d certificates, verified %v (%s), findings %v", auth, tls.VersionName(max), len(r.Chain), r.ChainVerified, r.ChainError, Judge(r, Profiles["gbt22239-l3"]))
			}
		}
	}
}

func TestUnreachable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	r, err := Probe(context.Background(), Options{Addr: addr, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := Judge(r, Profiles["gbt22239-l3"])
	if r.Reachable || !Failed(f) || !strings.Contains(r.Error, "cannot connect") {
		t.Fatalf("%+v %+v", r, f)
	}
	// Garbage instead of TLS: a clear refusal, no hang.
	g, _ := net.Listen("tcp", "127.0.0.1:0")
	defer g.Close()
	go func() {
		for {
			c, err := g.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			c.Close()
		}
	}()
	r, _ = Probe(context.Background(), Options{Addr: g.Addr().String(), Timeout: time.Second})
	if r.Reachable || r.Error == "" {
		t.Fatalf("garbage: %+v", r)
	}
	if _, err := Probe(context.Background(), Options{Addr: "no-port"}); err == nil {
		t.Fatal("an address without a port was accepted")
	}
}

func TestLoadProfile(t *testing.T) {
	if _, err := LoadProfile("gbt22239"); err == nil || !strings.Contains(err.Error(), "gbt22239-l3, modern") {
		t.Fatalf("unknown name: %v", err)
	}
	dir := t.TempDir()
	file := dir + "/strict.yaml"
	writeFile(t, file, "min-version: \"1.3\"\nmin-ec-bits: 384\n")
	p, err := LoadProfile(file)
	if err != nil || p.Name != "strict" || p.MinECBits != 384 {
		t.Fatalf("%+v %v", p, err)
	}
	writeFile(t, file, "min-version: \"2.0\"\n")
	if _, err := LoadProfile(file); err == nil || !strings.Contains(err.Error(), "give 1.0, 1.1, 1.2 or 1.3") {
		t.Fatalf("%v", err)
	}
	writeFile(t, file, "min-versoin: \"1.3\"\n")
	if _, err := LoadProfile(file); err == nil {
		t.Fatal("an unknown key was accepted")
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
