package modproxy

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	modzip "golang.org/x/mod/zip"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/modlist"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/modverify"
	"hegui.dev/hegui/keys"
)

// A bundle carries stored modules across an air gap: a tar whose first
// entry is a DSSE envelope (BundleEnvelopeName) holding the signed
// BundleManifest, followed by one entry per stored object under
// "objects/KEY", each listed in the manifest with its size, SHA-256 and
// SM3. Objects are the store's own: module files with their records,
// internal modules' signatures and log proofs, and the checksum database's
// lookups, tiles and latest tree head that prove the public ones.
const (
	BundleSchema       = "hegui.dev/proxy-bundle/v1"
	BundlePayloadType  = "application/vnd.hegui.proxy-bundle.v1+json"
	BundleEnvelopeName = "manifest.dsse.json"
	bundleObjectPrefix = "objects/"
	// maxBundleEnvelope bounds the first entry: a manifest of
	// format.MaxManifestFiles entries fits.
	maxBundleEnvelope = 64 << 20
)

// BundleManifest is the signed list of a bundle's objects.
type BundleManifest struct {
	Schema  string    `json:"schema"`
	Created time.Time `json:"created"`
	// SumDB is the name of the checksum database the public modules were
	// verified against.
	SumDB   string         `json:"sumdb"`
	Signers []BundleSigner `json:"signers"`
	// Files are the objects, Path being the store key.
	Files []format.FileEntry `json:"files"`
}

// BundleSigner names a key that signed the bundle.
type BundleSigner struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"`
}

// ExportSummary says what Export wrote.
type ExportSummary struct {
	Versions, Objects int
	Bytes             int64
}

// Export writes a signed bundle of stored modules to w: the versions items
// name (nil: every stored module) with everything a proxy needs to verify
// and serve them offline. A named version that is not stored whole is an
// error listing what is missing; warm it first.
func (p *Proxy) Export(ctx context.Context, w io.Writer, items []modlist.Item, signers []crypto.Signer, progress func(string, ...any)) (*ExportSummary, error) {
	if progress == nil {
		progress = func(string, ...any) {}
	}
	if len(signers) == 0 {
		return nil, errors.New("no signing key")
	}
	keys, versions, err := p.exportKeys(ctx, items)
	if err != nil {
		return nil, err
	}
	progress("hashing %d objects of %d module versions", len(keys), versions)
	files, err := format.HashPaths(ctx, keys, func(key string) (format.Opened, error) { return p.store.Open(ctx, key) })
	if err != nil {
		return nil, err
	}
	m := BundleManifest{Schema: BundleSchema, Created: p.now().UTC(), SumDB: p.sumdb.name, Files: files}
	for _, s := range signers {
		id, err := keyID(s.Public())
		if err != nil {
			return nil, err
		}
		m.Signers = append(m.Signers, BundleSigner{KeyID: id, Algorithm: string(algorithmOf(s.Public()))})
	}
	payload, err := jsonv2.Marshal(m, jsonv2.Deterministic(true))
	if err != nil {
		return nil, err
	}
	env, err := envelope.Sign(ctx, BundlePayloadType, payload, signers...)
	if err != nil {
		return nil, fmt.Errorf("sign the bundle: %w", err)
	}
	envData, err := envelope.Marshal(env)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: m.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(BundleEnvelopeName, int64(len(envData)))); err != nil {
		return nil, err
	}
	if _, err := tw.Write(envData); err != nil {
		return nil, err
	}
	sum := &ExportSummary{Versions: versions}
	for i, f := range files {
		if err := tw.WriteHeader(hdr(bundleObjectPrefix+f.Path, f.Size)); err != nil {
			return nil, err
		}
		if err := p.copyObject(ctx, tw, f); err != nil {
			return nil, err
		}
		sum.Objects++
		sum.Bytes += f.Size
		if (i+1)%200 == 0 {
			progress("wrote %d of %d objects", i+1, len(files))
		}
	}
	return sum, tw.Close()
}

// copyObject writes a stored object to w, checking it is still the one
// hashed into the manifest.
func (p *Proxy) copyObject(ctx context.Context, w io.Writer, f format.FileEntry) error {
	obj, err := p.store.Open(ctx, f.Path)
	if err != nil {
		return err
	}
	defer obj.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(obj, f.Size))
	if err != nil {
		return err
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return fmt.Errorf("%s changed while the bundle was written; export again", f.Path)
	}
	return nil
}

// exportKeys lists the store keys a bundle of items carries.
func (p *Proxy) exportKeys(ctx context.Context, items []modlist.Item) (keys []string, versions int, err error) {
	sumdbPrefix, err := modstore.SumDBKey(p.sumdb.name, "x")
	if err != nil {
		return nil, 0, err
	}
	sumdbPrefix = strings.TrimSuffix(sumdbPrefix, "x")
	add := func(prefix string, names []string) {
		for _, n := range names {
			keys = append(keys, prefix+n)
		}
	}
	if items == nil {
		mods, err := p.store.ListAll(ctx, "modules/")
		if err != nil {
			return nil, 0, err
		}
		for _, k := range mods {
			if strings.HasSuffix(k, "."+modstore.Zip+modstore.RecordSuffix) || strings.HasSuffix(k, "."+modstore.Mod+modstore.RecordSuffix) && !slices.Contains(mods, strings.TrimSuffix(k, "."+modstore.Mod+modstore.RecordSuffix)+"."+modstore.Zip+modstore.RecordSuffix) {
				versions++
			}
		}
		add("modules/", mods)
		db, err := p.store.ListAll(ctx, sumdbPrefix)
		if err != nil {
			return nil, 0, err
		}
		add(sumdbPrefix, db)
		return keys, versions, nil
	}
	var missing []string
	for _, it := range modlist.Merge(items) {
		kinds := []string{modstore.Mod, modstore.Info, modstore.Zip}
		if it.ModOnly {
			kinds = kinds[:1]
		}
		internal := p.isInternal(it.Module)
		if internal {
			kinds = append(kinds, modstore.SignatureExt, modstore.LogProofExt)
		}
		for _, kind := range kinds {
			key, err := modstore.ModuleKey(it.Module, it.Version, kind)
			if err != nil {
				return nil, 0, err
			}
			withRecord := kind != modstore.SignatureExt && kind != modstore.LogProofExt
			check := key
			if withRecord {
				check += modstore.RecordSuffix
			}
			if obj, err := p.store.Open(ctx, check); err != nil {
				missing = append(missing, it.Module+"@"+it.Version+" ."+kind)
				continue
			} else {
				obj.Close()
			}
			keys = append(keys, key)
			if withRecord {
				keys = append(keys, key+modstore.RecordSuffix)
			}
		}
		if !internal {
			ep, _ := module.EscapePath(it.Module)
			ev, _ := module.EscapeVersion(it.Version)
			key, err := modstore.SumDBKey(p.sumdb.name, "lookup/"+ep+"@"+ev)
			if err != nil {
				return nil, 0, err
			}
			if obj, err := p.store.Open(ctx, key); err != nil {
				missing = append(missing, it.Module+"@"+it.Version+" checksum-database lookup")
			} else {
				obj.Close()
				keys = append(keys, key)
			}
		}
		versions++
	}
	if len(missing) > 0 {
		return nil, 0, fmt.Errorf("%d module files are not stored, so cannot be exported (run hegui proxy warm with the same list first): %s", len(missing), clipList(missing, 10))
	}
	// Every tile and the latest tree head: the lookups are proven with
	// them, and a client with an empty cache asks for the tiles its own
	// proofs need.
	tiles, err := p.store.ListAll(ctx, sumdbPrefix+"tile/")
	if err != nil {
		return nil, 0, err
	}
	add(sumdbPrefix+"tile/", tiles)
	if obj, err := p.store.Open(ctx, sumdbPrefix+"latest"); err == nil {
		obj.Close()
		keys = append(keys, sumdbPrefix+"latest")
	}
	slices.Sort(keys)
	return slices.Compact(keys), versions, nil
}

func clipList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

// ImportSummary says what Import stored.
type ImportSummary struct {
	// Versions is how many module versions the bundle held; Objects and
	// Bytes what it carried, New how many objects were not stored before.
	Versions, Objects, New int
	Bytes                  int64
	Signers                []string
	// Unused counts the checksum-database objects no module's check read:
	// unverified, they are not stored.
	Unused int
}

// Import reads a bundle from r and stores its objects. Nothing is stored
// until the whole bundle is verified: its manifest signed by one of trusted,
// every object as listed, every public module file's hash in the checksum
// database (proven by the bundle's own lookups and tiles against the
// database's key, offline), every zip within the module zip rules, every
// internal version's publication signed and logged (with the proxy's
// internal trust).
func (p *Proxy) Import(ctx context.Context, r io.Reader, trusted []crypto.PublicKey, progress func(string, ...any)) (*ImportSummary, error) {
	if progress == nil {
		progress = func(string, ...any) {}
	}
	if len(trusted) == 0 {
		return nil, errors.New("no trusted key to verify the bundle with")
	}
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("bundle: %v", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("bundle: not a tar archive: %v", err)
	}
	if hdr.Name != BundleEnvelopeName || hdr.Typeflag != tar.TypeReg || hdr.Size > maxBundleEnvelope {
		return nil, fmt.Errorf("bundle: the first entry is %q, not the signed manifest %s", hdr.Name, BundleEnvelopeName)
	}
	envData, err := io.ReadAll(io.LimitReader(tr, maxBundleEnvelope))
	if err != nil {
		return nil, fmt.Errorf("bundle: %v", err)
	}
	m, signers, err := p.openBundleManifest(envData, trusted)
	if err != nil {
		return nil, err
	}
	progress("bundle signed by %s on %s: %d objects", strings.Join(signers, ", "), m.Created.Format(time.RFC3339), len(m.Files))

	stageDir, err := os.MkdirTemp(p.tempDir, "import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stageDir)
	stage, err := modstore.NewDir(stageDir)
	if err != nil {
		return nil, err
	}
	listed := map[string]format.FileEntry{}
	for _, f := range m.Files {
		listed[f.Path] = f
	}
	seen := map[string]bool{}
	sum := &ImportSummary{Signers: signers}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bundle: %v", err)
		}
		key, ok := strings.CutPrefix(hdr.Name, bundleObjectPrefix)
		f, listedOK := listed[key]
		switch {
		case !ok || !listedOK:
			return nil, fmt.Errorf("bundle: %q is not listed in the signed manifest", hdr.Name)
		case seen[key]:
			return nil, fmt.Errorf("bundle: %q appears twice", hdr.Name)
		case hdr.Typeflag != tar.TypeReg:
			return nil, fmt.Errorf("bundle: %q is not a regular file", hdr.Name)
		case hdr.Size != f.Size:
			return nil, fmt.Errorf("bundle: %q is %d bytes, the manifest says %d", hdr.Name, hdr.Size, f.Size)
		}
		seen[key] = true
		if err := stageObject(ctx, stage, tr, f); err != nil {
			return nil, err
		}
		sum.Objects++
		sum.Bytes += f.Size
		if sum.Objects%200 == 0 {
			progress("read %d of %d objects", sum.Objects, len(m.Files))
		}
	}
	if len(seen) != len(m.Files) {
		var absent []string
		for _, f := range m.Files {
			if !seen[f.Path] {
				absent = append(absent, f.Path)
			}
		}
		return nil, fmt.Errorf("bundle: %d objects of the manifest are missing: %s", len(absent), clipList(absent, 5))
	}
	progress("verifying the bundle's modules against the checksum database %s", p.sumdb.name)
	versions, used, err := p.verifyStaged(ctx, stage, m)
	if err != nil {
		return nil, err
	}
	sum.Versions = versions
	progress("verified %d module versions; storing", versions)
	if sum.New, sum.Unused, err = p.storeStaged(ctx, stage, m, used); err != nil {
		return nil, err
	}
	return sum, nil
}

// openBundleManifest checks the envelope's signature by a trusted key and
// reads the manifest strictly.
func (p *Proxy) openBundleManifest(envData []byte, trusted []crypto.PublicKey) (*BundleManifest, []string, error) {
	env, payload, err := envelope.Parse(envData, BundlePayloadType)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle signature: %v", err)
	}
	var signers []string
	for _, pub := range trusted {
		if envelope.VerifyKey(env, pub) == nil {
			id, err := keyID(pub)
			if err != nil {
				return nil, nil, err
			}
			signers = append(signers, id)
		}
	}
	if len(signers) == 0 {
		return nil, nil, fmt.Errorf("bundle signature: not signed by a trusted key (signed by key %s)", strings.Join(envelope.KeyIDs(env), ", "))
	}
	var m BundleManifest
	if err := jsonv2.Unmarshal(payload, &m, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, nil, fmt.Errorf("bundle manifest: %v", err)
	}
	if m.Schema != BundleSchema {
		return nil, nil, fmt.Errorf("bundle manifest: schema %q, want %q", m.Schema, BundleSchema)
	}
	if m.SumDB != p.sumdb.name {
		return nil, nil, fmt.Errorf("bundle manifest: its modules were verified against the checksum database %s, this proxy uses %s", m.SumDB, p.sumdb.name)
	}
	if len(m.Files) > format.MaxManifestFiles {
		return nil, nil, fmt.Errorf("bundle manifest: %d objects, more than %d", len(m.Files), format.MaxManifestFiles)
	}
	dbPrefix := "sumdb/" + p.sumdb.name + "/"
	seen := map[string]bool{}
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Path, "modules/") && !strings.HasPrefix(f.Path, dbPrefix) {
			return nil, nil, fmt.Errorf("bundle manifest: %q is neither a module file nor a checksum-database object", f.Path)
		}
		if seen[f.Path] {
			return nil, nil, fmt.Errorf("bundle manifest: %q is listed twice", f.Path)
		}
		seen[f.Path] = true
		if f.Size < 0 || f.Size > maxZipSize+maxInfoSize {
			return nil, nil, fmt.Errorf("bundle manifest: %q has size %d", f.Path, f.Size)
		}
	}
	return &m, signers, nil
}

// stageObject copies one object into the staging store, checking its
// size and digests against the manifest.
func stageObject(ctx context.Context, stage modstore.Store, r io.Reader, f format.FileEntry) error {
	sha, sm3 := sha256.New(), digest.SM3.New()
	counted := &countingReader{r: io.TeeReader(io.LimitReader(r, f.Size+1), io.MultiWriter(sha, sm3))}
	if err := stage.Create(ctx, f.Path, counted); err != nil {
		return fmt.Errorf("bundle: %s: %v", f.Path, err)
	}
	if counted.n != f.Size || hex.EncodeToString(sha.Sum(nil)) != f.SHA256 || hex.EncodeToString(sm3.Sum(nil)) != f.SM3 {
		return fmt.Errorf("bundle: %s does not match the signed manifest (size or digest differs)", f.Path)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// verifyStaged checks every module file of a staged bundle as if it had
// been fetched: with an offline proxy over the staging store, whose
// checksum database answers from the bundle's lookups and tiles. It
// returns the versions checked and the checksum-database objects the
// checks read (verified by the database client as it read them); the
// bundle's other checksum-database objects are left out of the store.
func (p *Proxy) verifyStaged(ctx context.Context, stage modstore.Store, m *BundleManifest) (int, map[string]bool, error) {
	rs := &readRecorder{Store: stage, read: map[string]bool{}}
	sp, err := New(Options{Store: rs, Offline: true, SumDB: p.sumdb.key, Internal: p.internal, Internals: p.internals, TempDir: p.tempDir, Now: p.now})
	if err != nil {
		return 0, nil, err
	}
	if data, err := sp.sumdb.readStored(ctx, "latest", maxSumDBLatest); err == nil {
		if _, err := openTree(data, p.sumdb.key); err != nil {
			return 0, nil, fmt.Errorf("bundle: the checksum database's latest tree head: %v", err)
		}
	}
	files := map[string]bool{}
	for _, f := range m.Files {
		files[f.Path] = true
	}
	versions := map[string]bool{}
	published := map[string]bool{}
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Path, "modules/") {
			continue // a checksum-database object: checked as lookups read it
		}
		base, isRecord := strings.CutSuffix(f.Path, modstore.RecordSuffix)
		mod, version, kind, ok := parseModuleKey(base)
		if canon, err := modstore.ModuleKey(mod, version, kind); !ok || err != nil || canon != base {
			// Only keys the proxy itself would write: no case variants, no
			// other names a file system could fold onto a module file.
			return 0, nil, fmt.Errorf("bundle: %s is not the key of a module file", f.Path)
		}
		if isRecord {
			if !files[base] {
				return 0, nil, fmt.Errorf("bundle: %s has a record but no file", base)
			}
			continue
		}
		internal := p.isInternal(mod)
		if kind == modstore.SignatureExt || kind == modstore.LogProofExt {
			if !internal {
				return 0, nil, fmt.Errorf("bundle: %s: a publication of a module this proxy does not take as internal", f.Path)
			}
			published[mod+"@"+version] = true
			continue
		}
		if !files[f.Path+modstore.RecordSuffix] {
			return 0, nil, fmt.Errorf("bundle: %s has no record", f.Path)
		}
		rec, err := modstore.ReadRecord(ctx, stage, mod, version, kind)
		if err != nil {
			return 0, nil, fmt.Errorf("bundle: %v", err)
		}
		if internal != (rec.Source == modstore.SourceInternal) {
			return 0, nil, fmt.Errorf("bundle: %s@%s is recorded as %s, but this proxy takes %s as %s", mod, version, rec.Source, mod, map[bool]string{true: "internal", false: "public"}[internal])
		}
		if err := sp.verifyStoredFile(ctx, rec); err != nil {
			return 0, nil, fmt.Errorf("bundle: %w", err)
		}
		versions[mod+"@"+version] = true
	}
	for v := range published {
		if !versions[v] {
			return 0, nil, fmt.Errorf("bundle: it carries the publication of %s without its module files", v)
		}
	}
	for v := range versions {
		mod, version, _ := strings.Cut(v, "@")
		if p.isInternal(mod) {
			if _, err := sp.verifyInternal(ctx, mod, version); err != nil {
				return 0, nil, fmt.Errorf("bundle: %w", err)
			}
		}
	}
	return len(versions), rs.read, nil
}

// readRecorder is a store that remembers which keys were opened.
type readRecorder struct {
	modstore.Store
	mu   sync.Mutex
	read map[string]bool
}

func (r *readRecorder) Open(ctx context.Context, key string) (modstore.Object, error) {
	obj, err := r.Store.Open(ctx, key)
	if err == nil {
		r.mu.Lock()
		r.read[key] = true
		r.mu.Unlock()
	}
	return obj, err
}

// verifyStoredFile checks a stored module file against its record and, for
// a public .mod or .zip, against the checksum database.
func (p *Proxy) verifyStoredFile(ctx context.Context, rec *modstore.Record) error {
	key, err := modstore.ModuleKey(rec.Module, rec.Version, rec.Kind)
	if err != nil {
		return err
	}
	obj, err := p.store.Open(ctx, key)
	if err != nil {
		return err
	}
	defer obj.Close()
	tmp, err := os.CreateTemp(p.tempDir, "verify-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(obj, rec.Size+1))
	if err != nil {
		return err
	}
	if n != rec.Size || hex.EncodeToString(h.Sum(nil)) != rec.SHA256 {
		return &modstore.MismatchError{Key: key, Want: want(rec), Got: fmt.Sprintf("sha256 %x, %d bytes", h.Sum(nil), n)}
	}
	var hash string
	switch rec.Kind {
	case modstore.Info:
		data, err := os.ReadFile(tmp.Name())
		if err != nil {
			return err
		}
		var info Info
		if err := json.Unmarshal(data, &info); err != nil || info.Version != rec.Version {
			return fmt.Errorf("%s@%s: the .info does not name its version", rec.Module, rec.Version)
		}
		return nil
	case modstore.Mod:
		if hash, err = dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return os.Open(tmp.Name()) }); err != nil {
			return err
		}
	case modstore.Zip:
		if _, err := modzip.CheckZip(module.Version{Path: rec.Module, Version: rec.Version}, tmp.Name()); err != nil {
			return fmt.Errorf("%s@%s: not a valid module zip: %v", rec.Module, rec.Version, err)
		}
		if hash, err = modverify.HashZip(tmp.Name()); err != nil {
			return err
		}
	}
	if hash != rec.Hash {
		return fmt.Errorf("%s@%s %s hashes to %s, its record says %s", rec.Module, rec.Version, rec.Kind, hash, rec.Hash)
	}
	if rec.Source == modstore.SourceInternal {
		return nil // the publication is checked as a whole
	}
	version := rec.Version
	if rec.Kind == modstore.Mod {
		version += "/go.mod"
	}
	if err := p.checkSum(ctx, rec.Module, version, hash); err != nil {
		return &VerificationError{rec.Module, rec.Version, rec.Kind, err}
	}
	return nil
}

// storeStaged copies a verified bundle into the store: checksum-database
// objects first, then each module file before its record (the record makes
// it servable), an internal version's .tlog last. Objects already stored
// are kept. It returns how many objects were new.
func (p *Proxy) storeStaged(ctx context.Context, stage modstore.Store, m *BundleManifest, used map[string]bool) (added, unused int, err error) {
	rank := func(key string) int {
		switch {
		case strings.HasPrefix(key, "sumdb/"):
			return 0
		case strings.HasSuffix(key, "."+modstore.LogProofExt):
			return 4
		case strings.HasSuffix(key, "."+modstore.SignatureExt):
			return 3
		case strings.HasSuffix(key, modstore.RecordSuffix):
			return 2
		}
		return 1
	}
	keys := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		keys = append(keys, f.Path)
	}
	slices.SortStableFunc(keys, func(a, b string) int { return rank(a) - rank(b) })
	latestKey, _ := modstore.SumDBKey(p.sumdb.name, "latest")
	for _, key := range keys {
		if strings.HasPrefix(key, "sumdb/") && key != latestKey && !used[key] {
			unused++
			continue
		}
		if key == latestKey {
			newer, err := p.newerLatest(ctx, stage, key)
			if err != nil {
				return added, unused, err
			}
			if newer {
				data, err := modstore.ReadAll(ctx, stage, key, maxSumDBLatest)
				if err != nil {
					return added, unused, err
				}
				if err := p.store.Replace(ctx, key, bytes.NewReader(data)); err != nil {
					return added, unused, err
				}
				added++
			}
			continue
		}
		obj, err := stage.Open(ctx, key)
		if err != nil {
			return added, unused, err
		}
		err = p.store.Create(ctx, key, obj)
		obj.Close()
		switch {
		case err == nil:
			added++
		case errors.Is(err, modstore.ErrExist):
		default:
			return added, unused, fmt.Errorf("store %s: %w", key, err)
		}
	}
	return added, unused, nil
}

// newerLatest reports whether the staged latest tree head is larger than
// the stored one (or none is stored).
func (p *Proxy) newerLatest(ctx context.Context, stage modstore.Store, key string) (bool, error) {
	staged, err := modstore.ReadAll(ctx, stage, key, maxSumDBLatest)
	if err != nil {
		return false, err
	}
	st, err := openTree(staged, p.sumdb.key)
	if err != nil {
		return false, err
	}
	cur, err := modstore.ReadAll(ctx, p.store, key, maxSumDBLatest)
	if errors.Is(err, modstore.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	ct, err := openTree(cur, p.sumdb.key)
	if err != nil {
		return true, nil // a damaged stored head is replaced by a verified one
	}
	return st.N > ct.N, nil
}

// openTree verifies a signed tree head of the checksum database.
func openTree(data []byte, key string) (tlog.Tree, error) {
	v, err := note.NewVerifier(key)
	if err != nil {
		return tlog.Tree{}, err
	}
	n, err := note.Open(data, note.VerifierList(v))
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.ParseTree([]byte(n.Text))
}

// parseModuleKey splits "modules/ESC/@v/ESCVER.KIND" into its parts.
func parseModuleKey(key string) (mod, version, kind string, ok bool) {
	rest, ok := strings.CutPrefix(key, "modules/")
	if !ok {
		return "", "", "", false
	}
	esc, name, ok := strings.Cut(rest, "/@v/")
	if !ok {
		return "", "", "", false
	}
	mod, err := module.UnescapePath(esc)
	if err != nil {
		return "", "", "", false
	}
	version, kind, ok = modstore.ParseVersionName(name)
	return mod, version, kind, ok
}

func keyID(pub crypto.PublicKey) (string, error) { return keys.ID(pub) }

func algorithmOf(pub crypto.PublicKey) keys.Algorithm {
	alg, err := keys.AlgorithmOf(pub)
	if err != nil {
		return ""
	}
	return alg
}
