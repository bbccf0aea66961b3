package cmdutil

import (
	"context"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/trust"
	"hegui.dev/hegui/pki"
)

// VerifyCertificateFiles loads a certificate (with any intermediates after
// it), roots and intermediates, and verifies the chain for purpose (and
// dnsName, if set) at the given time.
func VerifyCertificateFiles(certPath, rootsPath, intermediatesPath, at string, purpose pki.Purpose, dnsName string) (*smx509.Certificate, []*smx509.Certificate, error) {
	certs, err := ReadCertificates(certPath)
	if err != nil {
		return nil, nil, err
	}
	roots, err := ReadCertificates(rootsPath)
	if err != nil {
		return nil, nil, err
	}
	intermediates := certs[1:]
	if intermediatesPath != "" {
		more, err := ReadCertificates(intermediatesPath)
		if err != nil {
			return nil, nil, err
		}
		intermediates = append(intermediates, more...)
	}
	when, err := ParseTime(at)
	if err != nil {
		return nil, nil, err
	}
	chain, err := pki.Verify(certs[0], pki.VerifyOptions{Roots: roots, Intermediates: intermediates, Time: when, Purpose: purpose, DNSName: dnsName})
	if err != nil {
		return nil, nil, err
	}
	return certs[0], chain, nil
}

// ReadCertificates reads a PEM certificate file. It is a regular file of
// at most inputfile.KeyLimit bytes, or refused: such a read cannot block,
// so it takes no context.
func ReadCertificates(path string) ([]*smx509.Certificate, error) {
	data, err := inputfile.Read(context.Background(), path, inputfile.KeyLimit)
	if err != nil {
		return nil, fmt.Errorf("read certificates: %w", err)
	}
	certs, err := pki.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("certificates %q: %w", path, err)
	}
	return certs, nil
}

// ParseTime reads --at: RFC 3339, or a date meaning its start in UTC. An
// empty string means now (the zero time).
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, Usagef("--at %q is neither RFC 3339 (2026-11-21T08:00:00Z) nor a date (2026-11-21)", s)
}

// LoadAnchors reads what a verifier trusts: the CA certificates of the
// --trust-root files and the public keys of the --pub files.
func LoadAnchors(roots, pubs []string) (trust.Anchors, error) {
	var a trust.Anchors
	for _, r := range roots {
		certs, err := ReadCertificates(r)
		if err != nil {
			return a, err
		}
		a.Roots = append(a.Roots, certs...)
	}
	for _, p := range pubs {
		pub, err := ReadPublicKeyFile(p)
		if err != nil {
			return a, err
		}
		a.Keys = append(a.Keys, pub)
	}
	return a, nil
}
