package keys

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/smx509"
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

// ParsePublicKey decodes a public key from PEM ("PUBLIC KEY") or DER
// SubjectPublicKeyInfo. Only the algorithms in [Algorithms] are accepted.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		switch block.Type {
		case "PUBLIC KEY":
			der = block.Bytes
		case "CERTIFICATE":
			return nil, ErrIsCertificate
		case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY":
			return nil, errors.New("this is a private key; give the public key (hegui key export --public)")
		default:
			return nil, fmt.Errorf("unexpected PEM block %q, want PUBLIC KEY", block.Type)
		}
	} else if looksLikePEM(data) {
		return nil, errors.New("malformed PEM: no complete BEGIN/END block")
	}
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a valid public key: %w", err)
	}
	if _, err := AlgorithmOf(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// Equal reports whether two public keys are the same key.
func Equal(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}
