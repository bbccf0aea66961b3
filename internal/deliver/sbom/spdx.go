package sbom

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

const noAssertion = "NOASSERTION"

// SPDX writes an SPDX 2.3 JSON document for the binary.
//
// Relationships: the document DESCRIBES the binary; the binary is
// GENERATED_FROM the main module and STATIC_LINKs every other module and the
// standard library; modules DEPEND_ON the modules they require.
func SPDX(in Input) ([]byte, error) {
	comps := components(in)
	created := in.Created.UTC().Format(time.RFC3339)
	id := documentID(in, "spdx")
	name := in.Info.Main.Path
	if in.File != "" {
		name = in.File
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: fmt.Sprintf("https://hegui.dev/spdx/%s/%s/%s", escapePath(in.Info.Main.Path), in.Version, uuidString(id)),
		CreationInfo: &spdx.CreationInfo{
			Created:  created,
			Creators: []common.Creator{{CreatorType: "Tool", Creator: in.Tool}, {CreatorType: "Tool", Creator: in.Info.GoVersion}},
		},
	}
	others := map[string]string{}
	root := common.ElementID("DOCUMENT")
	if in.File != "" {
		bin := &spdx.Package{
			PackageName:               baseName(in.File),
			PackageSPDXIdentifier:     "Binary",
			PackageVersion:            in.Version,
			PackageFileName:           in.File,
			PackageDownloadLocation:   noAssertion,
			PrimaryPackagePurpose:     "APPLICATION",
			PackageLicenseConcluded:   noAssertion,
			PackageLicenseDeclared:    noAssertion,
			PackageCopyrightText:      noAssertion,
			PackageChecksums:          []common.Checksum{{Algorithm: common.SHA256, Value: in.SHA256}},
			PackageComment:            fmt.Sprintf("Go binary for %s, built from %s", in.Target, in.Info.Main.Path),
			Annotations:               []spdx.Annotation{annotation(in, created, "SM3: "+in.SM3)},
			PackageExternalReferences: []*spdx.PackageExternalReference{purlRef(comps[0].purl)},
		}
		doc.Packages = append(doc.Packages, bin)
		doc.Relationships = append(doc.Relationships, relationship(root, "Binary", "DESCRIBES"))
	}
	for _, c := range comps {
		p := &spdx.Package{
			PackageName:               c.path,
			PackageSPDXIdentifier:     common.ElementID(c.ref),
			PackageVersion:            c.version,
			PackageDownloadLocation:   noAssertion,
			PackageCopyrightText:      noAssertion,
			PrimaryPackagePurpose:     "LIBRARY",
			PackageExternalReferences: []*spdx.PackageExternalReference{purlRef(c.purl)},
		}
		p.PackageLicenseDeclared, p.PackageLicenseConcluded = spdxLicenses(c, others)
		var notes []string
		if c.sum != "" {
			notes = append(notes, "go.sum "+c.sum)
		}
		if c.replace != "" {
			notes = append(notes, "replaced "+c.replace)
		}
		switch {
		case c.main:
			p.PrimaryPackagePurpose = "SOURCE"
			notes = append(notes, "main module")
			if in.SourceURL != "" {
				p.PackageDownloadLocation = "git+" + strings.TrimPrefix(in.SourceURL, "git+")
			}
		case c.stdlib:
			notes = append(notes, "Go standard library and toolchain "+c.version)
		}
		p.PackageComment = strings.Join(notes, "; ")
		doc.Packages = append(doc.Packages, p)

		switch {
		case in.File == "" && c.main:
			doc.Relationships = append(doc.Relationships, relationship(root, c.ref, "DESCRIBES"))
		case in.File != "" && c.main:
			doc.Relationships = append(doc.Relationships, relationship("Binary", c.ref, "GENERATED_FROM"))
		case in.File != "":
			doc.Relationships = append(doc.Relationships, relationship("Binary", c.ref, "STATIC_LINK"))
		}
		for _, dep := range c.dependsOn {
			doc.Relationships = append(doc.Relationships, relationship(common.ElementID(c.ref), dep, "DEPENDS_ON"))
		}
	}
	refs := make([]string, 0, len(others))
	for ref := range others {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: ref,
			ExtractedText:     others[ref],
			LicenseName:       strings.TrimPrefix(ref, "LicenseRef-"),
		})
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("write SPDX: %w", err)
	}
	return buf.Bytes(), nil
}

// spdxLicenses returns the declared and concluded licence fields, noting
// every LicenseRef used so that the document defines it.
func spdxLicenses(c *component, others map[string]string) (string, string) {
	ids := declaredIDs(c.license)
	if len(ids) == 0 {
		return noAssertion, noAssertion
	}
	for _, id := range ids {
		if strings.HasPrefix(id, "LicenseRef-") {
			others[id] = fmt.Sprintf("A licence text that google/licensecheck identifies as %s, found in %s.", strings.TrimPrefix(id, "LicenseRef-"), c.path)
		}
	}
	return strings.Join(ids, " AND "), c.license.Concluded
}

func purlRef(p string) *spdx.PackageExternalReference {
	return &spdx.PackageExternalReference{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p}
}

func relationship(a common.ElementID, b, kind string) *spdx.Relationship {
	return &spdx.Relationship{
		RefA:         common.DocElementID{ElementRefID: a},
		RefB:         common.DocElementID{ElementRefID: common.ElementID(b)},
		Relationship: kind,
	}
}

func annotation(in Input, created, comment string) spdx.Annotation {
	return spdx.Annotation{
		Annotator:         common.Annotator{AnnotatorType: "Tool", Annotator: in.Tool},
		AnnotationDate:    created,
		AnnotationType:    "OTHER",
		AnnotationComment: comment,
	}
}

func baseName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}
