//go:build cgo

package pkcs11key

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/miekg/pkcs11"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Available reports whether this build can open PKCS#11 modules.
const Available = true

// PKCS#11 3.0 identifiers that miekg/pkcs11 (built on the 2.40 headers)
// does not define.
const (
	ckkECEdwards = 0x40
	ckmEdDSA     = 0x1057
)

var (
	oidP256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidSM2     = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// Key is a private key on a PKCS#11 token. It is safe for concurrent use;
// signatures are serialised over one session. Close ends the session.
type Key struct {
	mu      sync.Mutex
	s       *session // nil once closed
	handle  pkcs11.ObjectHandle
	pub     crypto.PublicKey
	sm2Mech uint
}

var errKeyClosed = errors.New("the PKCS#11 key is closed")

// Open loads the module (once per process), finds the token and the key the
// URI names, logs in and reads the matching public key object.
func Open(uri string, cfg Config) (_ *Key, err error) {
	u, err := parseKeyURI(uri, typePrivate)
	if err != nil {
		return nil, err
	}
	s, err := openSession(u, cfg, 0)
	if err != nil {
		return nil, err
	}
	k := &Key{s: s, sm2Mech: u.SM2Mechanism}
	if k.sm2Mech == 0 {
		k.sm2Mech = cfg.SM2Mechanism
	}
	defer func() {
		if err != nil {
			k.Close()
		}
	}()
	if k.handle, err = findObject(s.ctx, s.handle, pkcs11.CKO_PRIVATE_KEY, u); err != nil {
		return nil, err
	}
	pubHandle, err := findObject(s.ctx, s.handle, pkcs11.CKO_PUBLIC_KEY, u)
	if err != nil {
		return nil, fmt.Errorf("%w (hegui reads the public key from the public key object with the same label or ID)", err)
	}
	if k.pub, err = readPublicKey(s.ctx, s.handle, pubHandle); err != nil {
		return nil, err
	}
	if pub, ok := k.pub.(*ecdsa.PublicKey); ok && pub.Curve == sm2.P256() && k.sm2Mech == 0 {
		return nil, errors.New("the token key is SM2, and PKCS#11 has no standard SM2 mechanism: name the vendor's mechanism with x-sm2-mechanism=0x... in the URI or $HEGUI_PKCS11_SM2_MECHANISM")
	}
	return k, nil
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

func findSlot(ctx *pkcs11.Ctx, u *URI) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("list slots: %w", err)
	}
	var labels []string
	for _, slot := range slots {
		info, err := ctx.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		label := strings.TrimRight(info.Label, " \x00")
		labels = append(labels, label)
		switch {
		case u.SlotID != nil && *u.SlotID != slot,
			u.Token != "" && u.Token != label,
			u.Serial != "" && u.Serial != strings.TrimRight(info.SerialNumber, " \x00"),
			u.Manufacturer != "" && u.Manufacturer != strings.TrimRight(info.ManufacturerID, " \x00"),
			u.Model != "" && u.Model != strings.TrimRight(info.Model, " \x00"):
			continue
		}
		return slot, nil
	}
	return 0, fmt.Errorf("no token matches the URI (tokens present: %q)", labels)
}

// searchObjects finds up to max objects with the URI's label and id and
// the attributes given.
func searchObjects(ctx *pkcs11.Ctx, session pkcs11.SessionHandle, u *URI, max int, template ...*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if u.Object != "" {
		template = append(template, pkcs11.NewAttribute(pkcs11.CKA_LABEL, u.Object))
	}
	if len(u.ID) > 0 {
		template = append(template, pkcs11.NewAttribute(pkcs11.CKA_ID, u.ID))
	}
	if err := ctx.FindObjectsInit(session, template); err != nil {
		return nil, fmt.Errorf("search token: %w", err)
	}
	handles, _, err := ctx.FindObjects(session, max)
	ctx.FindObjectsFinal(session)
	if err != nil {
		return nil, fmt.Errorf("search token: %w", err)
	}
	return handles, nil
}

func findObject(ctx *pkcs11.Ctx, session pkcs11.SessionHandle, class uint, u *URI) (pkcs11.ObjectHandle, error) {
	handles, err := searchObjects(ctx, session, u, 2, pkcs11.NewAttribute(pkcs11.CKA_CLASS, class))
	if err != nil {
		return 0, err
	}
	kind := "private key"
	if class == pkcs11.CKO_PUBLIC_KEY {
		kind = "public key"
	}
	switch len(handles) {
	case 0:
		return 0, fmt.Errorf("no %s with label %q / id %x on the token", kind, u.Object, u.ID)
	case 1:
		return handles[0], nil
	}
	return 0, fmt.Errorf("more than one %s matches label %q / id %x; add id= to the URI", kind, u.Object, u.ID)
}

func readPublicKey(ctx *pkcs11.Ctx, session pkcs11.SessionHandle, h pkcs11.ObjectHandle) (crypto.PublicKey, error) {
	attrs, err := ctx.GetAttributeValue(session, h, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil),
	})
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	keyType := decodeULong(attrs[0].Value)
	params, point := attrs[1].Value, unwrapOctetString(attrs[2].Value)
	var curve asn1.ObjectIdentifier
	asn1.Unmarshal(params, &curve) // Edwards keys may name the curve by string instead

	switch {
	case keyType == pkcs11.CKK_EC && curve.Equal(oidP256):
		return checkECPoint("P-256", point, func(p []byte) (*ecdsa.PublicKey, error) { return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), p) })
	case keyType == pkcs11.CKK_EC && curve.Equal(oidSM2):
		return checkECPoint("SM2", point, sm2.ParseUncompressedPublicKey)
	case keyType == ckkECEdwards && (curve.Equal(oidEd25519) || isEdwards25519Name(params)):
		if len(point) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("token Ed25519 public key is %d bytes", len(point))
		}
		return ed25519.PublicKey(point), nil
	}
	return nil, fmt.Errorf("unsupported token key (type %#x, parameters %x): hegui signs with P-256, SM2 and Ed25519 keys", keyType, params)
}

// decodeULong reads a CK_ULONG attribute, stored in host byte order.
func decodeULong(b []byte) uint {
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b))
	case 4:
		return uint(binary.NativeEndian.Uint32(b))
	}
	return 0
}

// unwrapOctetString returns the content of a DER OCTET STRING, as CKA_EC_POINT
// should be encoded; tokens that store the raw point are accepted too.
func unwrapOctetString(b []byte) []byte {
	s := cryptobyte.String(b)
	var inner cryptobyte.String
	if s.ReadASN1(&inner, cbasn1.OCTET_STRING) && s.Empty() {
		return inner
	}
	return b
}

// isEdwards25519Name matches the PrintableString "edwards25519" that PKCS#11
// 3.0 allows in CKA_EC_PARAMS.
func isEdwards25519Name(params []byte) bool {
	var name string
	_, err := asn1.Unmarshal(params, &name)
	return err == nil && name == "edwards25519"
}

// checkECPoint parses a token's EC_POINT, an uncompressed point, with the
// curve's own parser, which also checks the point is on the curve.
func checkECPoint(curve string, point []byte, parse func([]byte) (*ecdsa.PublicKey, error)) (crypto.PublicKey, error) {
	if len(point) != 65 || point[0] != 4 {
		return nil, fmt.Errorf("token EC public key is not an uncompressed %s point", curve)
	}
	pub, err := parse(point)
	if err != nil {
		return nil, fmt.Errorf("token EC public key is not on %s: %w", curve, err)
	}
	return pub, nil
}

// Public returns the key's public half.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Sign signs digest on the token; see the package documentation for what
// digest and opts mean for each key type.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var mech *pkcs11.Mechanism
	input := digest
	switch pub := k.pub.(type) {
	case ed25519.PublicKey:
		switch opts.HashFunc() {
		case crypto.Hash(0):
			mech = pkcs11.NewMechanism(ckmEdDSA, nil)
		case crypto.SHA512:
			if strconv.IntSize != 64 || runtime.GOOS == "windows" {
				return nil, errors.New("Ed25519ph on tokens is supported on 64-bit Unix only")
			}
			mech = pkcs11.NewMechanism(ckmEdDSA, eddsaPrehashParams())
		default:
			return nil, fmt.Errorf("Ed25519 cannot sign a %v digest", opts.HashFunc())
		}
	case *ecdsa.PublicKey:
		if pub.Curve == sm2.P256() {
			e, err := sm2Input(pub, digest, opts)
			if err != nil {
				return nil, err
			}
			input, mech = e, pkcs11.NewMechanism(k.sm2Mech, nil)
		} else {
			if opts.HashFunc() != crypto.SHA256 || len(digest) != 32 {
				return nil, errors.New("ECDSA P-256 token keys sign SHA-256 digests")
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.s == nil {
		return nil, errKeyClosed
	}
	if err := k.s.ctx.SignInit(k.s.handle, []*pkcs11.Mechanism{mech}, k.handle); err != nil {
		return nil, fmt.Errorf("token: start signing: %w", err)
	}
	sig, err := k.s.ctx.Sign(k.s.handle, input)
	if err != nil {
		return nil, fmt.Errorf("token: sign: %w", err)
	}
	if _, ok := k.pub.(*ecdsa.PublicKey); ok && len(sig) == 64 {
		return rawToDER(sig), nil
	}
	return sig, nil
}

// sm2Input returns e = SM3(Z || M) for the token. Certificates are signed
// with sm2.DefaultSM2SignerOpts and pass the message; package sign passes e.
func sm2Input(pub *ecdsa.PublicKey, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if o, ok := opts.(*sm2.SM2SignerOption); ok {
		if o != sm2.DefaultSM2SignerOpts {
			return nil, errors.New("SM2 token keys support the default signer options only")
		}
		return sm2.CalculateSM2Hash(pub, digest, nil)
	}
	if len(digest) != 32 {
		return nil, fmt.Errorf("SM2 digest is %d bytes, want 32", len(digest))
	}
	return digest, nil
}

// eddsaPrehashParams encodes CK_EDDSA_PARAMS{phFlag: CK_TRUE,
// ulContextDataLen: 0, pContextData: NULL} for an LP64 platform: a CK_BBOOL
// padded to 8 bytes, a 64-bit CK_ULONG, a 64-bit pointer.
func eddsaPrehashParams() []byte {
	p := make([]byte, 24)
	p[0] = 1
	return p
}

func rawToDER(sig []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[:32]))
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[32:]))
	})
	return b.BytesOrPanic()
}

// Close ends the key's session on the token. The module stays loaded while
// another Key or Wrapper uses it; closing the last finalises and unloads it.
func (k *Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.s == nil {
		return nil
	}
	err := k.s.close()
	k.s = nil
	return err
}
