package keys

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ID returns the key ID of a public key: the lowercase hex SHA-256 of its DER
// SubjectPublicKeyInfo. The ID depends only on the public key, so it is stable
// across re-encryption, export and import.
func ID(pub crypto.PublicKey) (string, error) {
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// ShortID abbreviates a key ID for display (16 hex digits, 64 bits).
func ShortID(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// MarshalPublicKeyPEM encodes a public key as a "PUBLIC KEY" PEM block.
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	if _, err := AlgorithmOf(pub); err != nil {
		return nil, err
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ErrIsCertificate is returned by ParsePublicKey when it is given a certificate;
// the caller usually wants to say "use --cert".
var ErrIsCertificate = errors.New("this is a certificate, not a public key")

// ErrIsPrivateKey is returned by ParsePublicKey when it is given a private
// key; a caller that can use one derives the public key from it instead.
var ErrIsPrivateKey = errors.New("this is a private key, not a public key: give its public key (hegui key export --public writes it)")

// errNotPublicKey is what ParsePublicKey says of input it cannot place.
var errNotPublicKey = errors.New(`not a public key: expected a PEM "PUBLIC KEY" block or DER SubjectPublicKeyInfo (SPKI)`)

var errIsRequest = errors.New("this is a certificate request, not a public key")

// ParsePublicKey decodes a public key from PEM ("PUBLIC KEY") or DER
// SubjectPublicKeyInfo. Only the algorithms in [Algorithms] are accepted.
// Input that is something else says what it is when hegui knows it (a
// private key, a certificate, a certificate request) and what was expected.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty file")
	}
	var der []byte
	var err error
	if looksLikePEM(data) {
		der, err = publicKeyFromPEM(data)
	} else {
		der, err = publicKeyFromDER(data)
	}
	if err != nil {
		return nil, err
	}
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("malformed or unsupported public key: %w", err)
	}
	if _, err := AlgorithmOf(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// publicKeyFromPEM finds the "PUBLIC KEY" block, skipping the parameter
// blocks OpenSSL writes before keys.
func publicKeyFromPEM(data []byte) ([]byte, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no public key found in PEM input (truncated, or not a key file)")
		}
		switch block.Type {
		case "PUBLIC KEY":
			if !isSPKI(block.Bytes) {
				return nil, errors.New("malformed PUBLIC KEY block: not a DER SubjectPublicKeyInfo (truncated or corrupted)")
			}
			return block.Bytes, nil
		case "EC PARAMETERS", "SM2 PARAMETERS":
			continue
		case "CERTIFICATE":
			return nil, ErrIsCertificate
		case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
			return nil, errIsRequest
		case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY", "RSA PRIVATE KEY":
			return nil, ErrIsPrivateKey
		default:
			return nil, fmt.Errorf(`unexpected PEM block %q: expected a "PUBLIC KEY" block (SPKI)`, block.Type)
		}
	}
}

// publicKeyFromDER tells a DER SubjectPublicKeyInfo from the other DER
// structures a key file may hold.
func publicKeyFromDER(der []byte) ([]byte, error) {
	switch {
	case isSPKI(der):
		return der, nil
	case isPrivateKeyDER(der):
		return nil, ErrIsPrivateKey
	}
	if _, err := smx509.ParseCertificate(der); err == nil {
		return nil, ErrIsCertificate
	}
	if _, err := smx509.ParseCertificateRequest(der); err == nil {
		return nil, errIsRequest
	}
	return nil, errNotPublicKey
}

// isSPKI reports whether der has the shape of a SubjectPublicKeyInfo:
//
//	SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }
func isSPKI(der []byte) bool {
	input := cryptobyte.String(der)
	var spki cryptobyte.String
	return input.ReadASN1(&spki, cbasn1.SEQUENCE) && input.Empty() &&
		spki.SkipASN1(cbasn1.SEQUENCE) && spki.SkipASN1(cbasn1.BIT_STRING) && spki.Empty()
}

// isPrivateKeyDER reports whether der has the shape of a private key:
//
//	PrivateKeyInfo          SEQUENCE { INTEGER, SEQUENCE, OCTET STRING, ... }
//	EncryptedPrivateKeyInfo SEQUENCE { SEQUENCE, OCTET STRING }
//	ECPrivateKey (SEC 1)    SEQUENCE { INTEGER, OCTET STRING, ... }
func isPrivateKeyDER(der []byte) bool {
	input := cryptobyte.String(der)
	var seq cryptobyte.String
	if !input.ReadASN1(&seq, cbasn1.SEQUENCE) || !input.Empty() {
		return false
	}
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		return seq.SkipASN1(cbasn1.SEQUENCE) && seq.SkipASN1(cbasn1.OCTET_STRING) && seq.Empty()
	}
	if !seq.SkipASN1(cbasn1.INTEGER) {
		return false
	}
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		return seq.SkipASN1(cbasn1.SEQUENCE) && seq.PeekASN1Tag(cbasn1.OCTET_STRING)
	}
	return seq.PeekASN1Tag(cbasn1.OCTET_STRING)
}

// Equal reports whether two public keys are the same key.
func Equal(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}
