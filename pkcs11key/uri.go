// Package pkcs11key uses keys that live in a PKCS#11 token (an HSM, a USB
// key, SoftHSM), named by an RFC 7512 "pkcs11:" URI:
//
//	pkcs11:token=release;object=signing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
//
// Two kinds of key: a private key that signs (Open returns a Key), and an
// AES secret key that wraps and unwraps package shred's data keys (OpenWrapper
// returns a Wrapper). In both the token does the cryptography; the key never
// leaves it. The package does not decrypt with private keys: a master key on
// a token is a Wrapper's AES key, not an SM2 key for shred.SM2Wrapper.
//
// The URI's path picks the token (token, serial, manufacturer, model or
// slot-id) and the key (object, id; type, if given, is private for a Key and
// secret-key for a Wrapper); its query may name the module (module-path), the
// PIN (pin-source, a file; pin-value is accepted but puts the PIN on command
// lines) and, as a vendor extension, the SM2 mechanism
// (x-sm2-mechanism=0x80000101). Config supplies what the URI leaves out.
//
// A Key is a crypto.Signer:
//
//   - ECDSA P-256 keys sign with CKM_ECDSA over a SHA-256 digest.
//   - Ed25519 keys sign with CKM_EDDSA: pure Ed25519 over a message
//     (certificates), or Ed25519ph (CK_EDDSA_PARAMS with phFlag set, PKCS#11
//     3.0) over a SHA-512 digest (files). Tokens that ignore the parameter
//     produce a signature that does not verify, which package sign detects.
//   - SM2 keys (CKK_EC on the curve 1.2.156.10197.1.301) have no standard
//     mechanism. Vendors define one; x-sm2-mechanism or Config.SM2Mechanism
//     names it. hegui passes it e = SM3(Z || M), the 32-byte value GB/T
//     32918.2 signs, and accepts r || s (64 bytes) or a DER signature back.
//
// A Wrapper is a shred.Wrapper: the token encrypts data keys under an AES key
// with CKM_AES_GCM (the format is in wrap.go and docs/shred.md).
//
// Keys and Wrappers share their module: a process loads and initialises a
// module once, at the first Open or OpenWrapper, and finalises it when the
// last Key or Wrapper using it is closed. A signing Key and a Wrapper on the
// same token can be open together and closed in any order.
//
// Talking to a token needs cgo (the module is a C shared library). A hegui
// built with CGO_ENABLED=0 parses URIs but Open and OpenWrapper return
// ErrNoCgo.
package pkcs11key

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/stefanberger/go-pkcs11uri"
)

// Config supplies what a URI may leave out.
type Config struct {
	// ModulePath is the PKCS#11 module used when the URI has no module-path.
	ModulePath string
	// PIN is the user PIN used when the URI has neither pin-source nor pin-value.
	PIN string
	// SM2Mechanism is the vendor mechanism that signs an SM2 digest. Zero
	// means SM2 keys on tokens are not configured.
	SM2Mechanism uint
}

// ErrNoCgo is returned by Open and OpenWrapper in a hegui built without cgo.
var ErrNoCgo = errors.New("PKCS#11 keys need a hegui built with cgo (the hegui-pkcs11 binary, `make build-pkcs11`); this binary was built with CGO_ENABLED=0")

// URI is a parsed pkcs11: URI that names one key.
type URI struct {
	Token        string // CKA token label
	Serial       string
	Manufacturer string
	Model        string
	SlotID       *uint
	Object       string // CKA_LABEL of the key
	ID           []byte // CKA_ID of the key
	Type         string // "private", "secret-key", or empty
	ModulePath   string
	SM2Mechanism uint // from x-sm2-mechanism; zero when absent
	raw          *pkcs11uri.Pkcs11URI
}

// IsURI reports whether s looks like a pkcs11: URI.
func IsURI(s string) bool { return strings.HasPrefix(s, "pkcs11:") }

// ParseURI parses and checks a pkcs11: URI: it must name a key by object or
// id, and its type, if given, must be private or secret-key.
func ParseURI(s string) (*URI, error) {
	if !IsURI(s) {
		return nil, errors.New("not a PKCS#11 URI: it must begin with the scheme pkcs11: (RFC 7512)")
	}
	s, keyType, err := cutType(s)
	if err != nil {
		return nil, err
	}
	raw := pkcs11uri.New()
	if err := raw.Parse(s); err != nil {
		return nil, fmt.Errorf("invalid PKCS#11 URI: %w", err)
	}
	u := &URI{Type: keyType, raw: raw}
	attr := func(name string) string { v, _ := raw.GetPathAttribute(name, false); return v }
	u.Token, u.Serial, u.Manufacturer, u.Model, u.Object = attr("token"), attr("serial"), attr("manufacturer"), attr("model"), attr("object")
	if id := attr("id"); id != "" {
		u.ID = []byte(id)
	}
	if v := attr("slot-id"); v != "" {
		n, err := strconv.ParseUint(v, 10, 0)
		if err != nil {
			return nil, fmt.Errorf("invalid PKCS#11 URI: slot-id %q is not a number", v)
		}
		slot := uint(n)
		u.SlotID = &slot
	}
	if u.Type != "" && u.Type != typePrivate && u.Type != typeSecretKey {
		return nil, fmt.Errorf("invalid PKCS#11 URI: type=%s, but hegui uses keys of type=private (signing) and type=secret-key (shred master keys)", u.Type)
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, errors.New("invalid PKCS#11 URI: name the key with object=LABEL or id=%XX")
	}
	u.ModulePath, _ = raw.GetQueryAttribute("module-path", false)
	if v, ok := raw.GetQueryAttribute("x-sm2-mechanism", false); ok {
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("invalid PKCS#11 URI: x-sm2-mechanism %q is not a mechanism number (like 0x80000101)", v)
		}
		u.SM2Mechanism = uint(n)
	}
	return u, nil
}

// Key types in a URI's type attribute.
const (
	typePrivate   = "private"
	typeSecretKey = "secret-key"
)

// cutType takes the type attribute out of the URI's path and returns it
// decoded. go-pkcs11uri checks type with a pattern that has a typo
// ("secret-key}data") and so refuses type=secret-key; ParseURI checks type
// itself. The path is split as go-pkcs11uri splits it.
func cutType(s string) (rest, keyType string, err error) {
	path, query, hasQuery := strings.Cut(strings.TrimPrefix(s, "pkcs11:"), "?")
	var kept []string
	found := false
	for _, attr := range strings.Split(path, ";") {
		name, value, _ := strings.Cut(attr, "=")
		if name != "type" {
			kept = append(kept, attr)
			continue
		}
		if found {
			return "", "", errors.New("invalid PKCS#11 URI: type is given twice")
		}
		found = true
		if keyType, err = url.PathUnescape(value); err != nil {
			return "", "", fmt.Errorf("invalid PKCS#11 URI: type: %w", err)
		}
	}
	rest = "pkcs11:" + strings.Join(kept, ";")
	if hasQuery {
		rest += "?" + query
	}
	return rest, keyType, nil
}

// parseKeyURI parses a URI for a key of the given type: a URI with another
// type names another kind of key.
func parseKeyURI(s, keyType string) (*URI, error) {
	u, err := ParseURI(s)
	if err != nil {
		return nil, err
	}
	if u.Type != "" && u.Type != keyType {
		what := "a signing key (Open)"
		if keyType == typeSecretKey {
			what = "a master key for shred (OpenWrapper)"
		}
		return nil, fmt.Errorf("invalid PKCS#11 URI: type=%s, but %s has type=%s", u.Type, what, keyType)
	}
	return u, nil
}

// pin returns the PIN from the URI's pin-source or pin-value, else from cfg.
// A PIN file's trailing newline is not part of the PIN.
func (u *URI) pin(cfg Config) (string, error) {
	if u.raw != nil && u.raw.HasPIN() {
		pin, err := u.raw.GetPIN()
		if err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		return strings.TrimRight(pin, "\r\n"), nil
	}
	if cfg.PIN != "" {
		return cfg.PIN, nil
	}
	return "", errors.New("no PIN: add pin-source=file:/path to the URI or set HEGUI_PKCS11_PIN")
}
