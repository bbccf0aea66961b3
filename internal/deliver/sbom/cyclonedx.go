package sbom

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// CycloneDX writes a CycloneDX 1.6 JSON BOM for the binary. The main module
// is the metadata component (an application, carrying the binary's digests
// when there is a binary); modules and the standard library are library
// components; dependencies follow the module graph.
func CycloneDX(in Input) ([]byte, error) {
	comps := components(in)
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + uuidString(documentID(in, "cyclonedx"))
	bom.Version = 1

	mainMod := comps[0]
	app := cdxComponent(mainMod)
	app.Type = cdx.ComponentTypeApplication
	props := []cdx.Property{{Name: "hegui:module", Value: mainMod.path}}
	if in.File != "" {
		app.Name = baseName(in.File)
		app.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: in.SHA256}}
		props = append(props,
			cdx.Property{Name: "hegui:hash:SM3", Value: in.SM3},
			cdx.Property{Name: "hegui:file", Value: in.File},
			cdx.Property{Name: "hegui:target", Value: in.Target})
	}
	if in.SourceURL != "" {
		app.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeVCS, URL: in.SourceURL}}
	}
	app.Properties = appendProps(app.Properties, props...)
	bom.Metadata = &cdx.Metadata{
		Timestamp: in.Created.UTC().Format(time.RFC3339),
		Component: &app,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{
			{Type: cdx.ComponentTypeApplication, Name: "hegui", Version: strings.TrimPrefix(in.Tool, "hegui-")},
			{Type: cdx.ComponentTypeApplication, Name: "go", Version: in.Info.GoVersion},
		}},
	}

	var list []cdx.Component
	deps := []cdx.Dependency{dependency(mainMod)}
	for _, c := range comps[1:] {
		list = append(list, cdxComponent(c))
		deps = append(deps, dependency(c))
	}
	bom.Components = &list
	bom.Dependencies = &deps

	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("write CycloneDX: %w", err)
	}
	return buf.Bytes(), nil
}

func cdxComponent(c *component) cdx.Component {
	out := cdx.Component{
		BOMRef:     c.ref,
		Type:       cdx.ComponentTypeLibrary,
		Name:       c.path,
		Version:    c.version,
		PackageURL: c.purl,
	}
	var props []cdx.Property
	if c.sum != "" {
		props = append(props, cdx.Property{Name: "hegui:go.sum", Value: c.sum})
	}
	if c.replace != "" {
		props = append(props, cdx.Property{Name: "hegui:replace", Value: c.replace})
	}
	if c.stdlib {
		props = append(props, cdx.Property{Name: "hegui:toolchain", Value: c.version})
	}
	out.Properties = appendProps(nil, props...)
	if lic := cdxLicenses(c); len(lic) > 0 {
		out.Licenses = &lic
	}
	return out
}

// cdxLicenses lists declared licences, then concluded ones, as licence
// objects with their acknowledgement (CycloneDX 1.6).
func cdxLicenses(c *component) cdx.Licenses {
	var out cdx.Licenses
	add := func(id string, ack cdx.LicenseAcknowledgement) {
		l := &cdx.License{Acknowledgement: ack}
		if strings.HasPrefix(id, "LicenseRef-") {
			l.Name = id
		} else {
			l.ID = id
		}
		out = append(out, cdx.LicenseChoice{License: l})
	}
	for _, id := range declaredIDs(c.license) {
		add(id, cdx.LicenseAcknowledgementDeclared)
	}
	if c.license != nil && c.license.Concluded != noAssertion {
		for _, id := range strings.Split(c.license.Concluded, " AND ") {
			add(id, cdx.LicenseAcknowledgementConcluded)
		}
	}
	return out
}

func dependency(c *component) cdx.Dependency {
	d := cdx.Dependency{Ref: c.ref}
	if len(c.dependsOn) > 0 {
		on := append([]string(nil), c.dependsOn...)
		d.Dependencies = &on
	}
	return d
}

func appendProps(existing *[]cdx.Property, props ...cdx.Property) *[]cdx.Property {
	if len(props) == 0 {
		return existing
	}
	var all []cdx.Property
	if existing != nil {
		all = append(all, *existing...)
	}
	all = append(all, props...)
	return &all
}
