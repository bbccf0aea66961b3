// Package compliance maps a delivery's evidence to the controls of
// compliance frameworks. The frameworks are catalogs of controls (package
// catalogs, YAML data). Each control has a vendor part, which names the
// evidence rules (rules.go) that decide from the delivery's artefacts
// whether the vendor has shown it (evidenced, citing the files and their
// digests) or not (a gap, with what to do), or says why the control has no
// vendor part; and an operator part, the statement only the operator of
// the running system can make, which a delivery never completes.
package compliance

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"hegui.dev/hegui/catalogs"
	"hegui.dev/hegui/internal/format"
)

// CatalogSchema is the catalog file format this hegui reads.
const CatalogSchema = "hegui.dev/catalog/v2"

// Catalog is one framework's controls.
type Catalog struct {
	Schema   string      `yaml:"schema" json:"-"`
	ID       string      `yaml:"id" json:"id"`
	Aliases  []string    `yaml:"aliases" json:"aliases,omitempty"`
	Revision int         `yaml:"revision" json:"revision"`
	Name     format.Text `yaml:"name" json:"name"`
	Scope    format.Text `yaml:"scope" json:"scope"`
	Sources  []string    `yaml:"sources" json:"-"`
	Controls []Control   `yaml:"controls" json:"-"`
}

// Control is one requirement, split into the vendor's part and the
// operator's.
type Control struct {
	ID    string      `yaml:"id"`
	Ref   string      `yaml:"ref"`
	Group format.Text `yaml:"group"`
	Modal string      `yaml:"modal"`
	Text  format.Text `yaml:"text"`
	// Vendor is what a delivery can show.
	Vendor VendorPart `yaml:"vendor"`
	// Operator is the statement only the operator can make, prefilled
	// with what it must say.
	Operator format.Text `yaml:"operator"`
	// OperatorEvidence are the kinds of operator evidence
	// (format.OperatorEvidenceKinds) shown beside the operator part when
	// the operator attaches them to the report.
	OperatorEvidence []string `yaml:"operatorEvidence"`
}

// VendorPart is the vendor's part of a control: the rules that evidence
// it (Evidence; Runtime, a runtime package a binary must link; Documents,
// the kinds of document the delivery must carry), with what they cover;
// or what a signed vendor statement must say where no artefact can show it
// (Attest); or, when the control has no vendor part, why (NotApplicable).
type VendorPart struct {
	Covers        format.Text  `yaml:"covers"`
	Evidence      []string     `yaml:"evidence"`
	Runtime       string       `yaml:"runtime"`
	Documents     []string     `yaml:"documents"`
	Attest        *format.Text `yaml:"attest"`
	NotApplicable *format.Text `yaml:"notApplicable"`
}

// Catalogs reads and checks every catalog shipped with hegui, sorted by id.
func Catalogs() ([]*Catalog, error) {
	return load(catalogs.Files)
}

func load(fsys fs.FS) ([]*Catalog, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*Catalog
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		c, err := ParseCatalog(data)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		for _, id := range append([]string{c.ID}, c.Aliases...) {
			if other, dup := seen[strings.ToLower(id)]; dup && other != c.ID {
				return nil, fmt.Errorf("catalog %s: id or alias %q is also %s's", name, id, other)
			}
			seen[strings.ToLower(id)] = c.ID
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ParseCatalog decodes and checks one catalog.
func ParseCatalog(data []byte) (*Catalog, error) {
	var c Catalog
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(yaml.FormatError(err, false, false), "\n", " "))
	}
	if c.Schema != CatalogSchema {
		return nil, fmt.Errorf("schema %q, want %q", c.Schema, CatalogSchema)
	}
	if c.ID == "" || c.Revision < 1 || c.Name.EN == "" || c.Name.ZH == "" || len(c.Controls) == 0 {
		return nil, fmt.Errorf("id, revision, name (en and zh) and controls are required")
	}
	ids := map[string]bool{}
	for i := range c.Controls {
		ctl := &c.Controls[i]
		where := fmt.Sprintf("control %d (%s)", i+1, ctl.ID)
		switch {
		case ctl.ID == "":
			return nil, fmt.Errorf("control %d has no id", i+1)
		case ids[ctl.ID]:
			return nil, fmt.Errorf("%s: id used twice", where)
		case ctl.Text.EN == "" || ctl.Text.ZH == "":
			return nil, fmt.Errorf("%s: text needs en and zh", where)
		case ctl.Group.EN == "" || ctl.Group.ZH == "":
			return nil, fmt.Errorf("%s: group needs en and zh", where)
		case ctl.Modal != "" && !slices.Contains([]string{"shall", "should", "may"}, ctl.Modal):
			return nil, fmt.Errorf("%s: modal %q: want shall, should or may", where, ctl.Modal)
		case ctl.Operator.EN == "" || ctl.Operator.ZH == "":
			return nil, fmt.Errorf("%s: the operator part needs en and zh", where)
		}
		if err := ctl.Vendor.check(); err != nil {
			return nil, fmt.Errorf("%s: vendor part: %w", where, err)
		}
		for _, k := range ctl.OperatorEvidence {
			if !slices.Contains(format.OperatorEvidenceKinds, k) {
				return nil, fmt.Errorf("%s: operatorEvidence %q: want one of %s", where, k, strings.Join(format.OperatorEvidenceKinds, ", "))
			}
		}
		ids[ctl.ID] = true
	}
	return &c, nil
}

func (v *VendorPart) check() error {
	v.Evidence = slices.DeleteFunc(v.Evidence, func(r string) bool { return r == "" })
	hasRules := len(v.Evidence) > 0 || v.Runtime != "" || len(v.Documents) > 0
	switch {
	case v.NotApplicable != nil && (hasRules || v.Attest != nil):
		return fmt.Errorf("notApplicable excludes evidence, runtime, documents and attest")
	case v.NotApplicable != nil && (v.NotApplicable.EN == "" || v.NotApplicable.ZH == ""):
		return fmt.Errorf("notApplicable needs en and zh")
	case v.NotApplicable != nil:
		return nil
	case v.Attest != nil && hasRules:
		return fmt.Errorf("attest excludes evidence, runtime and documents: a statement never stands in for evidence")
	case v.Attest != nil && (v.Attest.EN == "" || v.Attest.ZH == ""):
		return fmt.Errorf("attest needs en and zh: what the vendor's statement must say")
	case v.Attest != nil:
		return nil
	case !hasRules:
		return fmt.Errorf("give evidence rules (or a runtime capability or documents), a statement to attest, or say why it is notApplicable")
	case v.Covers.EN == "" || v.Covers.ZH == "":
		return fmt.Errorf("covers needs en and zh: what the rules show of the control")
	case v.Runtime != "" && format.RuntimeCapabilities[v.Runtime] == "":
		return fmt.Errorf("runtime %q: want one of %s", v.Runtime, strings.Join(format.RuntimeCapabilityNames(), ", "))
	}
	for _, k := range v.Documents {
		if !slices.Contains(format.DocumentKinds, k) {
			return fmt.Errorf("document kind %q: want one of %s", k, strings.Join(format.DocumentKinds, ", "))
		}
	}
	seen := map[string]bool{}
	for _, r := range v.Evidence {
		if _, ok := rules[r]; !ok {
			return fmt.Errorf("unknown evidence rule %q", r)
		}
		if seen[r] {
			return fmt.Errorf("rule %q named twice", r)
		}
		seen[r] = true
	}
	return nil
}

// Select returns the catalogs named by ids or aliases (case-insensitive),
// in the order given; no names selects all.
func Select(all []*Catalog, names []string) ([]*Catalog, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []*Catalog
	for _, n := range names {
		var found *Catalog
		for _, c := range all {
			if strings.EqualFold(c.ID, n) || slices.ContainsFunc(c.Aliases, func(a string) bool { return strings.EqualFold(a, n) }) {
				found = c
			}
		}
		if found == nil {
			var known []string
			for _, c := range all {
				known = append(known, c.ID)
			}
			return nil, fmt.Errorf("unknown framework %q (known: %s)", n, strings.Join(known, ", "))
		}
		if !slices.Contains(out, found) {
			out = append(out, found)
		}
	}
	return out, nil
}

// FindControl returns the control named by "FRAMEWORK:CONTROL", the
// framework given by id or alias.
func FindControl(cats []*Catalog, ref string) (*Catalog, *Control, error) {
	fw, id, err := format.ParseControlRef(ref)
	if err != nil {
		return nil, nil, err
	}
	sel, err := Select(cats, []string{fw})
	if err != nil {
		return nil, nil, err
	}
	c := sel[0]
	for i := range c.Controls {
		if c.Controls[i].ID == id {
			return c, &c.Controls[i], nil
		}
	}
	return nil, nil, fmt.Errorf("%s has no control %q (hegui report lists them)", c.ID, id)
}

// WhyNoStatement says why a control's vendor part takes no signed
// statement: it has none, or evidence shows it, which a statement never
// stands in for.
func WhyNoStatement(ctl *Control) string {
	if ctl.Vendor.NotApplicable != nil {
		return "the control has no vendor part (" + ctl.Vendor.NotApplicable.EN + ")"
	}
	rules := slices.Clone(ctl.Vendor.Evidence)
	if ctl.Vendor.Runtime != "" {
		rules = append(rules, RuntimeRule+" ("+ctl.Vendor.Runtime+")")
	}
	if len(ctl.Vendor.Documents) > 0 {
		rules = append(rules, DocumentsRule+" ("+strings.Join(ctl.Vendor.Documents, ", ")+")")
	}
	return "its vendor part is shown by evidence (" + strings.Join(rules, ", ") + "), which a statement cannot stand in for"
}
