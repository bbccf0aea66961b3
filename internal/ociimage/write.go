// Package ociimage writes and checks the OCI image a delivery carries: an
// OCI image layout (image-spec 1.1) with a multi-platform index, one image
// per Linux target, each the delivery's static binary on an empty base with
// CA certificates and a passwd entry for a non-root user, no shell, and
// the SBOMs and provenance attached as OCI 1.1 referrers (artifact
// manifests whose subject is the image). Everything is built with
// go-containerregistry; the layers are written by this package so that the
// same delivery always gives the same digests.
package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where the image puts what it holds.
const (
	BinDir      = "usr/local/bin"
	CACertsPath = "etc/ssl/certs/ca-certificates.crt"
	PasswdPath  = "etc/passwd"
	// DefaultUser is the non-root user images run as (distroless's "nonroot").
	DefaultUser = 65532
)

// IndexFile is the layout's index.json in dir, with slashes.
func IndexFile(dir string) string { return path.Join(dir, "index.json") }

// Annotation keys (OCI image-spec annotations.md) and the artifact types
// of what is attached to each image.
const (
	AnnotationRefName  = "org.opencontainers.image.ref.name"
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationTitle    = "org.opencontainers.image.title"
	// AnnotationPath names, on an attached artifact, the delivery file it is.
	AnnotationPath = "dev.hegui.delivery.path"

	ArtifactSPDX       = "application/spdx+json"
	ArtifactCycloneDX  = "application/vnd.cyclonedx+json"
	ArtifactProvenance = "application/vnd.in-toto+json"
	mediaTypeDSSE      = "application/vnd.dsse.envelope.v1+json"
	mediaTypeEmpty     = "application/vnd.oci.empty.v1+json"
)

// Platform is one image of the index: the binary for a Linux target.
type Platform struct {
	OS, Arch string
	// Binary is the binary's file; its name in the image is Options.Name.
	Binary string
	// Attach are delivery files attached to this image as referrers.
	Attach []Attachment
}

// Attachment is one delivery file attached to an image.
type Attachment struct {
	// Path is the file's path in the delivery (an annotation of the
	// artifact); File the file to read.
	Path, File string
	// ArtifactType is ArtifactSPDX, ArtifactCycloneDX or ArtifactProvenance.
	ArtifactType string
}

// Options describe the image.
type Options struct {
	// Name is the binary's name: /usr/local/bin/NAME is the entry point.
	Name      string
	Platforms []Platform
	// Version is the delivery's version: the index's ref name.
	Version string
	// Created is the commit time: every timestamp in the image.
	Created time.Time
	// Source and Revision are the repository URL and the commit.
	Source, Revision string
	// CACerts is the CA bundle put at /etc/ssl/certs/ca-certificates.crt;
	// nil puts none.
	CACerts []byte
	// User is the user ID it runs as; 0 means DefaultUser.
	User int
	// Args are the entry point's arguments (Cmd); Env its environment;
	// Ports what it listens on ("8080/tcp").
	Args, Env, Ports []string
}

// Result is what Write made.
type Result struct {
	// Index is the multi-platform index's digest.
	Index string
	// Images are each platform's image manifest digest ("linux/amd64").
	Images map[string]string
}

// Write writes the image layout into dir, which must not exist.
func Write(dir string, o Options) (*Result, error) {
	if len(o.Platforms) == 0 {
		return nil, errors.New("no Linux binary to put in an image")
	}
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("%s exists", dir)
	}
	user := o.User
	if user == 0 {
		user = DefaultUser
	}
	if user < 0 {
		return nil, fmt.Errorf("user %d: give a non-root user ID", user)
	}
	base, err := baseLayer(o.CACerts, user, o.Created)
	if err != nil {
		return nil, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, err
	}
	res := &Result{Images: map[string]string{}}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, pl := range o.Platforms {
		img, err := platformImage(o, pl, base, user)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", pl.OS, pl.Arch, err)
		}
		digest, err := img.Digest()
		if err != nil {
			return nil, err
		}
		platform := &v1.Platform{OS: pl.OS, Architecture: pl.Arch}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platform}})
		// Each image is also named alone (VERSION-OS-ARCH), for tools that
		// take one image, not an index (umoci).
		if err := p.AppendImage(img, layout.WithPlatform(*platform), layout.WithAnnotations(map[string]string{
			AnnotationRefName: o.Version + "-" + pl.OS + "-" + pl.Arch,
		})); err != nil {
			return nil, err
		}
		res.Images[pl.OS+"/"+pl.Arch] = digest.String()
		desc, err := describe(img, platform)
		if err != nil {
			return nil, err
		}
		for _, a := range pl.Attach {
			if err := attach(p, desc, a, o.Created); err != nil {
				return nil, fmt.Errorf("attach %s: %w", a.Path, err)
			}
		}
	}
	idx = mutate.Annotations(idx, annotations(o)).(v1.ImageIndex)
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{AnnotationRefName: o.Version})); err != nil {
		return nil, err
	}
	digest, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	res.Index = digest.String()
	return res, nil
}

// annotations are the OCI annotations of the index and each image.
func annotations(o Options) map[string]string {
	a := map[string]string{
		AnnotationCreated: o.Created.UTC().Format(time.RFC3339),
		AnnotationVersion: o.Version,
		AnnotationTitle:   o.Name,
	}
	if o.Source != "" {
		a[AnnotationSource] = o.Source
	}
	if o.Revision != "" {
		a[AnnotationRevision] = o.Revision
	}
	return a
}

// platformImage is the base layer and a layer with the binary, configured
// to run it as user.
func platformImage(o Options, pl Platform, base v1.Layer, user int) (v1.Image, error) {
	bin, err := os.ReadFile(pl.Binary)
	if err != nil {
		return nil, err
	}
	app, err := layer([]entry{{name: path.Join(BinDir, o.Name), data: bin, mode: 0o755}}, o.Created)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: o.Created.UTC()}
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "hegui deliver: CA certificates, passwd", Comment: "base"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: created, CreatedBy: "hegui deliver: " + path.Join("/", BinDir, o.Name), Comment: "binary"}},
	)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Created = pl.OS, pl.Arch, created
	cfg.Config.User = fmt.Sprintf("%d:%d", user, user)
	cfg.Config.Entrypoint = []string{path.Join("/", BinDir, o.Name)}
	cfg.Config.Cmd = o.Args
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = append([]string{"PATH=/" + BinDir, "SSL_CERT_FILE=/" + CACertsPath}, o.Env...)
	if o.CACerts == nil {
		cfg.Config.Env = cfg.Config.Env[:1]
	}
	if len(o.Ports) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, port := range o.Ports {
			cfg.Config.ExposedPorts[port] = struct{}{}
		}
	}
	cfg.Config.Labels = annotations(o)
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, annotations(o)).(v1.Image), nil
}

// describe is an image's descriptor as an index lists it.
func describe(img v1.Image, platform *v1.Platform) (v1.Descriptor, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := img.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: digest, Size: size, Platform: platform}, nil
}

// attach writes the file as an artifact manifest whose subject is the
// image (OCI 1.1 referrers) and lists it in index.json with its artifact
// type, as the image-spec's referrers fallback in a layout does.
func attach(p layout.Path, subject v1.Descriptor, a Attachment, created time.Time) error {
	data, err := os.ReadFile(a.File)
	if err != nil {
		return err
	}
	mt := types.MediaType(a.ArtifactType)
	if a.ArtifactType == ArtifactProvenance {
		mt = mediaTypeDSSE
	}
	blob := static.NewLayer(data, mt)
	emptyCfg := []byte("{}")
	cfgDigest, cfgSize, err := v1.SHA256(bytes.NewReader(emptyCfg))
	if err != nil {
		return err
	}
	if err := p.WriteBlob(cfgDigest, io.NopCloser(bytes.NewReader(emptyCfg))); err != nil {
		return err
	}
	blobDigest, err := blob.Digest()
	if err != nil {
		return err
	}
	if err := p.WriteBlob(blobDigest, io.NopCloser(bytes.NewReader(data))); err != nil {
		return err
	}
	anns := map[string]string{AnnotationPath: a.Path, AnnotationCreated: created.UTC().Format(time.RFC3339)}
	subj := subject
	subj.Platform = nil
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: mediaTypeEmpty, Digest: cfgDigest, Size: cfgSize, Data: emptyCfg},
		Layers: []v1.Descriptor{{
			MediaType: mt, Digest: blobDigest, Size: int64(len(data)),
			Annotations: map[string]string{"org.opencontainers.image.title": path.Base(a.Path)},
		}},
		Subject:     &subj,
		Annotations: anns,
	}
	raw, err := marshalArtifact(m, a.ArtifactType)
	if err != nil {
		return err
	}
	digest, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := p.WriteBlob(digest, io.NopCloser(bytes.NewReader(raw))); err != nil {
		return err
	}
	return p.AppendDescriptor(v1.Descriptor{
		MediaType: types.OCIManifestSchema1, Digest: digest, Size: size,
		ArtifactType: a.ArtifactType, Annotations: maps.Clone(anns),
	})
}

// marshalArtifact is the manifest's JSON with its artifactType.
func marshalArtifact(m v1.Manifest, artifactType string) ([]byte, error) {
	type artifact struct {
		v1.Manifest
		ArtifactType string `json:"artifactType"`
	}
	return json.Marshal(artifact{m, artifactType})
}

// entry is one file of a layer.
type entry struct {
	name string
	data []byte
	mode int64
	dir  bool
}

// baseLayer holds the CA bundle and the passwd file.
func baseLayer(caCerts []byte, user int, created time.Time) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", user, user)
	files := []entry{{name: PasswdPath, data: []byte(passwd), mode: 0o644}}
	if caCerts != nil {
		files = append(files, entry{name: CACertsPath, data: caCerts, mode: 0o644})
	}
	return layer(files, created)
}

// layer writes files (and their parent directories) as a reproducible
// gzip-compressed tar: sorted, owned by root, the given time, no gzip
// header time.
func layer(files []entry, mtime time.Time) (v1.Layer, error) {
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.name); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	all := append([]entry(nil), files...)
	for d := range dirs {
		all = append(all, entry{name: d, dir: true, mode: 0o755})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, f := range all {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: mtime.UTC(), Uname: "root", Gname: "root"}
		if f.dir {
			h.Typeflag, h.Name = tar.TypeDir, f.name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// platformString names a platform "os/arch".
func platformString(p *v1.Platform) string {
	if p == nil {
		return "unknown platform"
	}
	return strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/")
}
