// Package pki makes and checks X.509 certificates and certificate requests
// with SM2 (signature algorithm SM2-with-SM3, OID 1.2.156.10197.1.501), ECDSA
// P-256 and Ed25519 keys.
//
// Certificates follow profiles (see Profile): a root or intermediate CA, a
// code-signing certificate (extKeyUsage codeSigning), and TLS server and
// client certificates. SM2 signatures inside certificates use the default
// ID 1234567812345678, as GM/T 0015 prescribes; OpenSSL 3.0 verifies them
// with `openssl verify -vfyopt distid:1234567812345678`.
//
// Verify checks what RFC 5280 path validation checks through the library's
// chain builder (signatures, validity, basic constraints, path length,
// extended key usage) and adds the key usage bits the library leaves out.
//
// The package holds no keys: signing goes through crypto.Signer, so a key in
// a file, a keyring or a PKCS#11 token can sign certificates alike.
package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"hegui.dev/hegui/keys"
)

// Profile names the kind of certificate to issue.
type Profile string

// The certificate profiles.
const (
	ProfileRootCA         Profile = "root-ca"
	ProfileIntermediateCA Profile = "intermediate-ca"
	ProfileCodeSigning    Profile = "code-signing"
	ProfileTLSServer      Profile = "tls-server"
	ProfileTLSClient      Profile = "tls-client"
)

// IssuableProfiles are the profiles Issue accepts (a root is self-signed).
var IssuableProfiles = []Profile{ProfileIntermediateCA, ProfileCodeSigning, ProfileTLSServer, ProfileTLSClient}

// ParseProfile checks a user-supplied profile name.
func ParseProfile(s string) (Profile, error) {
	for _, p := range append([]Profile{ProfileRootCA}, IssuableProfiles...) {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown certificate profile %q (want intermediate-ca, code-signing, tls-server or tls-client)", s)
}

// IsCA reports whether the profile makes a CA certificate.
func (p Profile) IsCA() bool { return p == ProfileRootCA || p == ProfileIntermediateCA }

// DefaultValidity is how long a certificate of the profile is valid unless
// told otherwise: ten years for a root, five for an intermediate, 397 days
// (the CA/Browser Forum maximum) for TLS servers and one year otherwise.
func (p Profile) DefaultValidity() time.Duration {
	const day = 24 * time.Hour
	switch p {
	case ProfileRootCA:
		return 3650 * day
	case ProfileIntermediateCA:
		return 1825 * day
	case ProfileTLSServer:
		return 397 * day
	}
	return 365 * day
}

// Template holds what a caller chooses about a new certificate. The rest
// (key usages, basic constraints, key identifiers, serial number) follows
// from the profile and the keys.
type Template struct {
	Profile   Profile
	Subject   pkix.Name
	NotBefore time.Time // zero means now
	Validity  time.Duration
	// PathLen limits the intermediates below a CA certificate: 0 lets it
	// issue end-entity certificates only; nil puts no limit.
	PathLen        *int
	DNSNames       []string
	IPAddresses    []net.IP
	EmailAddresses []string
	URIs           []*url.URL
}

func (t Template) certificate(pub crypto.PublicKey) (*smx509.Certificate, error) {
	if _, err := keys.AlgorithmOf(pub); err != nil {
		return nil, err
	}
	notBefore := t.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now()
	}
	notBefore = notBefore.UTC().Truncate(time.Second)
	validity := t.Validity
	if validity == 0 {
		validity = t.Profile.DefaultValidity()
	}
	if validity < 0 {
		return nil, errors.New("validity must be positive")
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	cert := &smx509.Certificate{
		Subject:               t.Subject,
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		SubjectKeyId:          ski,
		BasicConstraintsValid: true,
		DNSNames:              t.DNSNames,
		IPAddresses:           t.IPAddresses,
		EmailAddresses:        t.EmailAddresses,
		URIs:                  t.URIs,
	}
	switch t.Profile {
	case ProfileRootCA, ProfileIntermediateCA:
		cert.IsCA = true
		cert.KeyUsage = smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign | smx509.KeyUsageDigitalSignature
		cert.MaxPathLen = -1
		if t.PathLen != nil {
			if *t.PathLen < 0 {
				return nil, fmt.Errorf("path length %d is negative", *t.PathLen)
			}
			cert.MaxPathLen = *t.PathLen
			cert.MaxPathLenZero = *t.PathLen == 0
		}
	case ProfileCodeSigning:
		cert.KeyUsage = smx509.KeyUsageDigitalSignature
		cert.ExtKeyUsage = []smx509.ExtKeyUsage{smx509.ExtKeyUsageCodeSigning}
	case ProfileTLSServer:
		cert.KeyUsage = smx509.KeyUsageDigitalSignature
		cert.ExtKeyUsage = []smx509.ExtKeyUsage{smx509.ExtKeyUsageServerAuth}
		if len(t.DNSNames) == 0 && len(t.IPAddresses) == 0 {
			return nil, errors.New("a TLS server certificate needs at least one DNS name or IP address")
		}
	case ProfileTLSClient:
		cert.KeyUsage = smx509.KeyUsageDigitalSignature
		cert.ExtKeyUsage = []smx509.ExtKeyUsage{smx509.ExtKeyUsageClientAuth}
	default:
		return nil, fmt.Errorf("unknown certificate profile %q", t.Profile)
	}
	if !t.Profile.IsCA() && t.PathLen != nil {
		return nil, fmt.Errorf("a path length applies only to CA certificates, not %s", t.Profile)
	}
	return cert, nil
}

// subjectKeyID derives the key identifier as RFC 7093 §2 method 1 does: the
// leftmost 160 bits of the SHA-256 of the subjectPublicKey bit string.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	spki := cryptobyte.String(der)
	var inner cryptobyte.String
	var bits asn1.BitString
	if !spki.ReadASN1(&inner, cbasn1.SEQUENCE) || !inner.SkipASN1(cbasn1.SEQUENCE) || !inner.ReadASN1BitString(&bits) {
		return nil, errors.New("malformed SubjectPublicKeyInfo")
	}
	sum := sha256.Sum256(bits.Bytes)
	return sum[:20], nil
}

// CreateRoot makes a self-signed root CA certificate for signer's key.
func CreateRoot(signer crypto.Signer, t Template) (*smx509.Certificate, error) {
	t.Profile = ProfileRootCA
	if t.Subject.CommonName == "" {
		return nil, errors.New("a root CA needs a subject with a CN")
	}
	tmpl, err := t.certificate(signer.Public())
	if err != nil {
		return nil, err
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return smx509.ParseCertificate(der)
}

// CreateCSR makes a PKCS#10 certificate request signed by signer, carrying
// the subject and alternative names of t (its profile is not encoded; the
// issuer chooses it).
func CreateCSR(signer crypto.Signer, t Template) ([]byte, error) {
	if _, err := keys.AlgorithmOf(signer.Public()); err != nil {
		return nil, err
	}
	if len(t.Subject.ToRDNSequence()) == 0 && len(t.DNSNames)+len(t.IPAddresses)+len(t.EmailAddresses)+len(t.URIs) == 0 {
		return nil, errors.New("a certificate request needs a subject or an alternative name")
	}
	req := &smx509.CertificateRequest{
		Subject:        t.Subject,
		DNSNames:       t.DNSNames,
		IPAddresses:    t.IPAddresses,
		EmailAddresses: t.EmailAddresses,
		URIs:           t.URIs,
	}
	der, err := smx509.CreateCertificateRequest(rand.Reader, req, signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate request: %w", err)
	}
	return der, nil
}

// Issue makes a certificate of t's profile for the key in csr, signed by the
// CA certificate ca with caKey. The CSR's self-signature is checked first.
// Subject and alternative names come from the CSR unless t sets them. The
// new certificate must fit in the CA's validity and path length.
func Issue(ca *smx509.Certificate, caKey crypto.Signer, csr *smx509.CertificateRequest, t Template) (*smx509.Certificate, error) {
	if t.Profile == ProfileRootCA {
		return nil, errors.New("a root CA is self-signed; it is not issued from a request")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request signature is invalid (%v); an SM2 request made by OpenSSL 3.0 needs -sigopt distid:1234567812345678", err)
	}
	if !ca.IsCA || !ca.BasicConstraintsValid {
		return nil, errors.New("the issuing certificate is not a CA (basicConstraints CA:FALSE or absent)")
	}
	if ca.KeyUsage != 0 && ca.KeyUsage&smx509.KeyUsageCertSign == 0 {
		return nil, errors.New("the issuing CA certificate lacks the keyCertSign key usage")
	}
	if !keys.Equal(ca.PublicKey, caKey.Public()) {
		return nil, errors.New("the CA key does not belong to the CA certificate")
	}
	if t.Profile == ProfileIntermediateCA && ca.MaxPathLenZero {
		return nil, errors.New("the issuing CA has path length 0 and may not issue CA certificates")
	}
	if t.Profile == ProfileIntermediateCA && ca.MaxPathLen > 0 && t.PathLen != nil && *t.PathLen >= ca.MaxPathLen {
		return nil, fmt.Errorf("path length %d is not below the issuing CA's %d", *t.PathLen, ca.MaxPathLen)
	}
	if len(t.Subject.ToRDNSequence()) == 0 {
		t.Subject = csr.Subject
	}
	if len(t.DNSNames)+len(t.IPAddresses)+len(t.EmailAddresses)+len(t.URIs) == 0 {
		t.DNSNames, t.IPAddresses, t.EmailAddresses, t.URIs = csr.DNSNames, csr.IPAddresses, csr.EmailAddresses, csr.URIs
	}
	tmpl, err := t.certificate(csr.PublicKey)
	if err != nil {
		return nil, err
	}
	if tmpl.NotBefore.Before(ca.NotBefore) || tmpl.NotAfter.After(ca.NotAfter) {
		return nil, fmt.Errorf("the requested validity %s to %s is not within the CA's %s to %s; shorten it with --days",
			tmpl.NotBefore.Format(time.DateOnly), tmpl.NotAfter.Format(time.DateOnly), ca.NotBefore.Format(time.DateOnly), ca.NotAfter.Format(time.DateOnly))
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca, csr.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return smx509.ParseCertificate(der)
}
