package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"strings"

	"github.com/emmansun/gmsm/sm2"
)

// Algorithm names a signature key type.
type Algorithm string

// The key types hegui signs with.
const (
	SM2       Algorithm = "sm2"
	ECDSAP256 Algorithm = "ecdsa-p256"
	Ed25519   Algorithm = "ed25519"
)

// Algorithms lists every supported algorithm, SM2 first because it is the default.
var Algorithms = []Algorithm{SM2, ECDSAP256, Ed25519}

// ParseAlgorithm turns a user-supplied name into an Algorithm. It accepts the
// canonical names and a few common spellings ("p256", "ecdsa", "eddsa").
func ParseAlgorithm(name string) (Algorithm, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "sm2", "sm2p256v1":
		return SM2, nil
	case "ecdsa-p256", "ecdsa", "p256", "p-256", "prime256v1", "secp256r1":
		return ECDSAP256, nil
	case "ed25519", "eddsa":
		return Ed25519, nil
	}
	return "", fmt.Errorf("unknown key algorithm %q (want sm2, ecdsa-p256 or ed25519)", name)
}

// String returns the canonical name.
func (a Algorithm) String() string { return string(a) }

// Generate creates a new private key of the given algorithm. rand may be nil,
// in which case crypto/rand is used.
func Generate(alg Algorithm, random io.Reader) (crypto.Signer, error) {
	if random == nil {
		random = rand.Reader
	}
	switch alg {
	case SM2:
		return sm2.GenerateKey(random)
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), random)
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(random)
		if err != nil {
			return nil, err
		}
		return priv, nil
	}
	return nil, fmt.Errorf("unknown key algorithm %q", alg)
}

// AlgorithmOf reports which supported algorithm a public key belongs to. It
// returns an error naming the key type for anything hegui does not sign with
// (RSA, other curves), so callers can say what was wrong.
func AlgorithmOf(pub crypto.PublicKey) (Algorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case sm2.P256():
			return SM2, nil
		case elliptic.P256():
			return ECDSAP256, nil
		}
		return "", fmt.Errorf("unsupported elliptic curve %s (hegui signs with sm2, ecdsa-p256 and ed25519)", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return Ed25519, nil
	case *rsa.PublicKey:
		return "", fmt.Errorf("RSA keys are not supported (hegui signs with sm2, ecdsa-p256 and ed25519)")
	}
	return "", fmt.Errorf("unsupported key type %T (hegui signs with sm2, ecdsa-p256 and ed25519)", pub)
}
