package keys

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/pkcs"
)

// PRF names the pseudo-random function PBKDF2 iterates.
type PRF string

// Cipher names the block cipher (in CBC mode) that encrypts the key.
type Cipher string

// The protection primitives hegui writes. Others are read when the underlying
// library knows them and are described by OID.
const (
	PRFHMACSM3    PRF    = "hmac-sm3"
	PRFHMACSHA256 PRF    = "hmac-sha256"
	CipherSM4CBC  Cipher = "sm4-cbc"
	CipherAES256  Cipher = "aes-256-cbc"
)

// DefaultIterations is the PBKDF2 iteration count for new keys: OWASP's 2023
// recommendation for PBKDF2-HMAC-SHA256, used for HMAC-SM3 as well. Unlocking
// an SM2 key costs about 0.4 s on a 2024 x86-64 core (see docs/PERFORMANCE.md).
const DefaultIterations = 600_000

// MinIterations is the smallest iteration count hegui writes (NIST SP 800-132
// §5.2 asks for at least 1,000).
const MinIterations = 1_000

// MaxIterations bounds the iteration count accepted when reading a key, so a
// hostile file cannot make hegui spin for hours before failing.
const MaxIterations = 10_000_000

// Protection says how an encrypted private key is protected: PBES2 with
// PBKDF2 using PRF for Iterations rounds, then Cipher.
type Protection struct {
	PRF        PRF    `json:"prf"`
	Cipher     Cipher `json:"cipher"`
	Iterations int    `json:"iterations"`
}

// DefaultProtection is what hegui uses for new keys of the given algorithm:
// HMAC-SM3 with SM4-CBC for SM2, HMAC-SHA256 with AES-256-CBC otherwise.
func DefaultProtection(alg Algorithm) Protection {
	if alg == SM2 {
		return Protection{PRF: PRFHMACSM3, Cipher: CipherSM4CBC, Iterations: DefaultIterations}
	}
	return Protection{PRF: PRFHMACSHA256, Cipher: CipherAES256, Iterations: DefaultIterations}
}

// OpenSSLProtection is the protection OpenSSL 3.0 can read: it is
// DefaultProtection with HMAC-SHA256 as the PRF.
func OpenSSLProtection(alg Algorithm) Protection {
	p := DefaultProtection(alg)
	p.PRF = PRFHMACSHA256
	return p
}

// OpenSSLReadable reports whether OpenSSL 3.0 can decrypt a key protected this way.
func (p Protection) OpenSSLReadable() bool {
	return p.PRF == PRFHMACSHA256 && (p.Cipher == CipherSM4CBC || p.Cipher == CipherAES256)
}

// String describes the protection in one line, e.g.
// "PBES2: PBKDF2-HMAC-SM3 (600000 iterations), SM4-CBC".
func (p Protection) String() string {
	return fmt.Sprintf("PBES2: PBKDF2-%s (%d iterations), %s", strings.ToUpper(string(p.PRF)), p.Iterations, strings.ToUpper(string(p.Cipher)))
}

func (p Protection) encrypter() (pkcs.PBESEncrypter, error) {
	if p.Iterations < MinIterations || p.Iterations > MaxIterations {
		return nil, fmt.Errorf("iteration count %d out of range [%d, %d]", p.Iterations, MinIterations, MaxIterations)
	}
	var h pkcs.Hash
	switch p.PRF {
	case PRFHMACSM3:
		h = pkcs.SM3
	case PRFHMACSHA256:
		h = pkcs.SHA256
	default:
		return nil, fmt.Errorf("unsupported PRF %q (want %s or %s)", p.PRF, PRFHMACSM3, PRFHMACSHA256)
	}
	var c pkcs.Cipher
	switch p.Cipher {
	case CipherSM4CBC:
		c = pkcs.SM4CBC
	case CipherAES256:
		c = pkcs.AES256CBC
	default:
		return nil, fmt.Errorf("unsupported cipher %q (want %s or %s)", p.Cipher, CipherSM4CBC, CipherAES256)
	}
	return pkcs.NewPBESEncrypter(c, pkcs.NewPBKDF2Opts(h, 16, p.Iterations)), nil
}

// Object identifiers of the PBES2 building blocks (RFC 8018, GM/T 0006).
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidSMPBES     = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 4, 1, 5, 2}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidSMPBKDF    = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 4, 1, 5, 1}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSM3    = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401, 2}
	oidSM4CBC     = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 104, 2}
	oidSM4        = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 104}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// readProtection decodes the PBES2 parameters of a DER EncryptedPrivateKeyInfo
// without decrypting anything. PRF and Cipher are given as OIDs when they are
// not ones hegui writes.
func readProtection(der []byte) (Protection, error) {
	var info encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(der, &info)
	if err != nil {
		return Protection{}, fmt.Errorf("not an encrypted PKCS#8 key: %w", err)
	}
	if len(rest) > 0 {
		return Protection{}, errors.New("trailing data after encrypted PKCS#8 key")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) && !info.Algorithm.Algorithm.Equal(oidSMPBES) {
		return Protection{}, fmt.Errorf("unsupported key encryption scheme %s (only PBES2 is supported)", info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return Protection{}, fmt.Errorf("malformed PBES2 parameters: %w", err)
	}
	kdf := params.KeyDerivationFunc.Algorithm
	if !kdf.Equal(oidPBKDF2) && !kdf.Equal(oidSMPBKDF) {
		return Protection{}, fmt.Errorf("unsupported key derivation function %s (only PBKDF2 is supported)", kdf)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kp); err != nil {
		return Protection{}, fmt.Errorf("malformed PBKDF2 parameters: %w", err)
	}
	p := Protection{Iterations: kp.IterationCount}
	switch prf := kp.PRF.Algorithm; {
	case len(prf) == 0 && kdf.Equal(oidSMPBKDF), prf.Equal(oidHMACSM3):
		p.PRF = PRFHMACSM3
	case len(prf) == 0, prf.Equal(oidHMACSHA1):
		p.PRF = "hmac-sha1"
	case prf.Equal(oidHMACSHA256):
		p.PRF = PRFHMACSHA256
	default:
		p.PRF = PRF(prf.String())
	}
	switch enc := params.EncryptionScheme.Algorithm; {
	case enc.Equal(oidSM4CBC), enc.Equal(oidSM4):
		p.Cipher = CipherSM4CBC
	case enc.Equal(oidAES256CBC):
		p.Cipher = CipherAES256
	case enc.Equal(oidAES128CBC):
		p.Cipher = "aes-128-cbc"
	default:
		p.Cipher = Cipher(enc.String())
	}
	if p.Iterations < 1 || p.Iterations > MaxIterations {
		return p, fmt.Errorf("PBKDF2 iteration count %d out of range [1, %d]", p.Iterations, MaxIterations)
	}
	// The CBC ciphers take a 16-byte IV as their parameter; check it here,
	// because the library panics on an IV of another length.
	if p.Cipher == CipherSM4CBC || p.Cipher == CipherAES256 || p.Cipher == "aes-128-cbc" {
		var iv []byte
		if rest, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 || len(iv) != 16 {
			return p, fmt.Errorf("malformed %s parameters: want a 16-byte IV", p.Cipher)
		}
	}
	return p, nil
}
