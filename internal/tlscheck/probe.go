// Package tlscheck probes a TLS endpoint — the protocol versions and cipher
// suites it accepts, its certificate chain, OCSP stapling, whether it asks
// for a client certificate — and judges what it found against a profile
// (profile.go): `hegui tlscheck`.
//
// Probing is done with Go's crypto/tls, one handshake per version and per
// suite, so it sees what Go can speak: TLS 1.0 to 1.3 and the suites Go
// implements (its secure and insecure lists). What Go cannot speak is
// listed in Result.Unprobed rather than guessed: SSL 3.0, suites Go does
// not implement, TLS 1.3 suites other than the one negotiated, and SM2
// (RFC 8998 in TLS 1.3, or TLCP, GB/T 38636): a server that offers only
// those fails every handshake, and the result says so.
package tlscheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options say what to probe.
type Options struct {
	// Addr is HOST:PORT.
	Addr string
	// ServerName is sent as SNI and checked against the certificate;
	// empty means Addr's host.
	ServerName string
	// Roots verify the chain; nil means the system's.
	Roots *x509.CertPool
	// Timeout bounds each connection and handshake; zero means 5s.
	Timeout time.Duration
	// Parallel is how many handshakes run at once; zero means 4.
	Parallel int
	// Now is the time certificates are judged at; zero means now.
	Now time.Time
}

// Version is one protocol version's probe.
type Version struct {
	Name     string `json:"name"` // "TLS 1.2"
	Accepted bool   `json:"accepted"`
	// Suites are the suites accepted with this version (for TLS 1.3, the
	// one the server chose: Go offers all three and cannot offer one alone).
	Suites []string `json:"suites,omitempty"`
	Error  string   `json:"error,omitempty"`
	id     uint16
}

// Certificate describes one certificate of the chain.
type Certificate struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"`
	NotBefore          time.Time `json:"notBefore"`
	NotAfter           time.Time `json:"notAfter"`
	DaysLeft           int       `json:"daysLeft"`
	KeyAlgorithm       string    `json:"keyAlgorithm"` // RSA, ECDSA, Ed25519
	KeyBits            int       `json:"keyBits"`
	Curve              string    `json:"curve,omitempty"`
	SignatureAlgorithm string    `json:"signatureAlgorithm"`
	DNSNames           []string  `json:"dnsNames,omitempty"`
	IPAddresses        []string  `json:"ipAddresses,omitempty"`
	IsCA               bool      `json:"isCA"`
	SHA256             string    `json:"sha256"`
}

// Result is everything a probe found.
type Result struct {
	Target     string    `json:"target"`
	ServerName string    `json:"serverName"`
	Time       time.Time `json:"time"`
	// Versions are the versions probed, newest first.
	Versions []Version `json:"versions"`
	// Negotiated is what a client offering everything Go offers gets.
	NegotiatedVersion string        `json:"negotiatedVersion,omitempty"`
	NegotiatedSuite   string        `json:"negotiatedSuite,omitempty"`
	NegotiatedGroup   string        `json:"negotiatedGroup,omitempty"`
	Chain             []Certificate `json:"chain,omitempty"`
	// ChainError is why the chain does not verify against the roots for
	// ServerName (empty when it does).
	ChainVerified bool   `json:"chainVerified"`
	ChainError    string `json:"chainError,omitempty"`
	OCSPStapled   bool   `json:"ocspStapled"`
	// ClientCertificate is "not requested", "requested" (optional) or
	// "required".
	ClientCertificate string `json:"clientCertificate"`
	// Reachable is false when no handshake worked; Error then says why.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// Unprobed lists what this probe cannot see, so that nobody reads its
	// silence as absence.
	Unprobed []string `json:"unprobed"`
}

var versions = []struct {
	id   uint16
	name string
}{
	{tls.VersionTLS13, "TLS 1.3"}, {tls.VersionTLS12, "TLS 1.2"}, {tls.VersionTLS11, "TLS 1.1"}, {tls.VersionTLS10, "TLS 1.0"},
}

// Unprobed is what a probe cannot see: crypto/tls cannot try it.
func Unprobed() []string { return slices.Clone(unprobed) }

var unprobed = []string{
	"SSL 2.0 and 3.0",
	"TLS 1.0-1.2 suites Go does not implement (DHE, CCM, ARIA, Camellia, NULL, export)",
	"TLS 1.3 suites other than the one the server chose",
	"SM2 certificates and TLCP (GB/T 38636), see docs/tlscheck.md",
}

// Probe probes the endpoint. The error is for options that cannot work
// (a malformed address); an unreachable or hostile server is a Result
// with Reachable false and Error saying why.
func Probe(ctx context.Context, o Options) (*Result, error) {
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("%q: give HOST:PORT (%v)", o.Addr, err)
	}
	if o.ServerName == "" {
		o.ServerName = host
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := &Result{Target: o.Addr, ServerName: o.ServerName, Time: now.UTC(), Unprobed: unprobed, ClientCertificate: "not requested"}

	// The main handshake: everything Go offers, as a client would.
	main, err := o.handshake(ctx, tls.VersionTLS10, tls.VersionTLS13, allSuites(), true)
	if err != nil {
		res.Error = explain(err)
		// A server that only asks for a client certificate we do not have
		// still showed it asked, and its chain.
		if errors.Is(err, errClientCertRequired) {
			res.ClientCertificate = "required"
			for _, c := range main.peer {
				res.Chain = append(res.Chain, describe(c, now))
			}
			res.ChainVerified, res.ChainError = verifyChain(main.peer, o.ServerName, o.Roots, now)
		}
	} else {
		res.Reachable = true
		st := main.state
		res.NegotiatedVersion = tls.VersionName(st.Version)
		res.NegotiatedSuite = tls.CipherSuiteName(st.CipherSuite)
		if st.CurveID != 0 {
			res.NegotiatedGroup = st.CurveID.String()
		}
		res.OCSPStapled = len(st.OCSPResponse) > 0
		for _, c := range st.PeerCertificates {
			res.Chain = append(res.Chain, describe(c, now))
		}
		res.ChainVerified, res.ChainError = verifyChain(st.PeerCertificates, o.ServerName, o.Roots, now)
		switch {
		case main.required:
			res.ClientCertificate = "required"
		case main.requested:
			res.ClientCertificate = "requested"
		}
	}

	// Each version alone, then each suite alone for TLS 1.0-1.2.
	res.Versions = make([]Version, len(versions))
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Parallel)
	var mu sync.Mutex
	for i, v := range versions {
		res.Versions[i] = Version{Name: v.name, id: v.id}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			h, err := o.handshake(ctx, v.id, v.id, allSuites(), false)
			<-sem
			mu.Lock()
			defer mu.Unlock()
			if err != nil && !errors.Is(err, errClientCertRequired) {
				res.Versions[i].Error = explain(err)
				return
			}
			res.Versions[i].Accepted = true
			if v.id == tls.VersionTLS13 && h != nil {
				res.Versions[i].Suites = []string{tls.CipherSuiteName(h.state.CipherSuite)}
			}
		}()
	}
	wg.Wait()
	for i, v := range res.Versions {
		if !v.Accepted || v.id == tls.VersionTLS13 {
			continue
		}
		for _, s := range suitesFor(v.id) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				_, err := o.handshake(ctx, v.id, v.id, []uint16{s.ID}, false)
				<-sem
				if err == nil || errors.Is(err, errClientCertRequired) {
					mu.Lock()
					res.Versions[i].Suites = append(res.Versions[i].Suites, s.Name)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for i := range res.Versions {
		sort.Strings(res.Versions[i].Suites)
	}
	if !res.Reachable {
		for _, v := range res.Versions {
			if v.Accepted {
				res.Reachable = true
			}
		}
	}
	return res, nil
}

// handshake is one connection's outcome.
type handshake struct {
	state     tls.ConnectionState
	requested bool // the server asked for a client certificate
	required  bool // and refused the connection without one
	// peer is the server's chain as it was sent, kept when the handshake
	// then fails for want of a client certificate (TLS 1.2 sends the
	// chain before asking for one).
	peer []*x509.Certificate
}

var errClientCertRequired = errors.New("the server requires a client certificate")

// handshake connects and completes a handshake offering versions lo..hi
// and suites (TLS 1.0-1.2). With checkClientCert it also reads briefly after
// the handshake: a TLS 1.3 server refuses a missing client certificate only
// after the client has finished.
func (o Options) handshake(ctx context.Context, lo, hi uint16, suites []uint16, checkClientCert bool) (*handshake, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(o.Timeout))
	h := &handshake{}
	conn := tls.Client(raw, &tls.Config{
		ServerName: o.ServerName, MinVersion: lo, MaxVersion: hi, CipherSuites: suites,
		// The chain is verified by verifyChain, against the roots asked
		// for, so that a bad chain is a finding, not a failed probe.
		InsecureSkipVerify: true, //nolint:gosec // verified in verifyChain
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			h.requested = true
			return &tls.Certificate{}, nil
		},
		// Called with InsecureSkipVerify too, as soon as the chain arrives.
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, der := range raw {
				if c, err := x509.ParseCertificate(der); err == nil {
					h.peer = append(h.peer, c)
				}
			}
			return nil
		},
	})
	if err := conn.HandshakeContext(ctx); err != nil {
		if h.requested && isCertAlert(err) {
			return h, errClientCertRequired
		}
		return nil, err
	}
	h.state = conn.ConnectionState()
	if checkClientCert && h.requested {
		conn.SetReadDeadline(time.Now().Add(min(o.Timeout, 500*time.Millisecond)))
		var b [1]byte
		if _, err := conn.Read(b[:]); err != nil && isCertAlert(err) {
			h.required = true
		}
	}
	return h, nil
}

// isCertAlert reports a TLS alert a server sends for a missing or refused
// client certificate.
func isCertAlert(err error) bool {
	var alert tls.AlertError
	if errors.As(err, &alert) {
		switch uint8(alert) {
		case 40, 42, 116: // handshake_failure, bad_certificate, certificate_required
			return true
		}
	}
	// crypto/tls reports a peer's alert only as text.
	s := err.Error()
	for _, a := range []string{"certificate required", "bad certificate", "handshake failure"} {
		if strings.Contains(s, "remote error: tls: "+a) {
			return true
		}
	}
	return false
}

// allSuites are every TLS 1.0-1.2 suite Go implements.
func allSuites() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}

// suitesFor are Go's suites usable with version v.
func suitesFor(v uint16) []*tls.CipherSuite {
	var out []*tls.CipherSuite
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		for _, sv := range s.SupportedVersions {
			if sv == v && v != tls.VersionTLS13 {
				out = append(out, s)
			}
		}
	}
	return out
}

// explain words a failed handshake for a person.
func explain(err error) string {
	var alert tls.AlertError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &alert):
		return "refused: " + alert.Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return "no answer in time"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "cannot connect: " + opErr.Err.Error()
	}
	return err.Error()
}

// describe summarises a certificate.
func describe(c *x509.Certificate, now time.Time) Certificate {
	sum := sha256.Sum256(c.Raw)
	d := Certificate{
		Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: c.SerialNumber.Text(16),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), DaysLeft: int(c.NotAfter.Sub(now).Hours() / 24),
		SignatureAlgorithm: c.SignatureAlgorithm.String(), DNSNames: c.DNSNames, IsCA: c.IsCA,
		SHA256: hex.EncodeToString(sum[:]),
	}
	for _, ip := range c.IPAddresses {
		d.IPAddresses = append(d.IPAddresses, ip.String())
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		d.KeyAlgorithm, d.KeyBits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		d.KeyAlgorithm, d.KeyBits, d.Curve = "ECDSA", k.Curve.Params().BitSize, k.Curve.Params().Name
	case ed25519.PublicKey:
		d.KeyAlgorithm, d.KeyBits = "Ed25519", 256
	default:
		d.KeyAlgorithm = c.PublicKeyAlgorithm.String()
	}
	return d
}

// verifyChain verifies the chain for serverName against roots.
func verifyChain(certs []*x509.Certificate, serverName string, roots *x509.CertPool, now time.Time) (bool, string) {
	if len(certs) == 0 {
		return false, "the server sent no certificate"
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{DNSName: serverName, Roots: roots, Intermediates: inter, CurrentTime: now})
	if err != nil {
		return false, err.Error()
	}
	return true, ""
}
