package format

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/ctxio"
	"hegui.dev/hegui/internal/inputfile"
)

// DeliveryReader reads the files of a delivery someone else made, as
// untrusted input (inputfile.Dir: no link leaves the directory, sizes are
// bounded), each checked against the SHA-256 manifest.json lists. It does
// not check the manifest's signatures: that is hegui verify's work.
type DeliveryReader struct {
	dir      *inputfile.Dir
	Manifest *Manifest
	// ManifestEntry is manifest.json itself: its size and digests, which
	// name this delivery (the manifest lists every other file).
	ManifestEntry FileEntry
	digests       map[string]string
}

// OpenDelivery opens the delivery directory path and reads its manifest.
func OpenDelivery(ctx context.Context, path string) (*DeliveryReader, error) {
	dir, err := inputfile.OpenDir(path)
	if err != nil {
		return nil, err
	}
	data, err := dir.Read(ctx, ManifestFile, inputfile.DocumentLimit)
	if errors.Is(err, fs.ErrNotExist) {
		dir.Close()
		return nil, fmt.Errorf("%s is not a delivery: it has no %s", dir.Name(), ManifestFile)
	}
	if err != nil {
		dir.Close()
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		dir.Close()
		return nil, err
	}
	sums, n, err := digest.Sum(ctx, bytes.NewReader(data), digest.SHA256, digest.SM3)
	if err != nil {
		dir.Close()
		return nil, err
	}
	r := &DeliveryReader{dir: dir, Manifest: m, digests: map[string]string{},
		ManifestEntry: FileEntry{Path: ManifestFile, Size: n, SHA256: hex.EncodeToString(sums[0]), SM3: hex.EncodeToString(sums[1])}}
	for _, f := range m.Files {
		r.digests[f.Path] = "sha256:" + f.SHA256
	}
	return r, nil
}

// Close closes the directory.
func (r *DeliveryReader) Close() error { return r.dir.Close() }

// Digest is the manifest's "sha256:HEX" for a file, or "" when it does not
// list the file.
func (r *DeliveryReader) Digest(name string) string { return r.digests[name] }

// Read reads a file the manifest lists, refusing one whose SHA-256 is not
// the manifest's.
func (r *DeliveryReader) Read(ctx context.Context, name string) ([]byte, error) {
	want, ok := r.digests[name]
	if !ok {
		return nil, fmt.Errorf("%s: the delivery's manifest does not list it", name)
	}
	data, err := r.dir.Read(ctx, name, inputfile.DocumentLimit)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if "sha256:"+hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("%s does not match the delivery's manifest: the delivery was altered (run hegui verify)", name)
	}
	return data, nil
}

// CopyTo copies a file the manifest lists to w, of any size, and fails
// when its SHA-256 is not the manifest's; what was written to w must then
// be thrown away.
func (r *DeliveryReader) CopyTo(ctx context.Context, name string, w io.Writer) error {
	want, ok := r.digests[name]
	if !ok {
		return fmt.Errorf("%s: the delivery's manifest does not list it", name)
	}
	f, _, err := r.dir.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := ctxio.Copy(ctx, io.MultiWriter(w, h), f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if "sha256:"+hex.EncodeToString(h.Sum(nil)) != want {
		return fmt.Errorf("%s does not match the delivery's manifest: the delivery was altered (run hegui verify)", name)
	}
	return nil
}
