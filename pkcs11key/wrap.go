//go:build cgo

package pkcs11key

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// A wrapped key, as Wrap writes it:
//
//	version (1 byte, 1) | IV (12 bytes) | AES-GCM ciphertext | tag (16 bytes)
//
// The token encrypts the data key under the master key with CKM_AES_GCM, a
// fresh random IV for each wrap and the additional data wrapAAD, so a blob
// is bound to this format and version. Nothing else is needed to unwrap it
// but the master key.
const (
	wrapVersion = 1
	wrapIVSize  = 12
	wrapTagSize = 16
)

var wrapAAD = []byte("hegui-pkcs11-wrap-v1")

var errWrapperClosed = errors.New("the PKCS#11 wrapper is closed")

// Wrapper is an AES master key on a PKCS#11 token that wraps and unwraps
// data keys; it is a shred.Wrapper. The token encrypts and decrypts: hegui
// never reads the master key (made sensitive and not extractable, it never
// leaves the token). It is safe for concurrent use; operations are
// serialised over one session. Close ends the session.
type Wrapper struct {
	mu     sync.Mutex
	s      *session // nil once closed
	handle pkcs11.ObjectHandle
}

// OpenWrapper loads the module (once per process), finds the token and the
// secret key the URI names (object, id), logs in and checks that the key is
// an AES key allowed to encrypt and decrypt and that the token offers
// CKM_AES_GCM.
func OpenWrapper(uri string, cfg Config) (_ *Wrapper, err error) {
	u, err := parseKeyURI(uri, typeSecretKey)
	if err != nil {
		return nil, err
	}
	s, err := openSession(u, cfg, 0)
	if err != nil {
		return nil, err
	}
	w := &Wrapper{s: s}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	if w.handle, err = findSecretKey(s.ctx, s.handle, u); err != nil {
		return nil, err
	}
	if err := checkWrappingKey(s.ctx, s.handle, w.handle, u); err != nil {
		return nil, err
	}
	if _, err := s.ctx.GetMechanismInfo(s.slot, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, nil)}); err != nil {
		return nil, fmt.Errorf("the token does not offer AES-GCM (CKM_AES_GCM), which hegui wraps data keys with: %w", err)
	}
	return w, nil
}

// keyName describes the key a URI names, for error messages.
func keyName(u *URI) string {
	switch {
	case u.Object == "":
		return fmt.Sprintf("id %x", u.ID)
	case len(u.ID) == 0:
		return fmt.Sprintf("label %q", u.Object)
	}
	return fmt.Sprintf("label %q and id %x", u.Object, u.ID)
}

// findSecretKey finds the one secret key the URI names. It searches every
// class, so that a label naming a key pair is reported as the wrong kind of
// key rather than as missing.
func findSecretKey(ctx *pkcs11.Ctx, session pkcs11.SessionHandle, u *URI) (pkcs11.ObjectHandle, error) {
	handles, err := searchObjects(ctx, session, u, 16)
	if err != nil {
		return 0, err
	}
	var secret []pkcs11.ObjectHandle
	var other []string
	for _, h := range handles {
		attrs, err := ctx.GetAttributeValue(session, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil)})
		if err != nil {
			return 0, fmt.Errorf("read object class: %w", err)
		}
		if class := decodeULong(attrs[0].Value); class == pkcs11.CKO_SECRET_KEY {
			secret = append(secret, h)
		} else {
			other = append(other, className(class))
		}
	}
	switch {
	case len(secret) == 1:
		return secret[0], nil
	case len(secret) > 1:
		return 0, fmt.Errorf("more than one secret key matches %s; add id= to the URI", keyName(u))
	case len(other) > 0:
		slices.Sort(other)
		return 0, fmt.Errorf("%s names %s on the token, not a secret key: the master key must be an AES key (CKO_SECRET_KEY)", keyName(u), strings.Join(slices.Compact(other), " and "))
	}
	return 0, fmt.Errorf("no secret key with %s on the token", keyName(u))
}

func className(class uint) string {
	switch class {
	case pkcs11.CKO_PRIVATE_KEY:
		return "a private key"
	case pkcs11.CKO_PUBLIC_KEY:
		return "a public key"
	case pkcs11.CKO_CERTIFICATE:
		return "a certificate"
	case pkcs11.CKO_DATA:
		return "a data object"
	}
	return fmt.Sprintf("an object of class %#x", class)
}

// checkWrappingKey checks the key is AES and may encrypt and decrypt, so that
// a misconfigured key fails when the service starts, not at its first wrap.
func checkWrappingKey(ctx *pkcs11.Ctx, session pkcs11.SessionHandle, h pkcs11.ObjectHandle, u *URI) error {
	attrs, err := ctx.GetAttributeValue(session, h, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, nil),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, nil),
	})
	if err != nil {
		return fmt.Errorf("read secret key attributes: %w", err)
	}
	switch keyType := decodeULong(attrs[0].Value); {
	case keyType >= pkcs11.CKK_VENDOR_DEFINED:
		return fmt.Errorf("the secret key with %s has the vendor-defined type %#x (SM4 keys are vendor-defined): hegui wraps data keys with AES keys only (CKM_AES_GCM)", keyName(u), keyType)
	case keyType != pkcs11.CKK_AES:
		return fmt.Errorf("the secret key with %s has type %#x, not AES (%#x): hegui wraps data keys with AES keys only (CKM_AES_GCM)", keyName(u), keyType, pkcs11.CKK_AES)
	}
	if !decodeBool(attrs[1].Value) || !decodeBool(attrs[2].Value) {
		return fmt.Errorf("the AES key with %s may not both encrypt and decrypt: make it with CKA_ENCRYPT and CKA_DECRYPT set (pkcs11-tool --usage-decrypt)", keyName(u))
	}
	return nil
}

// decodeBool reads a CK_BBOOL attribute.
func decodeBool(b []byte) bool { return len(b) == 1 && b[0] != 0 }

// Wrap encrypts a data key under the master key, on the token.
func (w *Wrapper) Wrap(dataKey []byte) ([]byte, error) {
	if len(dataKey) == 0 {
		return nil, errors.New("no data key to wrap")
	}
	iv := make([]byte, wrapIVSize)
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	params := pkcs11.NewGCMParams(iv, wrapAAD, wrapTagSize*8)
	defer params.Free()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s == nil {
		return nil, errWrapperClosed
	}
	if err := w.s.ctx.EncryptInit(w.s.handle, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, w.handle); err != nil {
		return nil, fmt.Errorf("token: start AES-GCM encryption: %w", err)
	}
	sealed, err := w.s.ctx.Encrypt(w.s.handle, dataKey)
	if err != nil {
		return nil, fmt.Errorf("token: wrap a data key: %w", err)
	}
	if len(sealed) != len(dataKey)+wrapTagSize {
		return nil, fmt.Errorf("token: AES-GCM returned %d bytes for a %d-byte key, want the ciphertext and a %d-byte tag", len(sealed), len(dataKey), wrapTagSize)
	}
	// Some tokens choose the IV themselves and write it back into the
	// parameters; the one used is the one to keep.
	if used := params.IV(); len(used) == wrapIVSize {
		iv = used
	}
	out := make([]byte, 0, 1+wrapIVSize+len(sealed))
	out = append(out, wrapVersion)
	out = append(out, iv...)
	return append(out, sealed...), nil
}

// Unwrap decrypts a key Wrap wrapped, on the token. A blob that was changed,
// cut short or wrapped under another key is an error.
func (w *Wrapper) Unwrap(wrapped []byte) ([]byte, error) {
	if len(wrapped) <= 1+wrapIVSize+wrapTagSize {
		return nil, fmt.Errorf("wrapped key is %d bytes, shorter than any a PKCS#11 wrapper writes (%d or more): cut short, or not wrapped on a token", len(wrapped), 1+wrapIVSize+wrapTagSize+1)
	}
	if wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("wrapped key has format version %d; this hegui reads version %d", wrapped[0], wrapVersion)
	}
	params := pkcs11.NewGCMParams(wrapped[1:1+wrapIVSize], wrapAAD, wrapTagSize*8)
	defer params.Free()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s == nil {
		return nil, errWrapperClosed
	}
	if err := w.s.ctx.DecryptInit(w.s.handle, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, w.handle); err != nil {
		return nil, fmt.Errorf("token: start AES-GCM decryption: %w", err)
	}
	dataKey, err := w.s.ctx.Decrypt(w.s.handle, wrapped[1+wrapIVSize:])
	switch {
	case isCode(err, pkcs11.CKR_ENCRYPTED_DATA_INVALID), isCode(err, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE), isCode(err, pkcs11.CKR_GENERAL_ERROR):
		// SoftHSM reports a tag that does not verify as a general error.
		return nil, fmt.Errorf("token: the wrapped key does not unwrap under this master key (changed, or wrapped under another key): %w", err)
	case err != nil:
		return nil, fmt.Errorf("token: AES-GCM decryption: %w", err)
	}
	return dataKey, nil
}

// Close ends the wrapper's session on the token. The module stays loaded
// while another Wrapper or Key uses it; closing the last finalises and
// unloads it.
func (w *Wrapper) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s == nil {
		return nil
	}
	err := w.s.close()
	w.s = nil
	return err
}
