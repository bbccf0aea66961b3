package modsign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"

	"hegui.dev/hegui/internal/modstore"
)

// StoreVerifier checks internal module versions in a proxy's store before
// they are served (it is the proxy's modproxy.InternalVerifier): the
// publication verifies against the trust, the signed hashes are the
// records' and the stored zip and go.mod hash to them. A version whose
// stored objects have not changed is checked once; every read is still
// checked against its record's SHA-256 by the proxy.
type StoreVerifier struct {
	Trust Trust
	// TempDir holds a zip while its hash is computed; empty means
	// os.TempDir().
	TempDir string

	mu       sync.Mutex
	verified map[string]Statement // by fingerprint of the objects checked
}

// VerifiedVersion is an internal version that passed VerifyVersion: the
// signed statement, and the records of the zip and go.mod whose bytes hash
// to it. A caller serves only bytes these records describe.
type VerifiedVersion struct {
	Statement Statement
	Zip, Mod  *modstore.Record
}

// Record returns the verified record of kind (Zip or Mod), nil for others.
func (v *VerifiedVersion) Record(kind string) *modstore.Record {
	switch kind {
	case modstore.Zip:
		return v.Zip
	case modstore.Mod:
		return v.Mod
	}
	return nil
}

// VerifyVersion implements modproxy.InternalVerifier.
func (v *StoreVerifier) VerifyVersion(ctx context.Context, store modstore.Store, mod, version string) (*VerifiedVersion, error) {
	zipRec, err := modstore.ReadRecord(ctx, store, mod, version, modstore.Zip)
	if err != nil {
		return nil, err
	}
	modRec, err := modstore.ReadRecord(ctx, store, mod, version, modstore.Mod)
	if err != nil {
		return nil, err
	}
	if zipRec.Source != modstore.SourceInternal || modRec.Source != modstore.SourceInternal {
		return nil, fmt.Errorf("stored as a public module, not published as an internal one")
	}
	sig, err := readObject(ctx, store, mod, version, modstore.SignatureExt, MaxSignatureSize)
	if err != nil {
		return nil, fmt.Errorf("no signature: %w", err)
	}
	tlog, err := readObject(ctx, store, mod, version, modstore.LogProofExt, MaxLogProofSize)
	if err != nil {
		return nil, fmt.Errorf("no audit-log proof (a publication that did not complete?): %w", err)
	}
	fp := fingerprint(mod, version, zipRec.SHA256, modRec.SHA256, sig, tlog)
	v.mu.Lock()
	st, done := v.verified[fp]
	v.mu.Unlock()
	if done {
		return &VerifiedVersion{Statement: st, Zip: zipRec, Mod: modRec}, nil
	}
	ok, err := Verify(sig, tlog, v.Trust)
	if err != nil {
		return nil, err
	}
	st = ok.Statement
	if st.Module != mod || st.Version != version {
		return nil, fmt.Errorf("the signature is for %s, not %s@%s", st.Object(), mod, version)
	}
	if zipRec.Hash != st.ZipHash || modRec.Hash != st.ModHash {
		return nil, fmt.Errorf("the stored records (%s, %s) are not the signed hashes (%s, %s)", zipRec.Hash, modRec.Hash, st.ZipHash, st.ModHash)
	}
	if err := v.checkZip(ctx, store, zipRec); err != nil {
		return nil, err
	}
	if err := checkMod(ctx, store, modRec); err != nil {
		return nil, err
	}
	v.mu.Lock()
	if v.verified == nil {
		v.verified = map[string]Statement{}
	}
	v.verified[fp] = st
	v.mu.Unlock()
	return &VerifiedVersion{Statement: st, Zip: zipRec, Mod: modRec}, nil
}

// checkZip hashes the stored zip as the go command will and compares it
// with the signed hash.
func (v *StoreVerifier) checkZip(ctx context.Context, store modstore.Store, rec *modstore.Record) error {
	key, err := modstore.ModuleKey(rec.Module, rec.Version, modstore.Zip)
	if err != nil {
		return err
	}
	obj, err := store.Open(ctx, key)
	if err != nil {
		return err
	}
	defer obj.Close()
	tmp, err := os.CreateTemp(v.TempDir, "verify-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	sum := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(obj, rec.Size+1)); err != nil {
		return err
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != rec.SHA256 {
		return &modstore.MismatchError{Key: key, Want: rec.SHA256, Got: got}
	}
	// The module zip rules bound what hashing decompresses.
	if _, err := modzip.CheckZip(module.Version{Path: rec.Module, Version: rec.Version}, tmp.Name()); err != nil {
		return fmt.Errorf("stored zip: not a valid module zip: %v", err)
	}
	h, err := dirhash.HashZip(tmp.Name(), dirhash.Hash1)
	if err != nil {
		return fmt.Errorf("stored zip: %v", err)
	}
	if h != rec.Hash {
		return fmt.Errorf("the stored zip hashes to %s, not the signed %s", h, rec.Hash)
	}
	return nil
}

// checkMod hashes the stored go.mod and compares it with the signed hash.
func checkMod(ctx context.Context, store modstore.Store, rec *modstore.Record) error {
	key, err := modstore.ModuleKey(rec.Module, rec.Version, modstore.Mod)
	if err != nil {
		return err
	}
	data, err := modstore.ReadAll(ctx, store, key, rec.Size)
	if err != nil {
		return err
	}
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		return err
	}
	if h != rec.Hash {
		return fmt.Errorf("the stored go.mod hashes to %s, not the signed %s", h, rec.Hash)
	}
	return nil
}

func readObject(ctx context.Context, store modstore.Store, mod, version, kind string, max int64) ([]byte, error) {
	key, err := modstore.ModuleKey(mod, version, kind)
	if err != nil {
		return nil, err
	}
	return modstore.ReadAll(ctx, store, key, max)
}

// fingerprint names what one verification covered: the version and the
// exact objects.
func fingerprint(mod, version, zipSHA, modSHA string, sig, tlog []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%d\n", mod, version, zipSHA, modSHA, len(sig))
	h.Write(sig)
	h.Write(tlog)
	return hex.EncodeToString(h.Sum(nil))
}
