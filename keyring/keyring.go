// Package keyring keeps signing keys in a directory and takes them through
// their lifecycle:
//
//	ACTIVE       signs and verifies
//	DEACTIVATED  verifies only; rotation deactivates the key it replaces
//	DESTROYED    the private key is overwritten and removed; the public key
//	             and metadata stay, so old signatures remain verifiable
//
// The directory holds three files per key, named by the key ID (the SHA-256
// of the public key, see keys.ID):
//
//	<id>.key   the private key, PKCS#8 PEM, mode 0600 (encrypted unless asked otherwise)
//	<id>.pub   the public key, SPKI PEM
//	<id>.json  metadata: name, algorithm, state and its dates, rotation links
//
// Keys have names ("release", "ci"); a name refers to its ACTIVE key, and
// rotation keeps the name while changing the key. Changes take an exclusive
// lock on the directory and replace files atomically, so concurrent hegui
// processes and crashes leave the keyring consistent.
//
// Destruction overwrites the private key file before removing it. On
// copy-on-write file systems, SSDs and backed-up disks old blocks may
// survive; the file was encrypted, which is the real protection.
package keyring

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/keys"
)

// State is where a key is in its lifecycle.
type State string

// The lifecycle states.
const (
	Active      State = "ACTIVE"
	Deactivated State = "DEACTIVATED"
	Destroyed   State = "DESTROYED"
)

// EntrySchema identifies the metadata format.
const EntrySchema = "hegui.dev/keyring-entry/v1"

// Entry is the metadata of one key.
type Entry struct {
	Schema      string           `json:"schema"`
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Algorithm   keys.Algorithm   `json:"algorithm"`
	State       State            `json:"state"`
	Created     time.Time        `json:"created"`
	Deactivated *time.Time       `json:"deactivated,omitempty"`
	Destroyed   *time.Time       `json:"destroyed,omitempty"`
	Replaces    string           `json:"replaces,omitempty"`
	ReplacedBy  string           `json:"replacedBy,omitempty"`
	Protection  *keys.Protection `json:"protection,omitempty"` // nil: stored unencrypted
}

// ErrNotActive is returned when a key that is not ACTIVE is asked to sign.
var ErrNotActive = errors.New("key is not ACTIVE")

// Keyring is a key directory.
type Keyring struct {
	dir string
	now func() time.Time
}

// Open opens the keyring in dir. The directory is created (mode 0700) when
// the first key is added; until then the keyring is empty.
func Open(dir string) (*Keyring, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("keyring %s is not a directory", dir)
	}
	return &Keyring{dir: dir, now: time.Now}, nil
}

// Dir is the keyring's directory.
func (r *Keyring) Dir() string { return r.dir }

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidateName checks a key name: 1 to 64 of a-z, 0-9, '.', '_', '-',
// starting with a letter or digit.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("invalid key name %q: use 1 to 64 lowercase letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

func (r *Keyring) path(id, ext string) string { return filepath.Join(r.dir, id+ext) }

// PrivateKeyPath is the file holding an entry's private key (absent once
// the key is DESTROYED).
func (r *Keyring) PrivateKeyPath(e *Entry) string { return r.path(e.ID, ".key") }

// PublicKeyPath is the file holding an entry's public key.
func (r *Keyring) PublicKeyPath(e *Entry) string { return r.path(e.ID, ".pub") }

// Add stores priv under name as a new ACTIVE key. With a non-empty password
// the private key is encrypted as prot says; with none it is stored
// unencrypted. Adding a second ACTIVE key under a name is refused: rotate.
func (r *Keyring) Add(name string, priv crypto.Signer, password []byte, prot keys.Protection) (*Entry, error) {
	return r.AddContext(context.Background(), name, priv, password, prot)
}

// AddContext is Add that stops when ctx ends, also while the password is
// being stretched; nothing is written then.
func (r *Keyring) AddContext(ctx context.Context, name string, priv crypto.Signer, password []byte, prot keys.Protection) (*Entry, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	unlock, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if active, _ := r.activeByName(name); active != nil {
		return nil, fmt.Errorf("key name %q already has an ACTIVE key %s; use rotate to replace it", name, keys.ShortID(active.ID))
	}
	return r.add(ctx, name, priv, password, prot, "")
}

func (r *Keyring) add(ctx context.Context, name string, priv crypto.Signer, password []byte, prot keys.Protection, replaces string) (*Entry, error) {
	alg, err := keys.AlgorithmOf(priv.Public())
	if err != nil {
		return nil, err
	}
	id, err := keys.ID(priv.Public())
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(r.path(id, ".json")); err == nil {
		return nil, fmt.Errorf("key %s is already in the keyring", keys.ShortID(id))
	}
	var privPEM []byte
	var protection *keys.Protection
	if len(password) > 0 {
		privPEM, err = keys.EncryptPrivateKeyPEMContext(ctx, priv, password, prot)
		protection = &prot
	} else {
		privPEM, err = keys.MarshalPrivateKeyPEM(priv)
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("key not stored: %w", err)
	}
	pubPEM, err := keys.MarshalPublicKeyPEM(priv.Public())
	if err != nil {
		return nil, err
	}
	e := &Entry{
		Schema:     EntrySchema,
		ID:         id,
		Name:       name,
		Algorithm:  alg,
		State:      Active,
		Created:    r.now().UTC(),
		Replaces:   replaces,
		Protection: protection,
	}
	// Key material first, metadata last: an entry is only listed once its
	// metadata exists, so a crash in between leaves no half-made key.
	if err := atomicfile.WriteNew(r.path(id, ".key"), privPEM, 0o600); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(r.path(id, ".pub"), pubPEM, 0o644); err != nil {
		return nil, err
	}
	if err := r.save(e); err != nil {
		return nil, err
	}
	return e, nil
}

func (r *Keyring) save(e *Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(r.path(e.ID, ".json"), append(data, '\n'), 0o644)
}

// List returns every key, grouped by name and oldest first within a name.
func (r *Keyring) List() ([]*Entry, error) {
	files, err := filepath.Glob(filepath.Join(r.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	entries := make([]*Entry, 0, len(files))
	for _, f := range files {
		e, err := readEntry(f)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b *Entry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Created.Compare(b.Created)
	})
	return entries, nil
}

// readFile reads a file of the keyring, refusing anything but a regular
// file of at most inputfile.KeyLimit bytes. Such a read cannot block, so
// it takes no context.
func readFile(path string) ([]byte, error) {
	return inputfile.Read(context.Background(), path, inputfile.KeyLimit)
}

func readEntry(path string) (*Entry, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("keyring entry %s: %w", filepath.Base(path), err)
	}
	if e.Schema != EntrySchema {
		return nil, fmt.Errorf("keyring entry %s: unknown schema %q", filepath.Base(path), e.Schema)
	}
	if e.ID+".json" != filepath.Base(path) {
		return nil, fmt.Errorf("keyring entry %s: names key %s", filepath.Base(path), e.ID)
	}
	switch e.State {
	case Active, Deactivated, Destroyed:
	default:
		return nil, fmt.Errorf("keyring entry %s: unknown state %q", filepath.Base(path), e.State)
	}
	return &e, nil
}

func (r *Keyring) activeByName(name string) (*Entry, error) {
	entries, err := r.List()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Name == name && e.State == Active {
			return e, nil
		}
	}
	return nil, nil
}

// minPrefix is the shortest key ID prefix Find accepts.
const minPrefix = 8

// Find resolves a reference to a key: a key name (its ACTIVE key), a full key
// ID, or a unique prefix of at least 8 hex digits of one.
func (r *Keyring) Find(ref string) (*Entry, error) {
	entries, err := r.List()
	if err != nil {
		return nil, err
	}
	var byName, latestOfName *Entry
	var byID []*Entry
	for _, e := range entries {
		if e.Name == ref {
			latestOfName = e
			if e.State == Active {
				if byName != nil {
					return nil, fmt.Errorf("key name %q has two ACTIVE keys, %s and %s (an interrupted rotation?); deactivate one", ref, keys.ShortID(byName.ID), keys.ShortID(e.ID))
				}
				byName = e
			}
		}
		if e.ID == ref || (len(ref) >= minPrefix && strings.HasPrefix(e.ID, strings.ToLower(ref))) {
			byID = append(byID, e)
		}
	}
	switch {
	case byName != nil && len(byID) > 0 && byID[0] != byName:
		return nil, fmt.Errorf("%q is both a key name and a key ID prefix; give the full key ID", ref)
	case byName != nil:
		return byName, nil
	case len(byID) == 1:
		return byID[0], nil
	case len(byID) > 1:
		return nil, fmt.Errorf("key ID prefix %q matches %d keys; give more digits", ref, len(byID))
	case latestOfName != nil:
		return nil, fmt.Errorf("key name %q has no ACTIVE key (its latest, %s, is %s); refer to a key by ID to verify with it", ref, keys.ShortID(latestOfName.ID), latestOfName.State)
	case len(ref) < minPrefix && isHex(ref):
		return nil, fmt.Errorf("no key named %q in %s (key ID prefixes need at least %d digits)", ref, r.dir, minPrefix)
	}
	return nil, fmt.Errorf("no key named or with ID %q in %s", ref, r.dir)
}

func isHex(s string) bool {
	return s != "" && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// PublicKey returns the public key of an entry, in any state.
func (r *Keyring) PublicKey(e *Entry) (crypto.PublicKey, error) {
	data, err := readFile(r.path(e.ID, ".pub"))
	if err != nil {
		return nil, err
	}
	pub, err := keys.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s.pub: %w", e.ID, err)
	}
	if id, _ := keys.ID(pub); id != e.ID {
		return nil, fmt.Errorf("%s.pub holds another key (%s)", e.ID, keys.ShortID(id))
	}
	return pub, nil
}

// Signer loads the private key of an ACTIVE entry. password is asked only
// if the key is encrypted. A key in any other state is refused with an
// error wrapping ErrNotActive.
func (r *Keyring) Signer(e *Entry, password keys.PasswordFunc) (crypto.Signer, error) {
	if e.State != Active {
		hint := "it can verify but not sign"
		if e.State == Destroyed {
			hint = "its private key no longer exists"
		}
		if e.ReplacedBy != "" {
			hint += "; it was replaced by " + keys.ShortID(e.ReplacedBy)
		}
		return nil, fmt.Errorf("key %s (%s) is %s: %s: %w", keys.ShortID(e.ID), e.Name, e.State, hint, ErrNotActive)
	}
	data, err := readFile(r.path(e.ID, ".key"))
	if err != nil {
		return nil, err
	}
	priv, err := keys.ParsePrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s.key: %w", e.ID, err)
	}
	if id, _ := keys.ID(priv.Public()); id != e.ID {
		return nil, fmt.Errorf("%s.key holds another key (%s)", e.ID, keys.ShortID(id))
	}
	return priv, nil
}

// Rotate makes a new ACTIVE key under name, of the same algorithm as the
// current one unless alg is set, and deactivates the current one. It returns
// the new entry and the deactivated one. When ctx ends first, also while
// the password is being stretched, the keyring is left as it was.
func (r *Keyring) Rotate(ctx context.Context, name string, alg keys.Algorithm, password []byte, prot keys.Protection) (*Entry, *Entry, error) {
	unlock, err := r.lock()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	old, err := r.activeByName(name)
	if err != nil {
		return nil, nil, err
	}
	if old == nil {
		return nil, nil, fmt.Errorf("key name %q has no ACTIVE key to rotate", name)
	}
	if alg == "" {
		alg = old.Algorithm
	}
	priv, err := keys.Generate(alg, nil)
	if err != nil {
		return nil, nil, err
	}
	if prot == (keys.Protection{}) {
		prot = keys.DefaultProtection(alg)
	}
	fresh, err := r.add(ctx, name, priv, password, prot, old.ID)
	if err != nil {
		return nil, nil, err
	}
	now := r.now().UTC()
	old.State, old.Deactivated, old.ReplacedBy = Deactivated, &now, fresh.ID
	if err := r.save(old); err != nil {
		return nil, nil, err
	}
	return fresh, old, nil
}

// Deactivate moves an ACTIVE key to DEACTIVATED.
func (r *Keyring) Deactivate(ref string) (*Entry, error) {
	unlock, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	e, err := r.Find(ref)
	if err != nil {
		return nil, err
	}
	if e.State != Active {
		return nil, fmt.Errorf("key %s is %s, not ACTIVE", keys.ShortID(e.ID), e.State)
	}
	now := r.now().UTC()
	e.State, e.Deactivated = Deactivated, &now
	return e, r.save(e)
}

// Destroy overwrites and removes the private key of a DEACTIVATED key and
// marks it DESTROYED. An ACTIVE key must be deactivated first.
func (r *Keyring) Destroy(ref string) (*Entry, error) {
	unlock, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	e, err := r.Find(ref)
	if err != nil {
		return nil, err
	}
	switch e.State {
	case Active:
		return nil, fmt.Errorf("key %s (%s) is ACTIVE; deactivate it first", keys.ShortID(e.ID), e.Name)
	case Destroyed:
		return nil, fmt.Errorf("key %s is already DESTROYED", keys.ShortID(e.ID))
	}
	if err := shred(r.path(e.ID, ".key")); err != nil {
		return nil, fmt.Errorf("destroy private key: %w", err)
	}
	now := r.now().UTC()
	e.State, e.Destroyed = Destroyed, &now
	return e, r.save(e)
}

// shred overwrites a file with random bytes, syncs, and removes it. A
// missing file counts as shredded, so an interrupted Destroy can be re-run.
func shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		noise := make([]byte, fi.Size())
		rand.Read(noise)
		if _, err = f.WriteAt(noise, 0); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}
