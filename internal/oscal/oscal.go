// Package oscal writes a delivery's compliance matrix as OSCAL 1.1.3
// documents (NIST's Open Security Controls Assessment Language, JSON), so
// that other compliance tools can read what the delivery shows. It reads
// a report whose matrix is decided (format.Report.Compliance) and the
// delivery's manifest, and writes:
//
//	component-definition.json  the supplier's model: the delivered software as
//	                           a component; for each framework, one
//	                           control-implementation whose implemented
//	                           requirements carry the vendor part (what the
//	                           delivery shows, its implementation-status) and,
//	                           as a statement for the "operator" role, the
//	                           operator part (the customer's responsibility)
//	assessment-results.json    vendor evidence, not an assessment of anyone's
//	                           system: one observation per evidence rule, citing
//	                           its files as back-matter resources with their
//	                           SHA-256 (an OSCAL hash) and SM3 (a property: OSCAL
//	                           has no SM3 hash algorithm); one finding per
//	                           control, satisfied or not
//	catalogs/ID.json           the OSCAL catalogs hegui makes of its own catalogs
//	                           (等保, 密评, SLSA, GDPR, PIPL); SSDF points at
//	                           NIST's own OSCAL catalog of SP 800-218 instead
//
// Implementation status of a vendor part (a property "implementation-status"
// in hegui's namespace, since a component definition has no status
// assembly; its values are OSCAL's implementation-status states):
//
//	evidenced       implemented     every rule holds
//	gap             partial         some rule holds, another does not
//	gap             planned         no rule holds: the remarks say what the vendor
//	                                can do (OSCAL has no "not implemented" state)
//	not-applicable  not-applicable  a delivery can show nothing of the control
//
// A finding is satisfied only when the vendor part is evidenced: a gap is
// not-satisfied (reason fail) and a control without a vendor part is
// not-satisfied (reason other), never counted as done; the operator part
// is never assessed.
//
// The documents are deterministic: every UUID is a version 5 UUID named
// from the SHA-256 of manifest.json and a stable name ("finding/pipl/Art.
// 6"), and every time is read from report.json, so rendering a delivery
// twice gives the same bytes, and another delivery gets other UUIDs.
//
// The package is not for verifying anything: hegui verify checks the
// delivery, and it does not import this package.
package oscal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	oscaltypes "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/format"
)

// Version is the OSCAL version of the documents.
const Version = "1.1.3"

// Namespace qualifies hegui's own property and part names; names without
// it are OSCAL's.
const Namespace = "https://hegui.dev/ns/oscal"

// The files Render writes.
const (
	ComponentDefinitionFile = "component-definition.json"
	AssessmentResultsFile   = "assessment-results.json"
	CatalogDir              = "catalogs"
)

// Input is what the documents are made of.
type Input struct {
	// Report is the delivery's report.json with its compliance matrix
	// decided; its times date the documents.
	Report *format.Report
	// Manifest is the delivery's manifest.json: the digests of every file
	// the matrix cites.
	Manifest *format.Manifest
	// ManifestEntry is manifest.json's own size and digests; its SHA-256
	// names the documents' UUIDs.
	ManifestEntry format.FileEntry
	// Catalogs are the catalogs of Report.Compliance.
	Catalogs []*compliance.Catalog
}

// File is one document: its path in the output directory and its JSON.
type File struct {
	Name string
	Data []byte
}

// Render writes the OSCAL documents of a delivery: the component
// definition, the assessment results, then the catalogs hegui makes, in
// that order.
func Render(in Input) ([]File, error) {
	d, err := newDocs(in)
	if err != nil {
		return nil, err
	}
	var files []File
	add := func(name string, m oscaltypes.OscalModels) error {
		data, err := marshal(m)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files = append(files, File{Name: name, Data: data})
		return nil
	}
	catalogFiles := map[string][]byte{}
	for _, f := range d.frameworks {
		if f.source.external {
			continue
		}
		data, err := marshal(oscaltypes.OscalModels{Catalog: d.catalog(f)})
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", f.catalog.ID, err)
		}
		catalogFiles[f.source.href] = data
	}
	if err := add(ComponentDefinitionFile, oscaltypes.OscalModels{ComponentDefinition: d.componentDefinition(catalogFiles)}); err != nil {
		return nil, err
	}
	ar, err := d.assessmentResults()
	if err != nil {
		return nil, err
	}
	if err := add(AssessmentResultsFile, oscaltypes.OscalModels{AssessmentResults: ar}); err != nil {
		return nil, err
	}
	for _, f := range d.frameworks {
		if data, ok := catalogFiles[f.source.href]; ok {
			files = append(files, File{Name: f.source.href, Data: data})
		}
	}
	return files, nil
}

// docs is what the three kinds of document share.
type docs struct {
	report     *format.Report
	manifest   map[string]format.FileEntry
	ns         uuid.UUID // the delivery's UUID namespace
	frameworks []framework
	manifestFE format.FileEntry
	finished   time.Time
}

// framework is one framework of the matrix with its catalog and where its
// OSCAL catalog is.
type framework struct {
	outcome *format.Framework
	catalog *compliance.Catalog
	source  source
}

// rootNamespace is the namespace of every delivery's UUID namespace.
var rootNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte(Namespace))

func newDocs(in Input) (*docs, error) {
	r := in.Report
	switch {
	case r == nil || in.Manifest == nil:
		return nil, errors.New("a report and a manifest are needed")
	case len(in.ManifestEntry.SHA256) != 64:
		return nil, errors.New("the manifest's SHA-256 is needed: it names the documents")
	case r.Started.IsZero() || r.Finished.IsZero():
		return nil, errors.New("the report has no start or finish time")
	case len(r.Compliance) == 0:
		return nil, errors.New("the report's compliance matrix has no framework")
	}
	d := &docs{
		report:     r,
		manifest:   map[string]format.FileEntry{},
		ns:         uuid.NewSHA1(rootNamespace, []byte("sha256:"+in.ManifestEntry.SHA256)),
		manifestFE: in.ManifestEntry,
		finished:   r.Finished.UTC(),
	}
	for _, f := range in.Manifest.Files {
		d.manifest[f.Path] = f
	}
	for i := range r.Compliance {
		f := &r.Compliance[i]
		var cat *compliance.Catalog
		for _, c := range in.Catalogs {
			if c.ID == f.ID {
				cat = c
			}
		}
		if cat == nil {
			return nil, fmt.Errorf("framework %s: no catalog given for it", f.ID)
		}
		src, err := sourceOf(cat)
		if err != nil {
			return nil, err
		}
		d.frameworks = append(d.frameworks, framework{outcome: f, catalog: cat, source: src})
	}
	return d, nil
}

// id is the UUID of the object called name in this delivery's documents.
func (d *docs) id(name string) string {
	return uuid.NewSHA1(d.ns, []byte(name)).String()
}

// marshal writes an OSCAL document as indented JSON, as it is, without
// HTML escapes.
func marshal(m oscaltypes.OscalModels) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// bilingual is a text in English, then Chinese.
func bilingual(t format.Text) string {
	en, zh := strings.TrimSpace(t.EN), strings.TrimSpace(t.ZH)
	switch {
	case en == "":
		return zh
	case zh == "" || zh == en:
		return en
	}
	return en + "\n\n" + zh
}

// props builds a property list, leaving out empty values (OSCAL values
// are non-empty and trimmed).
type props []oscaltypes.Property

// hegui adds a property in hegui's namespace.
func (p *props) hegui(name, value string) *props {
	return p.add(oscaltypes.Property{Ns: Namespace, Name: name, Value: value})
}

// oscal adds a property in OSCAL's namespace.
func (p *props) oscal(name, value string) *props {
	return p.add(oscaltypes.Property{Name: name, Value: value})
}

func (p *props) add(prop oscaltypes.Property) *props {
	prop.Value = strings.TrimSpace(prop.Value)
	if prop.Value != "" {
		*p = append(*p, prop)
	}
	return p
}

// list is the property list as OSCAL holds it: absent when empty.
func (p props) list() *[]oscaltypes.Property { return some([]oscaltypes.Property(p)) }

// some is s as OSCAL's optional arrays hold it: nil when empty.
func some[T any](s []T) *[]T {
	if len(s) == 0 {
		return nil
	}
	return &s
}

// deliveryProps are the properties naming the delivery in every document.
func (d *docs) deliveryProps() *props {
	r := d.report
	p := &props{}
	p.hegui("module", r.Module).hegui("commit", r.Version.Commit).
		hegui("manifest-sha256", d.manifestFE.SHA256).hegui("manifest-sm3", d.manifestFE.SM3).hegui("hegui-version", r.Hegui)
	if r.Development {
		p.hegui("development-key", "true")
	}
	return p
}

// roles are the parties' roles of the documents: the vendor provides the
// component and its part of each control, the operator deploys and runs
// it and does its part.
func roles() *[]oscaltypes.Role {
	return &[]oscaltypes.Role{
		{ID: RoleProvider, Title: "Provider (供应商): the vendor that delivers the software and evidences its part of each control"},
		{ID: RoleOperator, Title: "Operator (运营者): the organisation that deploys and runs the system; the operator part of each control is its responsibility"},
	}
}

// The roles: OSCAL's "provider" and hegui's "operator".
const (
	RoleProvider = "provider"
	RoleOperator = "operator"
)
