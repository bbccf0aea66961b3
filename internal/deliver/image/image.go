// Package image is the optional stage that writes the delivery's OCI image
// (internal/ociimage) into image/: the binary for every Linux target on an
// empty base, non-root, its SBOMs and the provenance attached.
package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/ociimage"
)

// Dir is where the image layout goes in the delivery.
const Dir = "image"

// SystemCACerts is the CA bundle "ca-certificates: system" reads (Debian,
// Ubuntu, Alpine, and the 信创 distributions built on them; Kylin and UOS too).
const SystemCACerts = "/etc/ssl/certs/ca-certificates.crt"

// Stage writes the image.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "image" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	c := d.Config.Image
	if !c.Enabled {
		return delivery.Skip("image.enabled is false")
	}
	name, err := chooseBinary(d, c.Binary)
	if err != nil {
		return err
	}
	ca, err := caCertificates(ctx, d, c.CACertificates)
	if err != nil {
		return err
	}
	o := ociimage.Options{
		Name: name, Version: d.Version.Version, Created: d.Version.CommitTime,
		Source: d.Version.RemoteURL, Revision: d.Version.Commit, CACerts: ca,
		User: c.User, Args: c.Args, Env: c.Env, Ports: c.Ports,
	}
	seen := map[string]bool{}
	for _, b := range d.Binaries {
		if b.Target.OS != "linux" || path.Base(b.Path) != name {
			continue
		}
		plat := b.Target.OS + "/" + b.Target.Arch
		if seen[plat] {
			return fmt.Errorf("two binaries %s for %s (different levels): an image holds one per platform", name, plat)
		}
		seen[plat] = true
		p := ociimage.Platform{OS: b.Target.OS, Arch: b.Target.Arch, Binary: d.Path(b.Path)}
		for _, s := range b.SBOMs {
			typ := ociimage.ArtifactCycloneDX
			if strings.HasSuffix(s, ".spdx.json") {
				typ = ociimage.ArtifactSPDX
			}
			p.Attach = append(p.Attach, ociimage.Attachment{Path: s, File: d.Path(s), ArtifactType: typ})
		}
		if _, err := os.Stat(d.Path(format.ProvenanceFile)); err == nil {
			p.Attach = append(p.Attach, ociimage.Attachment{Path: format.ProvenanceFile, File: d.Path(format.ProvenanceFile), ArtifactType: ociimage.ArtifactProvenance})
		}
		o.Platforms = append(o.Platforms, p)
	}
	if len(o.Platforms) == 0 {
		return delivery.SkipWithWarning("no Linux target", "image: no Linux target to make an image of: add linux/amd64 (or another) to targets")
	}
	sort.Slice(o.Platforms, func(i, j int) bool { return o.Platforms[i].Arch < o.Platforms[j].Arch })
	res, err := ociimage.Write(d.Path(Dir), o)
	if err != nil {
		os.RemoveAll(d.Path(Dir))
		return fmt.Errorf("image: %w", err)
	}
	plats := make([]string, 0, len(res.Images))
	for p := range res.Images {
		plats = append(plats, p)
	}
	sort.Strings(plats)
	d.Log.Stepf("%s/: %s on %s, index %s", Dir, name, strings.Join(plats, ", "), res.Index)
	return nil
}

// chooseBinary is the binary the image runs: the one named, else the
// only one.
func chooseBinary(d *delivery.Delivery, want string) (string, error) {
	names := map[string]bool{}
	for _, b := range d.Binaries {
		names[path.Base(b.Path)] = true
	}
	if want != "" {
		if !names[want] {
			return "", fmt.Errorf("image.binary %q: the delivery has no such binary (it has %s)", want, list(names))
		}
		return want, nil
	}
	if len(names) != 1 {
		return "", fmt.Errorf("image.binary: the delivery has %d binaries (%s): say which one the image runs", len(names), list(names))
	}
	for n := range names {
		return n, nil
	}
	return "", errors.New("no binary")
}

func list(names map[string]bool) string {
	var l []string
	for n := range names {
		l = append(l, n)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// caCertificates reads the CA bundle image.ca-certificates names.
func caCertificates(ctx context.Context, d *delivery.Delivery, from string) ([]byte, error) {
	switch from {
	case "none":
		return nil, nil
	case "", "system":
		data, err := inputfile.Read(ctx, SystemCACerts, inputfile.DocumentLimit)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("image.ca-certificates: %s does not exist here (install ca-certificates, or give a file in the module, or none)", SystemCACerts)
		}
		return data, err
	}
	if filepath.IsAbs(from) || strings.HasPrefix(filepath.Clean(from), "..") {
		return nil, fmt.Errorf("image.ca-certificates %q: give a file in the module, system or none", from)
	}
	data, err := inputfile.Read(ctx, filepath.Join(d.ModuleDir, from), inputfile.DocumentLimit)
	if err != nil {
		return nil, fmt.Errorf("image.ca-certificates: %w", err)
	}
	return data, nil
}
