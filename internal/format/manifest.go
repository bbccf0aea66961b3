package format

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/inputfile"
)

// ManifestSchema identifies the manifest format.
const ManifestSchema = "hegui.dev/manifest/v1"

// Manifest is manifest.json.
type Manifest struct {
	Schema  string `json:"schema"`
	Project string `json:"project"`
	Module  string `json:"module"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// Signed is when the manifest was signed: certificates are checked for
	// validity at this time.
	Signed  time.Time     `json:"signed"`
	Signers []SignerEntry `json:"signers"`
	Files   []FileEntry   `json:"files"`
}

// SignerEntry names a key that signed the manifest.
type SignerEntry struct {
	KeyID       string `json:"keyId"`
	Algorithm   string `json:"algorithm"`
	Role        string `json:"role"`
	PublicKey   string `json:"publicKey"`                  // path in the delivery
	Chain       string `json:"certificateChain,omitempty"` // path in the delivery
	Development bool   `json:"development,omitempty"`
}

// FileEntry is one file of the delivery.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	SM3    string `json:"sm3"`
}

// MaxManifestFiles is the most files a manifest may list: far more than any
// delivery holds, few enough that reading one stays cheap.
const MaxManifestFiles = 100_000

// Opened is what HashPaths reads: an opened file.
type Opened interface {
	io.Reader
	io.Closer
}

// HashFiles lists the regular files under dir (paths relative, with slashes),
// skipping those skip selects, with their sizes and digests, sorted.
func HashFiles(ctx context.Context, dir string, skip func(string) bool) ([]FileEntry, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip(rel) {
			return nil
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", rel)
		}
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return HashPaths(ctx, paths, func(rel string) (Opened, error) {
		return os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	})
}

// HashPaths opens each path with open and returns its size and digests,
// sorted by path. Files are hashed in parallel, one per CPU: SM3 runs at a
// fifth of SHA-256's speed, so the digests, not the disk, are the cost.
func HashPaths(ctx context.Context, paths []string, open func(rel string) (Opened, error)) ([]FileEntry, error) {
	paths = slices.Clone(paths)
	sort.Strings(paths)
	files := make([]FileEntry, len(paths))
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				files[i], errs[i] = hashFile(ctx, paths[i], open)
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return files, errors.Join(errs...)
}

func hashFile(ctx context.Context, rel string, open func(string) (Opened, error)) (FileEntry, error) {
	f, err := open(rel)
	if err != nil {
		return FileEntry{}, err
	}
	defer f.Close()
	sums, n, err := digest.Sum(ctx, f, digest.SHA256, digest.SM3)
	if err != nil {
		return FileEntry{}, fmt.Errorf("%s: %w", rel, err)
	}
	return FileEntry{Path: rel, Size: n, SHA256: hex.EncodeToString(sums[0]), SM3: hex.EncodeToString(sums[1])}, nil
}

// ParseManifest decodes and checks a manifest. A manifest is untrusted input until
// its signature is verified, so every path must stay inside the delivery.
//
// The JSON is read strictly, as a signed document must be: exact member
// names, no unknown members, no member twice, nothing after the document,
// at most MaxManifestFiles files.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := jsonv2.Unmarshal(data, &m, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("malformed manifest: %w", err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("manifest schema %q, want %q", m.Schema, ManifestSchema)
	}
	if _, err := CheckListing(m.Files, m.Signers); err != nil {
		return nil, err
	}
	return &m, nil
}

// CheckListing checks what a signed manifest lists before anything is
// believed of it: at most MaxManifestFiles files, each a path inside the
// signed tree, listed once, with a size that is not negative; at least one
// signer, each with a hegui key ID and paths inside the tree. It returns
// the set of listed paths. Deliveries and kits share it.
func CheckListing(files []FileEntry, signers []SignerEntry) (map[string]bool, error) {
	if len(files) > MaxManifestFiles {
		return nil, fmt.Errorf("the manifest lists %d files, more than the %d it may", len(files), MaxManifestFiles)
	}
	if len(signers) == 0 {
		return nil, errors.New("the manifest names no signer")
	}
	listed := make(map[string]bool, len(files))
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return nil, err
		}
		if listed[f.Path] {
			return nil, fmt.Errorf("the manifest lists %s twice", f.Path)
		}
		if f.Size < 0 {
			return nil, fmt.Errorf("the manifest gives %s a negative size", f.Path)
		}
		listed[f.Path] = true
	}
	for _, s := range signers {
		if len(s.KeyID) != 64 {
			return nil, fmt.Errorf("signer key ID %q is not a hegui key ID", s.KeyID)
		}
		for _, p := range []string{s.PublicKey, s.Chain} {
			if p != "" {
				if err := CheckPath(p); err != nil {
					return nil, err
				}
			}
		}
	}
	return listed, nil
}

// CheckPath accepts a relative, clean, slash-separated path that stays
// inside the delivery and holds no control character.
func CheckPath(p string) error {
	if inputfile.CheckName(p) != nil {
		return fmt.Errorf("the manifest names the file %q, which is not a path inside the delivery", p)
	}
	return nil
}
