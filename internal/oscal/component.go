package oscal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	oscaltypes "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/format"
)

// ImplementationState is the OSCAL implementation-status state of a vendor
// part: implemented when it is evidenced, or attested by the vendor's
// signed statement (StateRemarks tells them apart); partial when it is a
// gap some of whose rules hold, planned when none does (the remarks say
// what the vendor can do); not-applicable when a delivery can show nothing
// of the control.
func ImplementationState(v format.VendorPart) string {
	switch v.Status {
	case format.Evidenced, format.Attested:
		return "implemented"
	case format.ControlNotApplicable:
		return "not-applicable"
	}
	for _, r := range v.Rules {
		if r.Status == format.Evidenced {
			return "partial"
		}
	}
	return "planned"
}

// StateRemarks say what the implementation-status of a vendor part means.
func StateRemarks(v format.VendorPart) string {
	if v.Status == format.Attested {
		return "The vendor states it in a statement signed with the delivery's keys (attested), which stands in where no artefact can show it; it is not evidenced by an artefact. The operator part is not included."
	}
	return stateRemarks[ImplementationState(v)]
}

// stateRemarks say what an implementation-status state of a vendor part
// means; the operator part is never part of it.
var stateRemarks = map[string]string{
	"implemented":    "The vendor part is evidenced: every rule holds. The operator part is not included.",
	"partial":        "The vendor part is a gap: some rules hold, others do not (see the remarks). The operator part is not included.",
	"planned":        "The vendor part is a gap and no rule holds. OSCAL has no \"not implemented\" state: the remarks say what the vendor can do, which is not a commitment that it will. The operator part is not included.",
	"not-applicable": "A delivery can show nothing of this control (see the description); the control rests on the operator part alone.",
}

// componentDefinition is the supplier's model: the delivered software as
// one component with, for each framework, how it implements each control:
// the vendor part, provided by the vendor, and the operator part, a
// statement that is the operator's responsibility. catalogs are the
// catalog files hegui makes, by path, cited with their digests.
func (d *docs) componentDefinition(catalogs map[string][]byte) *oscaltypes.ComponentDefinition {
	r := d.report
	var impls []oscaltypes.ControlImplementationSet
	var resources []oscaltypes.Resource
	for _, f := range d.frameworks {
		impls = append(impls, d.controlImplementation(f))
		if data, ok := catalogs[f.source.href]; ok {
			resources = append(resources, d.catalogResource(f, data))
		}
	}
	comp := oscaltypes.DefinedComponent{
		UUID:  d.id("component/delivered"),
		Type:  "software",
		Title: r.Project + " " + r.Version.Version,
		Description: fmt.Sprintf("The software %s delivers as %s %s: module %s, built and signed by hegui deliver. "+
			"Its manifest.json (SHA-256 %s) lists every delivered file with its SHA-256 and SM3.",
			r.Project, r.Project, r.Version.Version, r.Module, d.manifestFE.SHA256),
		Purpose:                "The vendor delivers it; the operator deploys and runs it in its own system.",
		Props:                  d.componentProps().list(),
		ResponsibleRoles:       &[]oscaltypes.ResponsibleRole{{RoleId: RoleProvider}},
		ControlImplementations: some(impls),
	}
	return &oscaltypes.ComponentDefinition{
		UUID: d.id("component-definition"),
		Metadata: oscaltypes.Metadata{
			Title:        "Component definition of " + r.Project + " " + r.Version.Version + ": the vendor's part of each control, and the operator's",
			LastModified: d.finished,
			Version:      r.Version.Version,
			OscalVersion: Version,
			Props:        d.deliveryProps().list(),
			Roles:        roles(),
			Remarks: "Written by hegui from the delivery's report.json and manifest.json. Each implemented requirement is the vendor part " +
				"of a control, decided from the delivery (its implementation-status, in hegui's namespace, is the vendor part's alone), " +
				"and a statement that is the operator's responsibility (the operator part), which no delivery completes. " +
				"The catalogs the control implementations point to are hegui's (catalogs/*.json beside this file) except SSDF, which is NIST's.",
		},
		Components: &[]oscaltypes.DefinedComponent{comp},
		BackMatter: backMatter(resources),
	}
}

// componentProps name the delivered software.
func (d *docs) componentProps() *props {
	p := &props{}
	p.oscal("version", d.report.Version.Version)
	*p = append(*p, *d.deliveryProps()...)
	return p
}

// controlImplementation is one framework's controls as the component
// implements them.
func (d *docs) controlImplementation(f framework) oscaltypes.ControlImplementationSet {
	c, o := f.catalog, f.outcome
	p := &props{}
	p.hegui("catalog-id", c.ID).hegui("catalog-revision", strconv.Itoa(c.Revision))
	var reqs []oscaltypes.ImplementedRequirementControlImplementation
	for _, ctl := range o.Controls {
		reqs = append(reqs, d.implementedRequirement(f, ctl))
	}
	// The supplier's model says nothing of the operator's system: the
	// counts of operator evidence stay out of it.
	sum := o.Summary
	sum.OperatorEvidence, sum.OperatorEvidenceFailing = 0, 0
	return oscaltypes.ControlImplementationSet{
		UUID:   d.id("control-implementation/" + c.ID),
		Source: f.source.href,
		Description: titleOf(o.Name) + ": the vendor part of each control as this delivery shows it, and the operator part, which is the operator's responsibility.\n\n" +
			bilingual(sum.Sentence()),
		Props:                   p.list(),
		ImplementedRequirements: reqs,
	}
}

func (d *docs) implementedRequirement(f framework, ctl format.ControlOutcome) oscaltypes.ImplementedRequirementControlImplementation {
	v := ctl.Vendor
	name := f.catalog.ID + "/" + ctl.ID
	p := &props{}
	state := ImplementationState(v)
	p.add(oscaltypes.Property{Ns: Namespace, Name: "implementation-status", Value: state, Remarks: StateRemarks(v)})
	p.hegui("vendor-status", string(v.Status)).hegui("operator-status", string(ctl.Operator.Status)).hegui("control-label", ctl.ID)
	if ctl.Ref != "" {
		p.add(refProperty(f.catalog.ID, ctl.Ref))
	}
	for _, r := range v.Rules {
		p.add(oscaltypes.Property{Ns: Namespace, Name: "evidence-rule", Class: string(r.Status), Value: r.Rule})
	}
	p.hegui("runtime-package", v.RuntimePackage)
	req := oscaltypes.ImplementedRequirementControlImplementation{
		UUID:        d.id("implemented-requirement/" + name),
		ControlId:   f.source.controlID(ctl.ID),
		Description: vendorDescription(v),
		Props:       p.list(),
		Remarks:     ruleRemarks(v),
		Statements: &[]oscaltypes.ControlStatementImplementation{{
			UUID:        d.id("statement/" + name),
			StatementId: f.source.statementID(ctl.ID),
			Description: "Operator part (运营者部分), the operator's responsibility (customer responsibility), to complete: " + bilingual(ctl.Operator.Statement),
			Props:       (&props{}).hegui("responsibility", RoleOperator).hegui("operator-status", string(ctl.Operator.Status)).list(),
			ResponsibleRoles: &[]oscaltypes.ResponsibleRole{{RoleId: RoleOperator,
				Remarks: "A delivery never completes this part: only the operator of the running system can show it."}},
		}},
	}
	if v.Status != format.ControlNotApplicable {
		req.ResponsibleRoles = &[]oscaltypes.ResponsibleRole{{RoleId: RoleProvider}}
	}
	return req
}

// vendorDescription says what the vendor part is and its status.
func vendorDescription(v format.VendorPart) string {
	if v.Status == format.ControlNotApplicable {
		reason := ""
		if v.Reason != nil {
			reason = bilingual(*v.Reason)
		}
		return "Vendor part (供应商部分): not applicable (不适用). " + reason
	}
	d := "Vendor part (供应商部分), " + string(v.Status) + ": " + bilingual(v.Covers)
	if v.Attest != nil {
		d += " The vendor's statement must say: " + bilingual(*v.Attest)
		if v.Attestation != nil {
			d += " Signed statement: " + v.Attestation.File + "."
		}
	}
	return d
}

// ruleRemarks lists a vendor part's rules: what each found, and for a
// gap what the vendor can do.
func ruleRemarks(v format.VendorPart) string {
	var b strings.Builder
	for _, r := range v.Rules {
		fmt.Fprintf(&b, "- %s (%s): %s", r.Rule, r.Status, oneLine(r.Detail))
		if r.Remedy != nil {
			fmt.Fprintf(&b, " What to do: %s", oneLine(*r.Remedy))
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// oneLine is a text in English, then Chinese, on one line.
func oneLine(t format.Text) string { return strings.ReplaceAll(bilingual(t), "\n\n", " / ") }

// catalogResource cites a catalog file hegui wrote with its digests.
func (d *docs) catalogResource(f framework, data []byte) oscaltypes.Resource {
	sum := sha256.Sum256(data)
	sm3 := digest.SM3.New()
	sm3.Write(data)
	return oscaltypes.Resource{
		UUID:        d.id("resource/catalog/" + f.catalog.ID),
		Title:       "hegui catalog " + f.catalog.ID + ", revision " + strconv.Itoa(f.catalog.Revision) + " (OSCAL)",
		Description: "The OSCAL catalog the control implementation of " + f.catalog.ID + " points to, written beside this component definition.",
		Props:       (&props{}).oscal("type", "standard").hegui("sm3", hex.EncodeToString(sm3.Sum(nil))).list(),
		Rlinks: &[]oscaltypes.ResourceLink{{Href: f.source.href, MediaType: "application/json",
			Hashes: &[]oscaltypes.Hash{{Algorithm: "SHA-256", Value: hex.EncodeToString(sum[:])}}}},
	}
}

func backMatter(resources []oscaltypes.Resource) *oscaltypes.BackMatter {
	if len(resources) == 0 {
		return nil
	}
	return &oscaltypes.BackMatter{Resources: &resources}
}
