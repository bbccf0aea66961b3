package ociimage

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"hegui.dev/hegui/internal/human"
)

// Expect is what a delivery says its image must hold.
type Expect struct {
	// Version is the index's ref name.
	Version string
	// Files are the SHA-256 of the delivery's files, by path: each image's
	// entry point must be the delivery's bin/OS_ARCH/NAME, and each attached
	// artifact the delivery file its annotation names.
	Files map[string]string
}

// binaries lists the delivery's Linux binaries named name, by platform.
func (e Expect) binaries(name string) map[string]string {
	out := map[string]string{}
	for p, sum := range e.Files {
		rest, ok := strings.CutPrefix(p, "bin/linux_")
		if !ok {
			continue
		}
		if arch, n, ok := strings.Cut(rest, "/"); ok && n == name {
			out["linux/"+arch] = sum
		}
	}
	return out
}

// Checked is what Verify found.
type Checked struct {
	Index     string
	Platforms []string
	Attached  int
	User      string
}

// maxBinary bounds what Verify reads of a binary in a layer.
const maxBinary = 1 << 30

// Verify checks the image layout in dir: every blob of every manifest
// has the digest and size its descriptor gives (go-containerregistry's
// validate), the index named Version holds exactly one image per platform
// of Binaries, each image's entry point is that platform's binary, byte for
// byte, run as a non-root user; every attached artifact's subject is one
// of those images and its content the delivery file it names.
func Verify(dir string, exp Expect) (*Checked, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("not an OCI image layout: %v", err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	topManifest, err := top.IndexManifest()
	if err != nil {
		return nil, err
	}
	var index v1.ImageIndex
	var indexDigest v1.Hash
	images := map[string]bool{} // image manifest digests of the index
	for _, d := range topManifest.Manifests {
		if d.MediaType == types.OCIImageIndex && d.Annotations[AnnotationRefName] == exp.Version {
			if index != nil {
				return nil, fmt.Errorf("index.json names two indexes %s", exp.Version)
			}
			if index, err = top.ImageIndex(d.Digest); err != nil {
				return nil, err
			}
			indexDigest = d.Digest
		}
	}
	if index == nil {
		return nil, fmt.Errorf("index.json names no image index %q", exp.Version)
	}
	if err := validate.Index(index); err != nil {
		return nil, fmt.Errorf("index %s: %v", exp.Version, oneLine(err))
	}
	im, err := index.IndexManifest()
	if err != nil {
		return nil, err
	}
	out := &Checked{Index: indexDigest.String()}
	seen := map[string]bool{}
	var name string
	var want map[string]string
	for _, d := range im.Manifests {
		plat := platformString(d.Platform)
		if seen[plat] {
			return nil, fmt.Errorf("the index holds two images for %s", plat)
		}
		seen[plat] = true
		img, err := index.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		entry, err := entryPoint(img)
		if err != nil {
			return nil, fmt.Errorf("%s image: %v", plat, err)
		}
		if name == "" {
			name, want = path.Base(entry), exp.binaries(path.Base(entry))
		} else if path.Base(entry) != name {
			return nil, fmt.Errorf("%s image runs %s, the others %s", plat, path.Base(entry), name)
		}
		sum, ok := want[plat]
		if !ok {
			return nil, fmt.Errorf("the index holds an image for %s, for which the delivery has no binary %s", plat, path.Base(entry))
		}
		user, err := checkImage(img, d.Platform, entry, sum)
		if err != nil {
			return nil, fmt.Errorf("%s image: %v", plat, err)
		}
		out.User = user
		images[d.Digest.String()] = true
		out.Platforms = append(out.Platforms, plat)
	}
	for plat := range want {
		if !seen[plat] {
			return nil, fmt.Errorf("the index has no image for %s, for which the delivery has %s", plat, name)
		}
	}
	sort.Strings(out.Platforms)
	for _, d := range topManifest.Manifests {
		switch d.ArtifactType {
		case ArtifactSPDX, ArtifactCycloneDX, ArtifactProvenance:
		default:
			continue // the images themselves (their artifact type is their config's), the index
		}
		if err := checkArtifact(p, d, images, exp.Files); err != nil {
			return nil, fmt.Errorf("attached %s: %v", d.Annotations[AnnotationPath], err)
		}
		out.Attached++
	}
	return out, nil
}

// entryPoint is the path (without the leading slash) an image runs.
func entryPoint(img v1.Image) (string, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	if len(cfg.Config.Entrypoint) == 0 {
		return "", errors.New("it has no entry point")
	}
	return strings.TrimPrefix(path.Clean(cfg.Config.Entrypoint[0]), "/"), nil
}

// checkImage checks one image (whose blobs validate.Index has checked)
// and returns the user it runs as.
func checkImage(img v1.Image, plat *v1.Platform, entry, binarySum string) (string, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	if cfg.OS != plat.OS || cfg.Architecture != plat.Architecture {
		return "", fmt.Errorf("its configuration says %s/%s", cfg.OS, cfg.Architecture)
	}
	user := cfg.Config.User
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		return "", fmt.Errorf("it runs as root (user %q)", user)
	}
	layers, err := img.Layers()
	if err != nil {
		return "", err
	}
	// The last layer holding the entry point is what runs.
	var found string
	for _, l := range layers {
		sum, ok, err := fileInLayer(l, entry)
		if err != nil {
			return "", err
		}
		if ok {
			found = sum
		}
	}
	switch {
	case found == "":
		return "", fmt.Errorf("its entry point /%s is in no layer", entry)
	case found != binarySum:
		return "", fmt.Errorf("its entry point /%s is not the delivery's binary (SHA-256 %.16s…, the delivery's %.16s…)", entry, found, binarySum)
	}
	return user, nil
}

// fileInLayer hashes the regular file name in a layer.
func fileInLayer(l v1.Layer, name string) (sum string, ok bool, err error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return "", false, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return sum, ok, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("layer: %v", err)
		}
		if strings.TrimPrefix(path.Clean(h.Name), "/") != name {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return "", false, fmt.Errorf("/%s is not a regular file in a layer", name)
		}
		hs := sha256.New()
		if _, err := io.Copy(hs, io.LimitReader(tr, maxBinary)); err != nil {
			return "", false, err
		}
		sum, ok = hex.EncodeToString(hs.Sum(nil)), true
	}
}

// checkArtifact checks an attached artifact: its subject is an image of
// the index, its one layer is the delivery file it names.
func checkArtifact(p layout.Path, d v1.Descriptor, images map[string]bool, files map[string]string) error {
	img, err := p.Image(d.Digest)
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	if m.Subject == nil || !images[m.Subject.Digest.String()] {
		return errors.New("its subject is not an image of the index")
	}
	name := m.Annotations[AnnotationPath]
	want, ok := files[name]
	if !ok {
		return fmt.Errorf("it names %q, not a file of the delivery", name)
	}
	if len(m.Layers) != 1 {
		return fmt.Errorf("%d layers, want 1", len(m.Layers))
	}
	rc, err := p.Blob(m.Layers[0].Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	hs := sha256.New()
	n, err := io.Copy(hs, io.LimitReader(rc, m.Layers[0].Size+1))
	if err != nil {
		return err
	}
	got := hex.EncodeToString(hs.Sum(nil))
	if n != m.Layers[0].Size || got != m.Layers[0].Digest.Hex {
		return fmt.Errorf("blob %s does not have its digest", m.Layers[0].Digest)
	}
	if got != want {
		return fmt.Errorf("its content is not the delivery's %s", name)
	}
	return nil
}

func oneLine(err error) error { return errors.New(human.OneLine(err.Error())) }
