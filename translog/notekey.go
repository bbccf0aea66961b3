package translog

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/mod/sumdb/note"
)

// Signature types of the C2SP signed-note key encoding: Ed25519 is type
// 0x01; 0xff is reserved for types without an identifier byte and must be
// followed by a longer identifier, which for SM2 is sm2Identifier.
const (
	algEd25519    = 0x01
	algExtension  = 0xff
	sm2Identifier = "SM2-SM3"
)

// NewEd25519Signer returns a signed-note signer for name backed by an
// Ed25519 key. Signatures are pure Ed25519 over the note text, exactly what
// golang.org/x/mod/sumdb/note and the witness network verify.
func NewEd25519Signer(name string, key crypto.Signer) (note.Signer, error) {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("checkpoint key is %T, not Ed25519", key.Public())
	}
	enc := append([]byte{algEd25519}, pub...)
	return newNoteSigner(name, enc, func(msg []byte) ([]byte, error) {
		sig, err := key.Sign(rand.Reader, msg, crypto.Hash(0))
		if err == nil && !ed25519.Verify(pub, msg, sig) {
			err = errSignerFaulty
		}
		return sig, err
	})
}

// errSignerFaulty means a key returned a signature that does not verify
// (a faulty or misconfigured token); each signature is checked, since a
// checkpoint signed once a second can afford it.
var errSignerFaulty = errors.New("translog: the checkpoint key returned a signature that does not verify")

// NewSM2Signer returns a signed-note signer for name backed by an SM2 key:
// SM2 with SM3 and the default ID (GB/T 32918.2, GM/T 0009), the signature a
// DER SEQUENCE{r, s}. Its key hash is that of the verifier key, see
// SM2VerifierKey.
func NewSM2Signer(name string, key crypto.Signer) (note.Signer, error) {
	enc, err := sm2KeyEncoding(key.Public())
	if err != nil {
		return nil, err
	}
	pub := key.Public().(*ecdsa.PublicKey)
	return newNoteSigner(name, enc, func(msg []byte) ([]byte, error) {
		// gmsm's keys and hegui's PKCS#11 keys hash Z || msg with SM3
		// themselves when asked with SM2SignerOption.
		sig, err := key.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
		if err == nil && !sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
			err = errSignerFaulty
		}
		return sig, err
	})
}

// NewSigner returns the signed-note signer matching key's type: Ed25519 or
// SM2.
func NewSigner(name string, key crypto.Signer) (note.Signer, error) {
	switch key.Public().(type) {
	case ed25519.PublicKey:
		return NewEd25519Signer(name, key)
	default:
		return NewSM2Signer(name, key)
	}
}

// VerifierKey encodes the public half of a checkpoint key in the verifier
// key format of golang.org/x/mod/sumdb/note, "NAME+HASH+BASE64":
//
//	Ed25519  BASE64 = base64(0x01 || 32-byte public key)        (standard)
//	SM2      BASE64 = base64(0xff || "SM2-SM3" || DER SPKI)      (hegui)
//
// HASH is the first four bytes of SHA-256(NAME || "\n" || key bytes) in hex,
// as C2SP signed-note recommends for every type.
func VerifierKey(name string, pub crypto.PublicKey) (string, error) {
	var enc []byte
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		enc = append([]byte{algEd25519}, pub...)
	default:
		var err error
		if enc, err = sm2KeyEncoding(pub); err != nil {
			return "", err
		}
	}
	if !validName(name) {
		return "", fmt.Errorf("log name %q must be non-empty with no spaces or '+'", name)
	}
	return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, enc), base64.StdEncoding.EncodeToString(enc)), nil
}

// NewVerifier parses a verifier key written by VerifierKey (or by
// note.GenerateKey, for Ed25519).
func NewVerifier(vkey string) (note.Verifier, error) {
	name, rest, _ := strings.Cut(strings.TrimSpace(vkey), "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	hash, err1 := strconv.ParseUint(hash16, 16, 32)
	enc, err2 := base64.StdEncoding.DecodeString(key64)
	if len(hash16) != 8 || err1 != nil || err2 != nil || !validName(name) || len(enc) == 0 {
		return nil, fmt.Errorf("verifier key %q is not NAME+HASH+BASE64", clip(vkey))
	}
	if uint32(hash) != keyHash(name, enc) {
		return nil, fmt.Errorf("verifier key for %q: the hash %s does not match the key", name, hash16)
	}
	v := &noteVerifier{name: name, hash: uint32(hash)}
	switch {
	case enc[0] == algEd25519 && len(enc) == 1+ed25519.PublicKeySize:
		pub := ed25519.PublicKey(enc[1:])
		v.verify = func(msg, sig []byte) bool { return ed25519.Verify(pub, msg, sig) }
		v.algorithm = "ed25519"
	case enc[0] == algExtension && bytes.HasPrefix(enc[1:], []byte(sm2Identifier)):
		pub, err := smx509.ParsePKIXPublicKey(enc[1+len(sm2Identifier):])
		if err != nil {
			return nil, fmt.Errorf("verifier key for %q: %w", name, err)
		}
		if !sm2.IsSM2PublicKey(pub) {
			return nil, fmt.Errorf("verifier key for %q: SM2-SM3 key is not on the SM2 curve", name)
		}
		sm2pub := pub.(*ecdsa.PublicKey)
		v.verify = func(msg, sig []byte) bool { return sm2.VerifyASN1WithSM2(sm2pub, nil, msg, sig) }
		v.algorithm = "sm2"
	default:
		return nil, fmt.Errorf("verifier key for %q: unsupported key type 0x%02x (hegui reads Ed25519 and SM2-SM3)", name, enc[0])
	}
	return v, nil
}

// maxVerifierKeysFile bounds a verifier keys file: a few keys of a few
// hundred bytes each, with comments.
const maxVerifierKeysFile = 1 << 20

// ReadVerifierKeys reads a file of verifier keys, such as a log's log.pub;
// errors name the file. It must be a regular file (a FIFO or a device is
// refused, not waited on) of at most 1 MiB.
func ReadVerifierKeys(path string) ([]note.Verifier, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("verifier keys: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("verifier keys: %s is not a regular file", path)
	}
	if fi.Size() > maxVerifierKeysFile {
		return nil, fmt.Errorf("verifier keys: %s is larger than 1 MiB: not a log.pub", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verifier keys: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxVerifierKeysFile+1))
	if err != nil {
		return nil, fmt.Errorf("verifier keys: %w", err)
	}
	if len(data) > maxVerifierKeysFile {
		return nil, fmt.Errorf("verifier keys: %s is larger than 1 MiB: not a log.pub", path)
	}
	vs, err := ParseVerifierKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vs, nil
}

// ParseVerifierKeys reads verifier keys, one per line; blank lines and lines
// starting with '#' are skipped. All keys must name the same log.
func ParseVerifierKeys(data []byte) ([]note.Verifier, error) {
	var out []note.Verifier
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := NewVerifier(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if len(out) > 0 && out[0].Name() != v.Name() {
			return nil, fmt.Errorf("line %d: key for %q, but earlier keys are for %q", n, v.Name(), out[0].Name())
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no verifier keys")
	}
	return out, nil
}

// VerifierAlgorithm names the signature algorithm of a verifier made by
// NewVerifier ("ed25519" or "sm2"), or "" for other verifiers.
func VerifierAlgorithm(v note.Verifier) string {
	if nv, ok := v.(*noteVerifier); ok {
		return nv.algorithm
	}
	return ""
}

func sm2KeyEncoding(pub crypto.PublicKey) ([]byte, error) {
	if !sm2.IsSM2PublicKey(pub) {
		return nil, fmt.Errorf("checkpoint key is %T, not Ed25519 or SM2", pub)
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	enc := append([]byte{algExtension}, sm2Identifier...)
	return append(enc, der...), nil
}

func keyHash(name string, enc []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(enc)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validName matches note's rule for key names: non-empty UTF-8 with no
// spaces and no '+'.
func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "+ \t\n\r") && strings.IndexFunc(name, func(r rune) bool { return r < 0x21 }) < 0
}

func newNoteSigner(name string, enc []byte, sign func([]byte) ([]byte, error)) (note.Signer, error) {
	if !validName(name) {
		return nil, fmt.Errorf("log name %q must be non-empty with no spaces or '+'", name)
	}
	return &noteSigner{name: name, hash: keyHash(name, enc), sign: sign}, nil
}

type noteSigner struct {
	name string
	hash uint32
	sign func([]byte) ([]byte, error)
}

func (s *noteSigner) Name() string                    { return s.name }
func (s *noteSigner) KeyHash() uint32                 { return s.hash }
func (s *noteSigner) Sign(msg []byte) ([]byte, error) { return s.sign(msg) }

type noteVerifier struct {
	name      string
	hash      uint32
	algorithm string
	verify    func(msg, sig []byte) bool
}

func (v *noteVerifier) Name() string                { return v.name }
func (v *noteVerifier) KeyHash() uint32             { return v.hash }
func (v *noteVerifier) Verify(msg, sig []byte) bool { return v.verify(msg, sig) }
