package verify

import (
	"bytes"
	"errors"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"hegui.dev/hegui/internal/deliver/sbom"
)

// SBOMContent is what verification reads from an SBOM: the binary it
// describes, with its digests, and its modules with their versions.
type SBOMContent struct {
	File    string
	SHA256  string
	SM3     string
	Modules map[string]string
}

// ReadSPDX reads an SPDX 2.3 JSON document written by hegui.
func ReadSPDX(data []byte) (SBOMContent, error) {
	var doc spdx.Document
	if err := spdxjson.ReadInto(bytes.NewReader(data), &doc); err != nil {
		return SBOMContent{}, err
	}
	c := SBOMContent{Modules: map[string]string{}}
	for _, p := range doc.Packages {
		if p == nil {
			continue // an older SPDX version's document converts with holes
		}
		switch {
		case p.PackageSPDXIdentifier == "Binary":
			c.File = p.PackageFileName
			for _, sum := range p.PackageChecksums {
				if sum.Algorithm == "SHA256" {
					c.SHA256 = sum.Value
				}
			}
			for _, a := range p.Annotations {
				if v, ok := strings.CutPrefix(a.AnnotationComment, "SM3: "); ok {
					c.SM3 = v
				}
			}
		case p.PrimaryPackagePurpose == "LIBRARY" && p.PackageName != sbom.StdlibModule:
			c.Modules[p.PackageName] = p.PackageVersion
		}
	}
	if c.File == "" {
		return c, errors.New("no binary package (SPDXRef-Binary) in the document")
	}
	return c, nil
}

// ReadCycloneDX reads a CycloneDX JSON BOM written by hegui.
func ReadCycloneDX(data []byte) (SBOMContent, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return SBOMContent{}, err
	}
	c := SBOMContent{Modules: map[string]string{}}
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		return c, errors.New("no metadata component in the BOM")
	}
	app := bom.Metadata.Component
	if app.Properties != nil {
		for _, p := range *app.Properties {
			switch p.Name {
			case "hegui:file":
				c.File = p.Value
			case "hegui:hash:SM3":
				c.SM3 = p.Value
			}
		}
	}
	if app.Hashes != nil {
		for _, h := range *app.Hashes {
			if h.Algorithm == cdx.HashAlgoSHA256 {
				c.SHA256 = h.Value
			}
		}
	}
	if bom.Components != nil {
		for _, comp := range *bom.Components {
			if comp.Name != sbom.StdlibModule {
				c.Modules[comp.Name] = comp.Version
			}
		}
	}
	if c.File == "" {
		return c, errors.New("the metadata component names no binary (hegui:file)")
	}
	return c, nil
}
