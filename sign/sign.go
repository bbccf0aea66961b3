// Package sign makes and checks detached signatures over streams of any
// length, holding only a hash state in memory.
//
// Every algorithm hashes the stream first and signs the digest:
//
//	sm2         e = SM3(Z || M), Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)
//	            (GB/T 32918.2, ID "1234567812345678" by default); DER SEQUENCE{r, s}
//	ecdsa-p256  SHA-256(M) (FIPS 186-5); DER SEQUENCE{r, s}
//	ed25519     Ed25519ph: SHA-512(M), empty context (RFC 8032 §5.1); 64 bytes R || S
//
// SM2 and ECDSA signatures are exactly what `openssl dgst -sm3|-sha256 -sign`
// writes and reads; OpenSSL 3.0 needs `-sigopt distid:1234567812345678`
// (signing) or `-vfyopt distid:1234567812345678` (verifying) for SM2, because
// its command line defaults to an empty ID. Ed25519 uses the pre-hashed
// variant because pure Ed25519 reads the message twice; OpenSSL 3.0 does not
// implement Ed25519ph.
//
// Signers are crypto.Signer values, so software keys (package keys) and
// hardware keys (package pkcs11key) sign the same way.
package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/emmansun/gmsm/sm2"

	"hegui.dev/hegui/internal/ctxio"
	"hegui.dev/hegui/keys"
)

// DefaultSM2ID is the distinguishing identifier GM/T 0009 prescribes when the
// parties have not agreed on another one.
const DefaultSM2ID = "1234567812345678"

// maxSM2IDLen is the longest ID whose bit length fits ENTL's 16 bits.
const maxSM2IDLen = 8191

// ErrMismatch means the signature is well formed but does not belong to this
// data and key: the data or the signature changed, or another key or SM2 ID
// made it.
var ErrMismatch = errors.New("signature does not match the data and key")

// Options tune how a signature is computed.
type Options struct {
	// SM2ID is the SM2 distinguishing identifier. Empty means DefaultSM2ID.
	// It must stay empty for other algorithms.
	SM2ID string
}

// Digester hashes a stream the way the signature algorithm of one public key
// requires. Write the data into Hash, then call Sign or Verify.
type Digester struct {
	Hash hash.Hash
	pub  crypto.PublicKey
	alg  keys.Algorithm
}

// NewDigester prepares hashing for signatures by pub's key.
func NewDigester(pub crypto.PublicKey, opts Options) (*Digester, error) {
	alg, err := keys.AlgorithmOf(pub)
	if err != nil {
		return nil, err
	}
	if opts.SM2ID != "" && alg != keys.SM2 {
		return nil, fmt.Errorf("an SM2 ID was given, but the key is %s", alg)
	}
	d := &Digester{pub: pub, alg: alg}
	switch alg {
	case keys.SM2:
		id := opts.SM2ID
		if id == "" {
			id = DefaultSM2ID
		}
		if len(id) > maxSM2IDLen {
			return nil, fmt.Errorf("SM2 ID is %d bytes, longer than the %d the standard allows", len(id), maxSM2IDLen)
		}
		d.Hash, err = sm2.NewHashWithUserID(pub.(*ecdsa.PublicKey), []byte(id))
		if err != nil {
			return nil, err
		}
	case keys.ECDSAP256:
		d.Hash = sha256.New()
	case keys.Ed25519:
		d.Hash = sha512.New()
	}
	return d, nil
}

// Algorithm is the algorithm of the key the digester was made for.
func (d *Digester) Algorithm() keys.Algorithm { return d.alg }

// signerOpts are the crypto.SignerOpts that make a crypto.Signer of this
// algorithm sign a digest computed by d.Hash.
func (d *Digester) signerOpts() crypto.SignerOpts {
	switch d.alg {
	case keys.SM2:
		return sm2Digest{}
	case keys.Ed25519:
		return &ed25519.Options{Hash: crypto.SHA512}
	}
	return crypto.SHA256
}

// sm2Digest tells an SM2 crypto.Signer that the digest is already
// e = SM3(Z || M). gmsm and pkcs11key treat any options other than an
// *sm2.SM2SignerOption asking for GM signing this way.
type sm2Digest struct{}

func (sm2Digest) HashFunc() crypto.Hash { return 0 }

// Sign signs what has been written to d.Hash. A signature from a signer
// outside this process (a PKCS#11 token) is checked against the public key
// before it is returned, so a faulty or misconfigured device cannot hand
// out a bad signature; in-process software keys are not re-checked, which
// would triple the cost of an SM2 signature.
func (d *Digester) Sign(signer crypto.Signer) ([]byte, error) {
	if !keys.Equal(signer.Public(), d.pub) {
		return nil, errors.New("the signer's public key is not the one the digest was prepared for")
	}
	digest := d.Hash.Sum(nil)
	sig, err := signer.Sign(rand.Reader, digest, d.signerOpts())
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if !isSoftwareKey(signer) {
		if err := verifyDigest(d.alg, d.pub, digest, sig); err != nil {
			return nil, fmt.Errorf("the signer returned a signature that does not verify (%v)", err)
		}
	}
	return sig, nil
}

// isSoftwareKey reports whether signer is one of the in-memory private key
// types of gmsm and the standard library.
func isSoftwareKey(signer crypto.Signer) bool {
	switch signer.(type) {
	case *sm2.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return true
	}
	return false
}

// Verify checks sig against what has been written to d.Hash.
func (d *Digester) Verify(sig []byte) error {
	return verifyDigest(d.alg, d.pub, d.Hash.Sum(nil), sig)
}

func verifyDigest(alg keys.Algorithm, pub crypto.PublicKey, digest, sig []byte) error {
	var ok bool
	switch alg {
	case keys.SM2:
		ok = sm2.VerifyASN1(pub.(*ecdsa.PublicKey), digest, sig)
	case keys.ECDSAP256:
		ok = ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest, sig)
	case keys.Ed25519:
		if len(sig) != ed25519.SignatureSize {
			return fmt.Errorf("an Ed25519 signature is %d bytes, this one is %d", ed25519.SignatureSize, len(sig))
		}
		ok = ed25519.VerifyWithOptions(pub.(ed25519.PublicKey), digest, sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	}
	if !ok {
		return ErrMismatch
	}
	return nil
}

// Sign reads r to its end and signs it with signer.
func Sign(ctx context.Context, signer crypto.Signer, r io.Reader, opts Options) ([]byte, error) {
	d, err := NewDigester(signer.Public(), opts)
	if err != nil {
		return nil, err
	}
	if _, err := ctxio.Copy(ctx, d.Hash, r); err != nil {
		return nil, err
	}
	return d.Sign(signer)
}

// Verify reads r to its end and checks sig, made by pub's private key, over it.
// A signature that is well formed but wrong yields ErrMismatch.
func Verify(ctx context.Context, pub crypto.PublicKey, r io.Reader, sig []byte, opts Options) error {
	d, err := NewDigester(pub, opts)
	if err != nil {
		return err
	}
	if _, err := ctxio.Copy(ctx, d.Hash, r); err != nil {
		return err
	}
	return d.Verify(sig)
}

// SignMessage signs a message held in memory, such as a DSSE pre-auth
// encoding. SM2 and ECDSA sign exactly as Sign does; Ed25519 uses pure
// Ed25519 (RFC 8032 §5.1.6), which is what DSSE and in-toto verifiers expect.
func SignMessage(signer crypto.Signer, msg []byte, opts Options) ([]byte, error) {
	alg, err := keys.AlgorithmOf(signer.Public())
	if err != nil {
		return nil, err
	}
	if alg != keys.Ed25519 {
		return Sign(context.Background(), signer, bytes.NewReader(msg), opts)
	}
	if opts.SM2ID != "" {
		return nil, fmt.Errorf("an SM2 ID was given, but the key is %s", alg)
	}
	sig, err := signer.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if !isSoftwareKey(signer) && !ed25519.Verify(signer.Public().(ed25519.PublicKey), msg, sig) {
		return nil, errors.New("the signer returned a signature that does not verify")
	}
	return sig, nil
}

// VerifyMessage checks a signature made by SignMessage.
func VerifyMessage(pub crypto.PublicKey, msg, sig []byte, opts Options) error {
	alg, err := keys.AlgorithmOf(pub)
	if err != nil {
		return err
	}
	if alg != keys.Ed25519 {
		return Verify(context.Background(), pub, bytes.NewReader(msg), sig, opts)
	}
	if opts.SM2ID != "" {
		return fmt.Errorf("an SM2 ID was given, but the key is %s", alg)
	}
	if !ed25519.Verify(pub.(ed25519.PublicKey), msg, sig) {
		return ErrMismatch
	}
	return nil
}
