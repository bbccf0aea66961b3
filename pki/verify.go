package pki

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/keys"
)

// Purpose is what a certificate is being verified for.
type Purpose string

// The purposes Verify checks.
const (
	PurposeCodeSigning Purpose = "code-signing"
	PurposeTLSServer   Purpose = "tls-server"
	PurposeTLSClient   Purpose = "tls-client"
	PurposeAny         Purpose = "any"
)

// ParsePurpose checks a user-supplied purpose name.
func ParsePurpose(s string) (Purpose, error) {
	for _, p := range []Purpose{PurposeCodeSigning, PurposeTLSServer, PurposeTLSClient, PurposeAny} {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown purpose %q (want code-signing, tls-server, tls-client or any)", s)
}

func (p Purpose) extKeyUsage() smx509.ExtKeyUsage {
	switch p {
	case PurposeCodeSigning:
		return smx509.ExtKeyUsageCodeSigning
	case PurposeTLSServer:
		return smx509.ExtKeyUsageServerAuth
	case PurposeTLSClient:
		return smx509.ExtKeyUsageClientAuth
	}
	return smx509.ExtKeyUsageAny
}

// VerifyOptions say what to check a certificate against.
type VerifyOptions struct {
	Roots         []*smx509.Certificate // trust anchors; at least one
	Intermediates []*smx509.Certificate // untrusted certificates that may complete a chain
	Time          time.Time             // when the certificate must be valid; zero means now
	Purpose       Purpose               // empty means PurposeAny
	DNSName       string                // if set, the leaf must be valid for this name
}

// Verify checks leaf against the options and returns the chain it built,
// leaf first and root last. The library's path validation checks
// signatures, validity, basic constraints, path lengths, the CAs'
// keyCertSign usage and extended key usage nesting. On top of it, for every
// purpose but "any", the leaf must name the purpose in its extended key
// usage explicitly (a certificate without the extension is not a
// code-signing certificate), and the leaf's key usage, when present, must
// allow digitalSignature.
func Verify(leaf *smx509.Certificate, opts VerifyOptions) ([]*smx509.Certificate, error) {
	if len(opts.Roots) == 0 {
		return nil, errors.New("no trust roots given")
	}
	if _, err := keys.AlgorithmOf(leaf.PublicKey); err != nil {
		return nil, fmt.Errorf("certificate %s: %w", FormatName(leaf.RawSubject), err)
	}
	purpose := opts.Purpose
	if purpose == "" {
		purpose = PurposeAny
	}
	roots, intermediates := smx509.NewCertPool(), smx509.NewCertPool()
	for _, c := range opts.Roots {
		roots.AddCert(c)
	}
	for _, c := range opts.Intermediates {
		intermediates.AddCert(c)
	}
	at := opts.Time
	if at.IsZero() {
		at = time.Now()
	}
	chains, err := leaf.Verify(smx509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   at,
		KeyUsages:     []smx509.ExtKeyUsage{purpose.extKeyUsage()},
		DNSName:       opts.DNSName,
	})
	if err != nil {
		return nil, explainVerifyError(leaf, err)
	}
	if err := checkLeafUsage(leaf, purpose); err != nil {
		return nil, err
	}
	return chains[0], nil
}

func checkLeafUsage(leaf *smx509.Certificate, purpose Purpose) error {
	if purpose != PurposeAny && !slices.Contains(leaf.ExtKeyUsage, purpose.extKeyUsage()) {
		return fmt.Errorf("certificate %s does not name %s in its extended key usage", FormatName(leaf.RawSubject), purpose)
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&smx509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("certificate %s: key usage does not allow digitalSignature", FormatName(leaf.RawSubject))
	}
	return nil
}

// explainVerifyError names the certificate and adds what to do for the
// failures users meet most.
func explainVerifyError(leaf *smx509.Certificate, err error) error {
	subject := FormatName(leaf.RawSubject)
	var invalid smx509.CertificateInvalidError
	var unknown smx509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("certificate %s: %w", FormatName(invalid.Cert.RawSubject), err)
	case errors.As(err, &unknown):
		hint := ""
		if alg, _ := keys.AlgorithmOf(leaf.PublicKey); alg == keys.SM2 {
			hint = "; if OpenSSL 3.0 signed it, check it used -sigopt distid:1234567812345678"
		}
		return fmt.Errorf("certificate %s does not chain to a trusted root (issuer %s): %w%s", subject, FormatName(leaf.RawIssuer), err, hint)
	}
	return fmt.Errorf("certificate %s: %w", subject, err)
}
