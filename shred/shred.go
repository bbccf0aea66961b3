// Package shred erases a person's data by destroying its key
// (crypto-shredding): each data subject's records are encrypted with a data
// key of its own (SM4-GCM), kept wrapped by a master key. Destroying the
// subject's wrapped key makes every copy of its records unreadable, in the
// database, in replicas and in backups (GDPR Art. 17, PIPL Art. 47). Export
// decrypts a subject's records into JSON for portability (GDPR Art. 20).
//
// The master key is a Wrapper: an SM2 key (SM2Wrapper; its private half is
// an *sm2.PrivateKey or another crypto.Decrypter), or an AES key that stays
// in a PKCS#11 token, which pkcs11key.OpenWrapper opens (the service imports
// pkcs11key and needs cgo for it; this package does not).
//
// Key stores are behind the Store interface: a directory (FileStore) and
// an SQL database (SQLStore, tested on MariaDB). Every destruction can be
// recorded (Auditor), in hegui's transparency log for instance.
//
// What stays: a copy of the key store itself (a backup of the directory or
// the table) still holds the wrapped key, readable with the master key.
// Keep the key store's backups on a shorter retention than the data's, or
// retire the master key they were wrapped under; see docs/shred.md.
//
// The package imports the standard library and gmsm only.
package shred

import (
	"context"
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Errors a Store and the Shredder return.
var (
	// ErrNotFound: the subject has no key (nothing was encrypted for it).
	ErrNotFound = errors.New("shred: no key for this subject")
	// ErrDestroyed: the subject's key was destroyed; its data is gone.
	ErrDestroyed = errors.New("shred: the subject's key was destroyed: the data is erased")
	// ErrExists: Create found a live key for the subject.
	ErrExists = errors.New("shred: the subject already has a key")
)

// Key is a subject's data key as a store keeps it: wrapped.
type Key struct {
	// ID names this key (a subject gets a new one if it comes back after
	// an erasure); it is written into every record the key encrypts.
	ID      string    `json:"id"`
	Wrapped []byte    `json:"wrapped"`
	Created time.Time `json:"created"`
}

// Store keeps subjects' wrapped keys. Subjects are named by SubjectName,
// never by what the application calls them (a user ID, an e-mail).
type Store interface {
	// Create stores a subject's first key, or a new one after its last
	// was destroyed; ErrExists if it has a live key.
	Create(ctx context.Context, subject string, k Key) error
	// Load returns the subject's live key; ErrNotFound if it never had
	// one, ErrDestroyed if its last key was destroyed.
	Load(ctx context.Context, subject string) (Key, error)
	// Destroy removes the subject's live key for good and returns its ID;
	// ErrNotFound if it has none, ErrDestroyed if it is already destroyed.
	Destroy(ctx context.Context, subject string) (string, error)
}

// Wrapper wraps data keys with a master key.
type Wrapper interface {
	Wrap(dataKey []byte) ([]byte, error)
	Unwrap(wrapped []byte) ([]byte, error)
}

// SM2Wrapper wraps data keys by SM2 encryption (GB/T 32918.4, the ASN.1
// form OpenSSL writes) to Public, and unwraps them with Private: an
// *sm2.PrivateKey, or any crypto.Decrypter holding the matching key.
type SM2Wrapper struct {
	Public  *ecdsa.PublicKey
	Private crypto.Decrypter
}

// Wrap encrypts a data key to the master public key.
func (w SM2Wrapper) Wrap(dataKey []byte) ([]byte, error) {
	return sm2.EncryptASN1(rand.Reader, w.Public, dataKey)
}

// Unwrap decrypts a wrapped data key with the master private key.
func (w SM2Wrapper) Unwrap(wrapped []byte) ([]byte, error) {
	return w.Private.Decrypt(rand.Reader, wrapped, nil)
}

// Auditor records destructions (in an audit log, a transparency log).
type Auditor interface {
	// Destroyed records that the subject's key keyID was destroyed.
	Destroyed(ctx context.Context, subject, keyID string, at time.Time) error
}

// Shredder encrypts and decrypts subjects' records and erases subjects.
type Shredder struct {
	Store   Store
	Wrapper Wrapper
	// SubjectKey is the secret under which subjects are named in the
	// store and the audit log (SubjectName): keep it with the master key.
	SubjectKey []byte
	// Auditor, if set, records every erasure.
	Auditor Auditor
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SubjectName is how a subject is named in a store and an audit log: the
// HMAC-SM3 of the application's name for it under a secret key, in hex.
// Neither holds a user ID or an e-mail address, and nobody without the key
// can tell whose name it is (an unkeyed hash of a phone number or an
// address is found by trying them all), not even from an audit log that
// keeps it for good.
func SubjectName(key []byte, subject string) string {
	mac := hmac.New(sm3.New, key)
	mac.Write([]byte(subject))
	return hex.EncodeToString(mac.Sum(nil))
}

// MinKeySize is the least SubjectKey size, in bytes.
const MinKeySize = 16

// name is the subject's name in the store.
func (s *Shredder) name(subject string) (string, error) {
	if len(s.SubjectKey) < MinKeySize {
		return "", fmt.Errorf("shred: the Shredder needs a SubjectKey of %d bytes or more", MinKeySize)
	}
	return SubjectName(s.SubjectKey, subject), nil
}

func (s *Shredder) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// recordVersion begins every record Encrypt writes.
const recordVersion = 1

// Encrypt encrypts a record of the subject's with its data key, creating
// the key the first time (and after an erasure). The record is bound to the
// subject: it does not decrypt as another's.
//
// The format: version (1 byte), key ID (8 bytes), nonce (12), SM4-GCM
// ciphertext and tag, with the subject's hash and the key ID authenticated.
func (s *Shredder) Encrypt(ctx context.Context, subject string, plaintext []byte) ([]byte, error) {
	h, err := s.name(subject)
	if err != nil {
		return nil, err
	}
	key, dataKey, err := s.keyFor(ctx, h, true)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(dataKey)
	if err != nil {
		return nil, err
	}
	id, _ := hex.DecodeString(key.ID)
	out := append([]byte{recordVersion}, id...)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	out = aead.Seal(out, nonce, plaintext, aad(h, key.ID))
	// Erased while this was encrypted? Then the record is born unreadable:
	// say so rather than hand back data nobody can read.
	if now, err := s.Store.Load(ctx, h); err != nil || now.ID != key.ID {
		return nil, fmt.Errorf("shred: the subject was erased while the record was encrypted (try again to keep it under a new key): %w", ErrDestroyed)
	}
	return out, nil
}

// Decrypt decrypts a record of the subject's; ErrDestroyed once the
// subject was erased.
func (s *Shredder) Decrypt(ctx context.Context, subject string, record []byte) ([]byte, error) {
	if len(record) < 1+8+12+16 || record[0] != recordVersion {
		return nil, errors.New("shred: not a record shred.Encrypt wrote")
	}
	h, err := s.name(subject)
	if err != nil {
		return nil, err
	}
	key, dataKey, err := s.keyFor(ctx, h, false)
	if errors.Is(err, ErrNotFound) {
		return nil, errors.New("shred: the subject has no key: the record is not theirs")
	}
	if err != nil {
		return nil, err
	}
	recordKey := hex.EncodeToString(record[1:9])
	if recordKey != key.ID {
		// Keys change only by destruction: the record's key is gone.
		return nil, ErrDestroyed
	}
	aead, err := gcm(dataKey)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, record[9:21], record[21:], aad(h, key.ID))
	if err != nil {
		return nil, errors.New("shred: the record does not decrypt: changed, or another subject's")
	}
	return plain, nil
}

// Forget erases a subject: its key is destroyed (every record encrypted
// under it is unreadable from then on) and the destruction recorded. It
// returns ErrNotFound for a subject with no key, nil for one already
// erased. If the record fails after the key is destroyed, the error says so.
func (s *Shredder) Forget(ctx context.Context, subject string) error {
	h, err := s.name(subject)
	if err != nil {
		return err
	}
	id, err := s.Store.Destroy(ctx, h)
	if errors.Is(err, ErrDestroyed) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.Auditor != nil {
		if err := s.Auditor.Destroyed(ctx, h, id, s.now()); err != nil {
			return fmt.Errorf("shred: the key %s was destroyed, but recording it failed (record it again): %w", id, err)
		}
	}
	return nil
}

// Export decrypts a subject's records into a JSON document for
// portability: each record as text if it is UTF-8, else as base64.
func (s *Shredder) Export(ctx context.Context, subject string, records [][]byte) ([]byte, error) {
	type item struct {
		Text   *string `json:"text,omitempty"`
		Base64 *string `json:"base64,omitempty"`
	}
	doc := struct {
		Subject  string    `json:"subject"`
		Exported time.Time `json:"exported"`
		Records  []item    `json:"records"`
	}{Subject: subject, Exported: s.now().UTC(), Records: []item{}}
	for i, r := range records {
		plain, err := s.Decrypt(ctx, subject, r)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		v := string(plain)
		if utf8.Valid(plain) {
			doc.Records = append(doc.Records, item{Text: &v})
		} else {
			b := base64.StdEncoding.EncodeToString(plain)
			doc.Records = append(doc.Records, item{Base64: &b})
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

// keyFor loads the subject's key and unwraps it, creating one if create.
func (s *Shredder) keyFor(ctx context.Context, h string, create bool) (Key, []byte, error) {
	key, err := s.Store.Load(ctx, h)
	if create && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrDestroyed)) {
		dataKey := make([]byte, sm4.BlockSize)
		id := make([]byte, 8)
		if _, err := rand.Read(dataKey); err != nil {
			return Key{}, nil, err
		}
		if _, err := rand.Read(id); err != nil {
			return Key{}, nil, err
		}
		wrapped, werr := s.Wrapper.Wrap(dataKey)
		if werr != nil {
			return Key{}, nil, fmt.Errorf("shred: wrapping a data key: %w", werr)
		}
		key = Key{ID: hex.EncodeToString(id), Wrapped: wrapped, Created: s.now().UTC()}
		err = s.Store.Create(ctx, h, key)
		if err == nil {
			return key, dataKey, nil
		}
		if !errors.Is(err, ErrExists) {
			return Key{}, nil, err
		}
		// Another writer created it first: use theirs.
		key, err = s.Store.Load(ctx, h)
	}
	if err != nil {
		return Key{}, nil, err
	}
	dataKey, err := s.Wrapper.Unwrap(key.Wrapped)
	if err != nil {
		return Key{}, nil, fmt.Errorf("shred: the subject's key does not unwrap: %w", err)
	}
	if len(dataKey) != sm4.BlockSize {
		return Key{}, nil, fmt.Errorf("shred: the subject's key unwraps to %d bytes, not an SM4 key: wrapped under another master key?", len(dataKey))
	}
	return key, dataKey, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func aad(subjectHash, keyID string) []byte {
	return []byte("hegui-shred-v1\x00" + subjectHash + "\x00" + keyID)
}

// AuditFunc is a function that is an Auditor. To record erasures in hegui's
// transparency log, translog.ErasureAuditor is one already (docs/shred.md).
type AuditFunc func(ctx context.Context, subject, keyID string, at time.Time) error

// Destroyed calls fn.
func (fn AuditFunc) Destroyed(ctx context.Context, subject, keyID string, at time.Time) error {
	return fn(ctx, subject, keyID, at)
}
