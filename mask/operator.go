package mask

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// An Operator says what replaces a finding.
type Operator interface {
	Apply(f Finding) (string, error)
}

// OperatorFunc is a function that is an Operator.
type OperatorFunc func(f Finding) (string, error)

// Apply calls fn.
func (fn OperatorFunc) Apply(f Finding) (string, error) { return fn(f) }

// Mask replaces every character of a value but the first KeepFirst and the
// last KeepLast with Char ('*' if zero), counting characters, not bytes.
// Spaces and hyphens between groups stay, so the value keeps its shape.
// An e-mail address keeps its domain and masks its local part; an IP
// address keeps its network (IPv4 /24, IPv6 /48).
type Mask struct {
	KeepFirst, KeepLast int
	Char                rune
}

// DefaultMask is how each kind is masked unless told otherwise: an ID
// number keeps its first three and last four characters
// (110***********002X), a mobile number its first three and last four
// (138****5678), a card its first six and last four (as PCI DSS allows).
func DefaultMask(k Kind) Mask {
	switch k {
	case IDCard, Mobile:
		return Mask{KeepFirst: 3, KeepLast: 4}
	case BankCard:
		return Mask{KeepFirst: 6, KeepLast: 4}
	case USCC, IBAN:
		return Mask{KeepFirst: 4, KeepLast: 4}
	case Passport, TravelPermit:
		return Mask{KeepFirst: 1, KeepLast: 3}
	case Plate:
		return Mask{KeepFirst: 2, KeepLast: 1}
	case Email:
		return Mask{KeepFirst: 1}
	case Phone:
		return Mask{KeepFirst: 4, KeepLast: 4}
	}
	return Mask{KeepFirst: 1, KeepLast: 1}
}

// Apply masks f's value.
func (m Mask) Apply(f Finding) (string, error) {
	char := m.Char
	if char == 0 {
		char = '*'
	}
	switch f.Kind {
	case Email:
		if at := strings.LastIndexByte(f.Value, '@'); at > 0 {
			return maskRunes(f.Value[:at], m.KeepFirst, 0, char) + f.Value[at:], nil
		}
	case IP:
		if ap, err := netip.ParseAddrPort(f.Value); err == nil {
			masked, _ := m.Apply(Finding{Kind: IP, Value: ap.Addr().String()})
			return masked + ":" + strconv.Itoa(int(ap.Port())), nil
		}
		if addr, err := netip.ParseAddr(f.Value); err == nil {
			if addr.Is4() {
				return f.Value[:strings.LastIndexByte(f.Value, '.')+1] + string(char), nil
			}
			p, _ := addr.Prefix(48)
			return p.String(), nil
		}
	}
	return maskRunes(f.Value, m.KeepFirst, m.KeepLast, char), nil
}

// maskRunes masks the characters of s but the first keepFirst and the
// last keepLast that are not separators; separators stay. A value too
// short to keep anything and still hide something is masked whole.
func maskRunes(s string, keepFirst, keepLast int, char rune) string {
	if char < utf8.RuneSelf && isASCII(s) {
		return maskASCII(s, keepFirst, keepLast, byte(char))
	}
	n := 0
	for _, r := range s {
		if !isSeparator(r) {
			n++
		}
	}
	if keepFirst+keepLast >= n {
		keepFirst, keepLast = 0, 0
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for _, r := range s {
		if isSeparator(r) {
			b.WriteRune(r)
			continue
		}
		if i < keepFirst || i >= n-keepLast {
			b.WriteRune(r)
		} else {
			b.WriteRune(char)
		}
		i++
	}
	return b.String()
}

func isSeparator(r rune) bool { return r == ' ' || r == '-' }

// maskASCII is maskRunes for ASCII text and an ASCII mask character: one
// allocation, no rune decoding (most values in logs).
func maskASCII(s string, keepFirst, keepLast int, char byte) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isSeparator(rune(s[i])) {
			n++
		}
	}
	if keepFirst+keepLast >= n {
		keepFirst, keepLast = 0, 0
	}
	var b strings.Builder
	b.Grow(len(s))
	k := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isSeparator(rune(c)) {
			if k >= keepFirst && k < n-keepLast {
				c = char
			}
			k++
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Redact removes a value.
var Redact Operator = OperatorFunc(func(Finding) (string, error) { return "", nil })

// Replace puts With in a value's place, or <KIND> (<IDCARD>) if With is
// empty.
type Replace struct{ With string }

// Apply replaces f's value.
func (r Replace) Apply(f Finding) (string, error) {
	if r.With != "" {
		return r.With, nil
	}
	return "<" + strings.ToUpper(string(f.Kind)) + ">", nil
}

// MinKeySize is the least key size Pseudonym and Encrypt accept, in bytes.
const MinKeySize = 16

// Pseudonym replaces a value with a keyed HMAC-SM3 of it: the same value
// always gets the same pseudonym under one key (records can still be
// joined), and nobody without the key can recompute it. An unkeyed hash
// would not do: there are few enough ID and phone numbers to hash them
// all. Separators and the case of letters do not change the pseudonym.
type Pseudonym struct{ key []byte }

// NewPseudonym returns a Pseudonym operator with key, which must be
// MinKeySize bytes or more and kept secret.
func NewPseudonym(key []byte) (*Pseudonym, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("mask: a pseudonym key must be %d bytes or more, not %d", MinKeySize, len(key))
	}
	return &Pseudonym{key: append([]byte(nil), key...)}, nil
}

// Apply returns KIND_ and 16 hex digits of the HMAC-SM3 of f's kind and
// value (idcard_3f2a...).
func (p *Pseudonym) Apply(f Finding) (string, error) {
	if len(p.key) < MinKeySize {
		return "", errors.New("mask: a Pseudonym without a key (make it with NewPseudonym)")
	}
	mac := hmac.New(sm3.New, p.key)
	mac.Write([]byte(f.Kind))
	mac.Write([]byte{0})
	mac.Write([]byte(canonical(f.Value)))
	return string(f.Kind) + "_" + hex.EncodeToString(mac.Sum(nil)[:8]), nil
}

// canonical is a value without separators, letters in upper case.
func canonical(v string) string {
	var b strings.Builder
	for _, r := range v {
		if isSeparator(r) {
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// A Vault keeps the values behind tokens, for Tokenize.
type Vault interface {
	// Token returns a token for value (the same token each time, if the
	// vault wants).
	Token(kind Kind, value string) (string, error)
	// Value returns the value behind a token.
	Value(token string) (string, error)
}

// Tokenize replaces a value with a token from a Vault, from which it can be
// taken back.
type Tokenize struct{ Vault Vault }

// Apply returns the vault's token for f's value.
func (t Tokenize) Apply(f Finding) (string, error) { return t.Vault.Token(f.Kind, f.Value) }

// MemoryVault is a Vault in memory: random tokens, the same token for the
// same kind and value. It is safe for concurrent use.
type MemoryVault struct {
	mu      sync.Mutex
	tokens  map[string]string // kind NUL value -> token
	byToken map[string]string
}

// ErrUnknownToken is the error for a token a vault does not hold.
var ErrUnknownToken = errors.New("mask: unknown token")

// Token returns the token for value, making one the first time.
func (v *MemoryVault) Token(kind Kind, value string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := string(kind) + "\x00" + value
	if t, ok := v.tokens[key]; ok {
		return t, nil
	}
	if v.tokens == nil {
		v.tokens, v.byToken = map[string]string{}, map[string]string{}
	}
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	t := "tok_" + string(kind) + "_" + hex.EncodeToString(r[:])
	v.tokens[key], v.byToken[t] = t, value
	return t, nil
}

// Value returns the value behind token.
func (v *MemoryVault) Value(token string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if value, ok := v.byToken[token]; ok {
		return value, nil
	}
	return "", ErrUnknownToken
}

// Encrypt replaces a value with its SM4-GCM encryption under a key, which
// Decrypt reverses: sm4:BASE64URL(nonce, ciphertext and tag), the kind
// authenticated with it.
type Encrypt struct{ aead cipher.AEAD }

// NewEncrypt returns an Encrypt operator with a 16-byte SM4 key.
func NewEncrypt(key []byte) (*Encrypt, error) {
	aead, err := sm4GCM(key)
	if err != nil {
		return nil, err
	}
	return &Encrypt{aead: aead}, nil
}

func sm4GCM(key []byte) (cipher.AEAD, error) {
	if len(key) != sm4.BlockSize {
		return nil, fmt.Errorf("mask: an SM4 key is %d bytes, not %d", sm4.BlockSize, len(key))
	}
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// encryptedPrefix begins every value Encrypt writes.
const encryptedPrefix = "sm4:"

// Apply encrypts f's value.
func (e *Encrypt) Apply(f Finding) (string, error) {
	nonce := make([]byte, e.aead.NonceSize(), e.aead.NonceSize()+len(f.Value)+e.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := e.aead.Seal(nonce, nonce, []byte(f.Value), []byte(f.Kind))
	return encryptedPrefix + string(f.Kind) + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Decrypt returns the value Encrypt replaced with s, under key.
func Decrypt(key []byte, s string) (Kind, string, error) {
	aead, err := sm4GCM(key)
	if err != nil {
		return "", "", err
	}
	rest, ok := strings.CutPrefix(s, encryptedPrefix)
	kind, enc, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return "", "", errors.New("mask: not a value mask.Encrypt wrote")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(sealed) < aead.NonceSize()+aead.Overhead() {
		return "", "", errors.New("mask: not a value mask.Encrypt wrote")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(kind))
	if err != nil {
		return "", "", errors.New("mask: the value does not decrypt with this key (another key, or changed)")
	}
	if !utf8.Valid(plain) {
		return "", "", errors.New("mask: the decrypted value is not text")
	}
	return Kind(kind), string(plain), nil
}
