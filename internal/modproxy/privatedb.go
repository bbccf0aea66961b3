package modproxy

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/translog"
)

// PrivateSumDB configures the proxy's own checksum database: a
// transparency log, served with x/mod/sumdb's server, that the go command
// verifies itself (GOSUMDB="NAME+HASH+KEY" with GOPROXY pointing at the
// proxy). It holds every internal version whose publication verifies and
// every public version the proxy verified against the public checksum
// database, both added when first looked up. Its tree heads are signed
// with Ed25519, which the go command checks, and optionally co-signed with
// SM2 (translog's note signature), which 密评 tooling checks; the go
// command ignores signatures it does not know.
type PrivateSumDB struct {
	// Signer is the Ed25519 note signer (note.NewSigner of a key made by
	// note.GenerateKey); its name is the database's name.
	Signer note.Signer
	// SM2, if set, co-signs every tree head.
	SM2 crypto.Signer
}

// privateDB is a running private checksum database. Records live in the
// store (sumdb/NAME/record/ID); the hashes are computed from them when the
// proxy starts and kept in memory. One proxy process appends to a
// database: replicas sharing a bucket must not all run it.
type privateDB struct {
	p       *Proxy
	name    string
	signers []note.Signer
	server  *sumdb.Server

	mu      sync.RWMutex
	records [][]byte
	ids     map[string]int64 // "path@version"
	hashes  []tlog.Hash      // stored hashes (tlog.StoredHashes), by index
	signed  []byte           // the signed tree head of len(records)
	signedN int
}

// maxPrivateRecord bounds a record read back: two go.sum lines.
const maxPrivateRecord = 4 << 10

func newPrivateDB(ctx context.Context, p *Proxy, cfg *PrivateSumDB) (*privateDB, error) {
	db := &privateDB{p: p, name: cfg.Signer.Name(), signers: []note.Signer{cfg.Signer}, ids: map[string]int64{}}
	if strings.Contains(db.name, "/") || db.name == p.sumdb.name {
		return nil, fmt.Errorf("private checksum database name %q: want a host-like name without '/', other than %s", db.name, p.sumdb.name)
	}
	if cfg.SM2 != nil {
		s, err := translog.NewSM2Signer(db.name, cfg.SM2)
		if err != nil {
			return nil, err
		}
		db.signers = append(db.signers, s)
	}
	for id := int64(0); ; id++ {
		data, err := modstore.ReadAll(ctx, p.store, db.recordKey(id), maxPrivateRecord)
		if errors.Is(err, modstore.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("private checksum database %s: %v", db.name, err)
		}
		if err := db.add(id, data); err != nil {
			return nil, fmt.Errorf("private checksum database %s: record %d: %v", db.name, id, err)
		}
	}
	db.server = sumdb.NewServer(db)
	return db, nil
}

func (db *privateDB) recordKey(id int64) string {
	k, _ := modstore.SumDBKey(db.name, "record/"+strconv.FormatInt(id, 10))
	return k
}

// add takes record id into memory. Called with mu held for writing (or
// before the database is shared).
func (db *privateDB) add(id int64, data []byte) error {
	if id != int64(len(db.records)) {
		return fmt.Errorf("record %d out of order", id)
	}
	f := strings.Fields(string(data))
	if len(f) != 6 || f[0] != f[3] || f[4] != f[1]+"/go.mod" || string(data) != f[0]+" "+f[1]+" "+f[2]+"\n"+f[3]+" "+f[4]+" "+f[5]+"\n" {
		return errors.New("not the two go.sum lines of a module version")
	}
	hs, err := tlog.StoredHashes(id, data, db.hashReader())
	if err != nil {
		return err
	}
	db.records = append(db.records, data)
	db.hashes = append(db.hashes, hs...)
	db.ids[f[0]+"@"+f[1]] = id
	return nil
}

// hashReader reads the stored hashes; the caller holds mu.
func (db *privateDB) hashReader() tlog.HashReaderFunc {
	return func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(db.hashes)) {
				return nil, fmt.Errorf("hash %d not stored", x)
			}
			out[i] = db.hashes[x]
		}
		return out, nil
	}
}

// Signed implements sumdb.ServerOps.
func (db *privateDB) Signed(ctx context.Context) ([]byte, error) {
	db.mu.RLock()
	n := len(db.records)
	if db.signed != nil && db.signedN == n {
		s := db.signed
		db.mu.RUnlock()
		return s, nil
	}
	h, err := tlog.TreeHash(int64(n), db.hashReader())
	db.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	text := tlog.FormatTree(tlog.Tree{N: int64(n), Hash: h})
	signed, err := note.Sign(&note.Note{Text: string(text)}, db.signers...)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	if len(db.records) == n {
		db.signed, db.signedN = signed, n
	}
	db.mu.Unlock()
	return signed, nil
}

// ReadRecords implements sumdb.ServerOps.
func (db *privateDB) ReadRecords(ctx context.Context, id, n int64) ([][]byte, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if id < 0 || n < 0 || id+n > int64(len(db.records)) {
		return nil, fmt.Errorf("records %d-%d: %w", id, id+n-1, fs.ErrNotExist)
	}
	return db.records[id : id+n], nil
}

// ReadTileData implements sumdb.ServerOps.
func (db *privateDB) ReadTileData(ctx context.Context, t tlog.Tile) ([]byte, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return tlog.ReadTileData(t, db.hashReader())
}

// Lookup implements sumdb.ServerOps: the record of m, added when this is
// the first lookup of a version the proxy can verify.
func (db *privateDB) Lookup(ctx context.Context, m module.Version) (int64, error) {
	key := m.Path + "@" + m.Version
	db.mu.RLock()
	id, ok := db.ids[key]
	db.mu.RUnlock()
	if ok {
		return id, nil
	}
	lines, err := db.verifiedLines(ctx, m)
	if err != nil {
		return 0, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if id, ok := db.ids[key]; ok {
		return id, nil
	}
	id = int64(len(db.records))
	if err := db.p.store.Create(ctx, db.recordKey(id), bytes.NewReader(lines)); err != nil {
		if errors.Is(err, modstore.ErrExist) {
			return 0, fmt.Errorf("private checksum database %s: record %d was written by another process: only one proxy may append to it", db.name, id)
		}
		return 0, err
	}
	if err := db.add(id, lines); err != nil {
		return 0, err
	}
	return id, nil
}

// verifiedLines returns the two go.sum lines of m once verified: an
// internal version's from its verified publication, a public version's
// from the public checksum database.
func (db *privateDB) verifiedLines(ctx context.Context, m module.Version) ([]byte, error) {
	if module.CanonicalVersion(m.Version) != m.Version || strings.HasSuffix(m.Version, "/go.mod") {
		return nil, fmt.Errorf("%s: %w", m, fs.ErrNotExist)
	}
	if db.p.isInternal(m.Path) {
		v, err := db.p.verifyInternal(ctx, m.Path, m.Version)
		if err != nil {
			if errors.Is(err, modstore.ErrNotExist) {
				return nil, fmt.Errorf("%s is not published: %w", m, fs.ErrNotExist)
			}
			return nil, err
		}
		// The lines the verification checked, not a second read.
		return v.Statement.GoSum(), nil
	}
	zip, err := db.p.sumdb.lookup(ctx, m.Path, m.Version)
	if err != nil {
		var upErr *upstreamError
		if errors.As(err, &upErr) && upErr.notFound() {
			return nil, fmt.Errorf("%s: %w", m, fs.ErrNotExist)
		}
		return nil, err
	}
	mod, err := db.p.sumdb.lookup(ctx, m.Path, m.Version+"/go.mod")
	if err != nil {
		return nil, err
	}
	if len(zip) != 1 || len(mod) != 1 {
		return nil, fmt.Errorf("%s: the checksum database %s holds %d and %d lines for it", m, db.p.sumdb.name, len(zip), len(mod))
	}
	return []byte(zip[0] + "\n" + mod[0] + "\n"), nil
}

// serve answers a request below /sumdb/NAME/.
func (db *privateDB) serve(w http.ResponseWriter, r *http.Request, file string) {
	if file == "supported" {
		w.WriteHeader(http.StatusOK)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + file
	r2.URL.RawPath = ""
	db.server.ServeHTTP(w, r2)
}
