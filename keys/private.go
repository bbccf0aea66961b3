package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrWrongPassword means an encrypted key could not be decrypted with the
// password given. PBES2 with CBC cannot tell a wrong password from a corrupted
// ciphertext, so the message says both.
var ErrWrongPassword = errors.New("wrong password, or the encrypted key is corrupted")

// PasswordFunc supplies the password of an encrypted key. It is called only
// when the key turns out to be encrypted, so an unencrypted key never prompts.
type PasswordFunc func() ([]byte, error)

// MarshalPrivateKeyPEM encodes priv as an unencrypted PKCS#8 "PRIVATE KEY" block.
func MarshalPrivateKeyPEM(priv crypto.Signer) ([]byte, error) {
	if _, err := AlgorithmOf(priv.Public()); err != nil {
		return nil, err
	}
	der, err := smx509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncryptPrivateKeyPEM encodes priv as an "ENCRYPTED PRIVATE KEY" block
// protected by password as p says.
func EncryptPrivateKeyPEM(priv crypto.Signer, password []byte, p Protection) ([]byte, error) {
	if _, err := AlgorithmOf(priv.Public()); err != nil {
		return nil, err
	}
	if len(password) == 0 {
		return nil, errors.New("empty password: give a password, or ask explicitly for an unencrypted key")
	}
	enc, err := p.encrypter()
	if err != nil {
		return nil, err
	}
	der, err := pkcs8.MarshalPrivateKey(priv, password, enc)
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

// EncryptPrivateKeyPEMContext is EncryptPrivateKeyPEM that gives up when
// ctx ends. PBKDF2 cannot be stopped part way, so the derivation under way
// is left to finish on its own goroutine (at most a few seconds, at
// MaxIterations) and its result is dropped; the call returns at once with
// an error wrapping ctx.Err().
func EncryptPrivateKeyPEMContext(ctx context.Context, priv crypto.Signer, password []byte, p Protection) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	type result struct {
		pem []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pem, err := EncryptPrivateKeyPEM(priv, password, p)
		done <- result{pem, err}
	}()
	select {
	case r := <-done:
		return r.pem, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("encrypt private key: %w", ctx.Err())
	}
}

// Format names how a private key file is encoded.
type Format string

// The private key encodings ParsePrivateKey reads.
const (
	FormatPKCS8          Format = "PKCS#8"
	FormatEncryptedPKCS8 Format = "encrypted PKCS#8"
	FormatSEC1           Format = "SEC 1"
)

// Info describes a private key file without decrypting it.
type Info struct {
	Format     Format      `json:"format"`
	PEM        bool        `json:"pem"`
	Protection *Protection `json:"protection,omitempty"`
}

// Inspect reports how a private key file is encoded and, for an encrypted
// key, how it is protected. It does not need the password.
func Inspect(data []byte) (Info, error) {
	blk, err := findKeyBlock(data)
	if err != nil {
		return Info{}, err
	}
	info := Info{Format: blk.format, PEM: blk.pem}
	if blk.format == FormatEncryptedPKCS8 {
		p, err := readProtection(blk.der)
		if err != nil {
			return info, err
		}
		info.Protection = &p
	}
	return info, nil
}

// ParsePrivateKey decodes a private key from PEM or DER: PKCS#8 (plain or
// PBES2-encrypted) or SEC 1. password is called only for encrypted keys.
// The result is an *sm2.PrivateKey, *ecdsa.PrivateKey (P-256) or
// ed25519.PrivateKey; any other key type is an error naming it.
func ParsePrivateKey(data []byte, password PasswordFunc) (crypto.Signer, error) {
	blk, err := findKeyBlock(data)
	if err != nil {
		return nil, err
	}
	var key any
	switch blk.format {
	case FormatPKCS8:
		key, err = smx509.ParsePKCS8PrivateKey(blk.der)
		if err != nil {
			return nil, fmt.Errorf("malformed PKCS#8 private key: %w", err)
		}
	case FormatSEC1:
		key, err = smx509.ParseTypedECPrivateKey(blk.der)
		if err != nil {
			return nil, fmt.Errorf("malformed SEC 1 EC private key: %w", err)
		}
	case FormatEncryptedPKCS8:
		if _, err := readProtection(blk.der); err != nil {
			return nil, err
		}
		if password == nil {
			return nil, errors.New("the key is encrypted and no password was given")
		}
		pw, err := password()
		if err != nil {
			return nil, err
		}
		key, _, err = pkcs8.ParsePrivateKey(blk.der, pw)
		if err != nil {
			// Decryption either fails the padding check or yields bytes that
			// are not a PKCS#8 structure; both mean a wrong password or a
			// damaged file, and the library's wording differs between them.
			return nil, ErrWrongPassword
		}
	}
	return normalizeSigner(key)
}

// normalizeSigner turns a parsed key into one of the three types hegui uses,
// converting ECDSA keys on the SM2 curve into *sm2.PrivateKey.
func normalizeSigner(key any) (crypto.Signer, error) {
	if k, ok := key.(*ecdsa.PrivateKey); ok && k.Curve == sm2.P256() {
		sk, err := new(sm2.PrivateKey).FromECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("invalid SM2 private key: %w", err)
		}
		key = sk
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	if _, err := AlgorithmOf(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

type keyBlock struct {
	der    []byte
	format Format
	pem    bool
}

// findKeyBlock locates the private key in PEM or DER input. PEM input may
// carry other blocks before the key (OpenSSL writes "EC PARAMETERS" first).
func findKeyBlock(data []byte) (keyBlock, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return keyBlock{}, errors.New("empty file")
	}
	if !looksLikePEM(data) {
		return derKeyBlock(data)
	}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return keyBlock{}, errors.New("no private key found in PEM input (truncated, or not a key file)")
		}
		switch block.Type {
		case "PRIVATE KEY":
			return keyBlock{der: block.Bytes, format: FormatPKCS8, pem: true}, nil
		case "ENCRYPTED PRIVATE KEY":
			return keyBlock{der: block.Bytes, format: FormatEncryptedPKCS8, pem: true}, nil
		case "EC PRIVATE KEY", "SM2 PRIVATE KEY":
			if _, ok := block.Headers["DEK-Info"]; ok {
				return keyBlock{}, errors.New("legacy PEM encryption (Proc-Type/DEK-Info) is not supported; convert with `openssl pkcs8 -topk8` first")
			}
			return keyBlock{der: block.Bytes, format: FormatSEC1, pem: true}, nil
		case "EC PARAMETERS", "SM2 PARAMETERS":
			continue
		case "PUBLIC KEY":
			return keyBlock{}, errors.New("this is a public key, not a private key")
		case "CERTIFICATE":
			return keyBlock{}, errors.New("this is a certificate, not a private key")
		case "RSA PRIVATE KEY":
			return keyBlock{}, errors.New("RSA keys are not supported (hegui signs with sm2, ecdsa-p256 and ed25519)")
		default:
			return keyBlock{}, fmt.Errorf("unexpected PEM block %q, want a private key", block.Type)
		}
	}
}

// derKeyBlock classifies DER input by the shape of its outer SEQUENCE:
//
//	PrivateKeyInfo          SEQUENCE { INTEGER, SEQUENCE, OCTET STRING, ... }
//	EncryptedPrivateKeyInfo SEQUENCE { SEQUENCE, OCTET STRING }
//	ECPrivateKey (SEC 1)    SEQUENCE { INTEGER, OCTET STRING, ... }
func derKeyBlock(der []byte) (keyBlock, error) {
	input := cryptobyte.String(der)
	var seq cryptobyte.String
	if input.ReadASN1(&seq, cbasn1.SEQUENCE) && input.Empty() {
		switch {
		case seq.PeekASN1Tag(cbasn1.SEQUENCE):
			return keyBlock{der: der, format: FormatEncryptedPKCS8}, nil
		case seq.SkipASN1(cbasn1.INTEGER) && seq.PeekASN1Tag(cbasn1.SEQUENCE):
			return keyBlock{der: der, format: FormatPKCS8}, nil
		case seq.PeekASN1Tag(cbasn1.OCTET_STRING):
			return keyBlock{der: der, format: FormatSEC1}, nil
		}
	}
	return keyBlock{}, errors.New("not a private key: neither PEM nor DER PKCS#8 or SEC 1")
}

// looksLikePEM reports whether data starts, after white space, with a PEM
// armour line, so that truncated PEM is reported as such rather than as bad DER.
func looksLikePEM(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 4096)], []byte("-----BEGIN "))
}
