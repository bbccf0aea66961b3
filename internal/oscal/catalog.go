package oscal

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	oscaltypes "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/format"
)

// source is where a framework's OSCAL catalog is and how its controls and
// their statements are named there.
type source struct {
	// href is the catalog: a path relative to the component definition
	// for the catalogs hegui makes, NIST's URL for SSDF.
	href     string
	external bool
	// controlID and statementID name a control of the hegui catalog and
	// its statement part in the OSCAL catalog.
	controlID   func(id string) string
	statementID func(id string) string
}

// NISTSSDFCatalog is NIST's OSCAL catalog of SP 800-218 (SSDF) version 1.1.
// Its task ids are the ones hegui's catalog uses ("PS.2.1"), and a task's
// statement part is "statement_PS.2.1" (checked against the catalog:
// testdata/nist-ssdf-ids.txt).
const NISTSSDFCatalog = "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-218/ver1/json/NIST_SP800-218_ver1_catalog.json"

// sourceOf says where a catalog's OSCAL version is: NIST's for SSDF,
// hegui's own for the others.
func sourceOf(c *compliance.Catalog) (source, error) {
	if c.ID == "nist-ssdf-1.1" {
		return source{href: NISTSSDFCatalog, external: true,
			controlID:   func(id string) string { return id },
			statementID: func(id string) string { return "statement_" + id }}, nil
	}
	s := source{href: CatalogDir + "/" + c.ID + ".json",
		controlID:   func(id string) string { return ControlID(c.ID, id) },
		statementID: func(id string) string { return ControlID(c.ID, id) + "_smt" }}
	seen := map[string]string{}
	for _, ctl := range c.Controls {
		id := s.controlID(ctl.ID)
		if !token.MatchString(id) {
			return source{}, fmt.Errorf("catalog %s: control %q has no OSCAL id (%q is not a token)", c.ID, ctl.ID, id)
		}
		if other, dup := seen[id]; dup {
			return source{}, fmt.Errorf("catalog %s: controls %q and %q have the same OSCAL id %q", c.ID, other, ctl.ID, id)
		}
		seen[id] = ctl.ID
	}
	return s, nil
}

// token is OSCAL's token datatype (an XML NCName).
var token = regexp.MustCompile(`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`)

// ControlID is the OSCAL id of control id in hegui's catalog catalogID: the
// catalog's first word, then the id in lower case with letters, digits and
// dots kept, "(x)" written ".x" and anything else a hyphen:
//
//	gbt22239-2019-l3  8.1.4.3 c     gbt22239-8.1.4.3-c
//	gdpr              Art. 5(1)(c)  gdpr-art-5.1.c
//	slsa-1.0-build    Build L1: …   slsa-build-l1-…
func ControlID(catalogID, id string) string {
	prefix, _, _ := strings.Cut(catalogID, "-")
	s := strings.NewReplacer("(", ".", ")", "").Replace(strings.ToLower(id))
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_':
			b.WriteRune(r)
		case !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s = strings.NewReplacer(".-", "-", "-.", "-").Replace(b.String())
	return prefix + "-" + strings.Trim(s, "-.")
}

// refProperty names what a catalog's control refs are, as an OSCAL
// property: GB/T 28448 test units for 等保, the Chinese article numbers of
// the PIPL (an alternative identifier).
func refProperty(catalogID, ref string) oscaltypes.Property {
	switch catalogID {
	case "gbt22239-2019-l3":
		return oscaltypes.Property{Ns: Namespace, Name: "test-unit", Class: "gbt28448-2019", Value: ref}
	case "pipl":
		return oscaltypes.Property{Name: "alt-identifier", Class: "zh", Value: ref}
	}
	return oscaltypes.Property{Ns: Namespace, Name: "ref", Value: ref}
}

// catalog is the OSCAL catalog hegui makes of one of its catalogs: the
// controls grouped as the catalog groups them, each with its statement
// (hegui's paraphrase, in English and Chinese) and, in hegui's namespace,
// its vendor part and operator part.
func (d *docs) catalog(f framework) *oscaltypes.Catalog {
	c := f.catalog
	var groups []oscaltypes.Group
	index := map[string]int{}
	for i, ctl := range c.Controls {
		g, ok := index[ctl.Group.EN]
		if !ok {
			g = len(groups)
			index[ctl.Group.EN] = g
			groups = append(groups, oscaltypes.Group{Title: titleOf(ctl.Group), Controls: &[]oscaltypes.Control{}})
		}
		*groups[g].Controls = append(*groups[g].Controls, d.control(f, ctl, i))
	}
	meta := &props{}
	meta.hegui("catalog-id", c.ID).hegui("catalog-revision", strconv.Itoa(c.Revision))
	for _, a := range c.Aliases {
		meta.hegui("catalog-alias", a)
	}
	remarks := bilingual(c.Scope) + "\n\nThe control texts are hegui's paraphrases, not the standard's own text. " +
		"Each control's vendor part and operator part (in the namespace " + Namespace + ") say what a software delivery can show of it and what only the operator of the running system can." +
		"\n\nChecked against:\n\n" + bullets(c.Sources)
	return &oscaltypes.Catalog{
		UUID: d.id("catalog/" + c.ID),
		Metadata: oscaltypes.Metadata{
			Title:        "hegui catalog " + c.ID + " (revision " + strconv.Itoa(c.Revision) + "): " + titleOf(c.Name),
			LastModified: d.finished,
			Version:      strconv.Itoa(c.Revision),
			OscalVersion: Version,
			Props:        meta.list(),
			Remarks:      remarks,
		},
		Groups: some(groups),
	}
}

func (d *docs) control(f framework, ctl compliance.Control, i int) oscaltypes.Control {
	id := f.source.controlID(ctl.ID)
	p := &props{}
	p.oscal("label", ctl.ID).oscal("sort-id", fmt.Sprintf("%03d", i+1))
	if ctl.Ref != "" {
		p.add(refProperty(f.catalog.ID, ctl.Ref))
	}
	p.hegui("modal", ctl.Modal)
	vendor := oscaltypes.Part{ID: id + "_vendor", Ns: Namespace, Name: "vendor-part", Title: "Vendor part (供应商部分)"}
	vp := &props{}
	if na := ctl.Vendor.NotApplicable; na != nil {
		vendor.Prose = "Not applicable (不适用): " + bilingual(*na)
		vp.hegui("vendor-status", string(format.ControlNotApplicable))
	} else {
		vendor.Prose = bilingual(ctl.Vendor.Covers)
		for _, r := range ctl.Vendor.Evidence {
			vp.hegui("evidence-rule", r)
		}
		if ctl.Vendor.Runtime != "" {
			vp.hegui("evidence-rule", compliance.RuntimeRule).hegui("runtime-capability", ctl.Vendor.Runtime)
		}
		if len(ctl.Vendor.Documents) > 0 {
			vp.hegui("evidence-rule", compliance.DocumentsRule)
			for _, k := range ctl.Vendor.Documents {
				vp.hegui("document-kind", k)
			}
		}
		if a := ctl.Vendor.Attest; a != nil {
			vp.hegui("evidence-rule", compliance.VendorStatementRule)
			vendor.Prose += " The vendor's signed statement must say: " + bilingual(*a)
		}
	}
	vendor.Props = vp.list()
	return oscaltypes.Control{
		ID:    id,
		Title: ctl.ID,
		Props: p.list(),
		Parts: &[]oscaltypes.Part{
			{ID: f.source.statementID(ctl.ID), Name: "statement", Prose: bilingual(ctl.Text)},
			vendor,
			{ID: id + "_operator", Ns: Namespace, Name: "operator-part", Title: "Operator part (运营者部分)", Prose: bilingual(ctl.Operator)},
		},
	}
}

// titleOf is a one-line title in English and Chinese.
func titleOf(t format.Text) string {
	if t.ZH == "" || t.ZH == t.EN {
		return t.EN
	}
	return t.EN + " (" + t.ZH + ")"
}

// bullets is a Markdown list.
func bullets(items []string) string {
	var b strings.Builder
	for _, s := range items {
		b.WriteString("- " + strings.TrimSpace(s) + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
