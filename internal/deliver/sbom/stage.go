package sbom

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
)

// Stage writes an SPDX and a CycloneDX document per binary.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "sbom" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	graph, err := d.Go.ModGraph(ctx)
	if err != nil {
		return err
	}
	licenses := map[string]*format.ModuleLicense{}
	for _, l := range d.Licenses {
		licenses[l.Module] = l
	}
	if err := os.MkdirAll(d.Path(format.SBOMDir), 0o755); err != nil {
		return err
	}
	for _, b := range d.Binaries {
		info, err := buildinfo.ReadFile(d.Path(b.Path))
		if err != nil {
			return fmt.Errorf("%s: read build information: %w", b.Path, err)
		}
		in := Input{
			File: b.Path, SHA256: b.SHA256, SM3: b.SM3, Target: b.Target.String(),
			Version: d.Version.Version, Info: info, Graph: graph, Licenses: licenses,
			Created: d.Version.CommitTime, Tool: "hegui-" + d.HeguiVersion, SourceURL: d.Version.RemoteURL,
		}
		base := format.SBOMBase(b.Path, b.Target.Slug())
		for _, doc := range []struct {
			ext   string
			write func(Input) ([]byte, error)
		}{{format.SPDXSuffix, SPDX}, {format.CycloneDXSuffix, CycloneDX}} {
			data, err := doc.write(in)
			if err != nil {
				return fmt.Errorf("%s: %w", b.Path, err)
			}
			if err := os.WriteFile(d.Path(base+doc.ext), data, 0o644); err != nil {
				return err
			}
			b.SBOMs = append(b.SBOMs, base+doc.ext)
		}
		d.Log.Stepf("%s: %d modules and the standard library", b.Path, len(info.Deps)+1)
	}
	return nil
}
