package shred

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

var subjectHashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func checkSubject(h string) error {
	if !subjectHashRE.MatchString(h) {
		return fmt.Errorf("shred: %q is not a subject hash (use SubjectName)", h)
	}
	return nil
}

// FileStore keeps wrapped keys in a directory, a file a subject
// (DIR/ab/abcdef....json), and a tombstone for each destroyed one.
type FileStore struct{ Dir string }

type tombstone struct {
	ID        string    `json:"id"`
	Destroyed time.Time `json:"destroyed"`
}

func (f FileStore) paths(h string) (live, dead string) {
	base := filepath.Join(f.Dir, h[:2], h)
	return base + ".json", base + ".destroyed"
}

// Create stores the subject's key; a tombstone of an earlier key is
// removed once the new key is in place.
func (f FileStore) Create(_ context.Context, h string, k Key) error {
	if err := checkSubject(h); err != nil {
		return err
	}
	live, dead := f.paths(h)
	if err := os.MkdirAll(filepath.Dir(live), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(k)
	if err != nil {
		return err
	}
	tmp, err := writeSynced(filepath.Dir(live), data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// A hard link never replaces: the first writer wins.
	if err := os.Link(tmp, live); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return err
	}
	if err := os.Remove(dead); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(live))
}

// Load reads the subject's live key.
func (f FileStore) Load(_ context.Context, h string) (Key, error) {
	if err := checkSubject(h); err != nil {
		return Key{}, err
	}
	live, dead := f.paths(h)
	data, err := os.ReadFile(live)
	if errors.Is(err, fs.ErrNotExist) {
		if _, derr := os.Stat(dead); derr == nil {
			return Key{}, ErrDestroyed
		}
		if _, cerr := os.Stat(live + ".destroying"); cerr == nil {
			return Key{}, ErrDestroyed // a destroy under way, or cut short
		}
		return Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, err
	}
	var k Key
	if err := json.Unmarshal(data, &k); err != nil {
		return Key{}, fmt.Errorf("shred: %s: %w", live, err)
	}
	return k, nil
}

// Destroy claims the subject's key file by renaming it (so that a key
// created meanwhile is never the one destroyed), overwrites it with zeros,
// writes its tombstone and removes it, each step synced to disk. A destroy
// cut short leaves the claimed file, which counts as destroyed and is
// finished by the next Destroy.
func (f FileStore) Destroy(ctx context.Context, h string) (string, error) {
	if err := checkSubject(h); err != nil {
		return "", err
	}
	live, dead := f.paths(h)
	claimed := live + ".destroying"
	if err := os.Rename(live, claimed); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if _, cerr := os.Stat(claimed); cerr != nil {
			if _, derr := os.Stat(dead); derr == nil {
				return "", ErrDestroyed
			}
			return "", ErrNotFound
		}
		// An earlier destroy stopped half-way: finish it.
	}
	data, err := os.ReadFile(claimed)
	if err != nil {
		return "", err
	}
	var k Key
	if err := json.Unmarshal(data, &k); err != nil {
		k.ID = "unknown" // already zeroed by the destroy that stopped
	}
	fh, err := os.OpenFile(claimed, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	_, err = fh.WriteAt(make([]byte, len(data)), 0)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	tomb, _ := json.Marshal(tombstone{ID: k.ID, Destroyed: time.Now().UTC()})
	tmp, err := writeSynced(filepath.Dir(live), tomb)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dead); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Remove(claimed); err != nil {
		return "", err
	}
	return k.ID, syncDir(filepath.Dir(live))
}

// writeSynced writes data to a new temporary file in dir, synced.
func writeSynced(dir string, data []byte) (string, error) {
	fh, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(fh.Name())
		return "", err
	}
	return fh.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// SQLStore keeps wrapped keys in a table of an SQL database (MySQL or
// MariaDB syntax; the service brings the driver). A destroyed key's row
// keeps its ID and the time, its wrapped key set to NULL.
type SQLStore struct {
	DB *sql.DB
	// Table is the table's name (default shred_keys).
	Table string
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func (s SQLStore) table() (string, error) {
	t := s.Table
	if t == "" {
		t = "shred_keys"
	}
	if !identRE.MatchString(t) {
		return "", fmt.Errorf("shred: %q is not a table name", t)
	}
	return t, nil
}

// EnsureSchema creates the table if it is not there.
func (s SQLStore) EnsureSchema(ctx context.Context) error {
	t, err := s.table()
	if err != nil {
		return err
	}
	_, err = s.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (
	subject CHAR(64) NOT NULL PRIMARY KEY,
	key_id CHAR(16) NOT NULL,
	wrapped VARBINARY(1024) NULL,
	created DATETIME(6) NOT NULL,
	destroyed DATETIME(6) NULL
)`)
	return err
}

// Create stores the subject's key in one statement (so that first
// writers racing do not deadlock): a new row, or a destroyed row replaced;
// a live row is left as it is and reported as ErrExists.
func (s SQLStore) Create(ctx context.Context, h string, k Key) error {
	if err := checkSubject(h); err != nil {
		return err
	}
	t, err := s.table()
	if err != nil {
		return err
	}
	// MySQL applies the assignments in order: destroyed is cleared last.
	_, err = s.DB.ExecContext(ctx, `INSERT INTO `+t+` (subject, key_id, wrapped, created) VALUES (?, ?, ?, ?)
ON DUPLICATE KEY UPDATE
	key_id = IF(destroyed IS NULL, key_id, VALUES(key_id)),
	wrapped = IF(destroyed IS NULL, wrapped, VALUES(wrapped)),
	created = IF(destroyed IS NULL, created, VALUES(created)),
	destroyed = NULL`, h, k.ID, k.Wrapped, k.Created)
	if err != nil {
		return err
	}
	var stored string
	if err := s.DB.QueryRowContext(ctx, `SELECT key_id FROM `+t+` WHERE subject = ?`, h).Scan(&stored); err != nil {
		return err
	}
	if stored != k.ID {
		return ErrExists
	}
	return nil
}

// Load reads the subject's live key.
func (s SQLStore) Load(ctx context.Context, h string) (Key, error) {
	if err := checkSubject(h); err != nil {
		return Key{}, err
	}
	t, err := s.table()
	if err != nil {
		return Key{}, err
	}
	var k Key
	var destroyed sql.NullTime
	err = s.DB.QueryRowContext(ctx, `SELECT key_id, wrapped, created, destroyed FROM `+t+` WHERE subject = ?`, h).Scan(&k.ID, &k.Wrapped, &k.Created, &destroyed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Key{}, ErrNotFound
	case err != nil:
		return Key{}, err
	case destroyed.Valid:
		return Key{}, ErrDestroyed
	}
	return k, nil
}

// Destroy sets the subject's wrapped key to NULL and records when.
func (s SQLStore) Destroy(ctx context.Context, h string) (string, error) {
	if err := checkSubject(h); err != nil {
		return "", err
	}
	t, err := s.table()
	if err != nil {
		return "", err
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var id string
	var destroyed sql.NullTime
	err = tx.QueryRowContext(ctx, `SELECT key_id, destroyed FROM `+t+` WHERE subject = ? FOR UPDATE`, h).Scan(&id, &destroyed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ErrNotFound
	case err != nil:
		return "", err
	case destroyed.Valid:
		return "", ErrDestroyed
	}
	if _, err := tx.ExecContext(ctx, `UPDATE `+t+` SET wrapped = NULL, destroyed = ? WHERE subject = ?`, time.Now().UTC(), h); err != nil {
		return "", err
	}
	return id, tx.Commit()
}
