package format

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"runtime/debug"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// StdlibModule is the component name of the Go standard library in an SBOM.
const StdlibModule = "stdlib"

// DevelVersion is the version an SBOM gives code from a local directory,
// as the go command reports it.
const DevelVersion = "(devel)"

// ModuleVersion is the version an SBOM records for a module linked into a
// binary: its own, or its replacement's when a module of the same path at
// another version replaces it, or DevelVersion for a local directory.
func ModuleVersion(dep *debug.Module) string {
	r := dep.Replace
	switch {
	case r == nil:
		return dep.Version
	case r.Version == "" || r.Version == DevelVersion:
		return DevelVersion
	case r.Path == dep.Path:
		return r.Version
	}
	return dep.Version
}

// ModuleVersions returns, for every module in a binary's build information
// (without the main module), the version an SBOM of it records.
func ModuleVersions(info *buildinfo.BuildInfo) map[string]string {
	out := map[string]string{}
	for _, dep := range info.Deps {
		out[dep.Path] = ModuleVersion(dep)
	}
	return out
}

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
		case p.PrimaryPackagePurpose == "LIBRARY" && p.PackageName != StdlibModule:
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
			if comp.Name != StdlibModule {
				c.Modules[comp.Name] = comp.Version
			}
		}
	}
	if c.File == "" {
		return c, errors.New("the metadata component names no binary (hegui:file)")
	}
	return c, nil
}
