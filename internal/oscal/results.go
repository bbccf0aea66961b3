package oscal

import (
	"fmt"
	"slices"
	"strings"

	oscaltypes "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"

	"hegui.dev/hegui/internal/format"
)

// FindingState is the OSCAL objective status of a control's vendor part:
// satisfied (reason pass) only when it is evidenced; attested by the
// vendor's signed statement is satisfied for reason other (a statement,
// not an artefact); a gap is
// not-satisfied (fail), and so is a control without a vendor part
// (other): nothing of it is shown, so nothing is counted as done.
func FindingState(s format.ControlStatus) (state, reason string) {
	switch s {
	case format.Evidenced:
		return "satisfied", "pass"
	case format.Attested:
		return "satisfied", "other"
	case format.Gap:
		return "not-satisfied", "fail"
	}
	return "not-satisfied", "other"
}

// disclaimer says what the assessment results are and are not; it heads
// the document's remarks.
const disclaimer = "These are the vendor's evidence about its own delivery, decided by hegui from the delivery's artefacts " +
	"when it was made. They are NOT an assessment of the operator's system: 等保 (GB/T 22239) and 密评 (GB/T 39786) assess the system " +
	"as deployed and run, and only an assessor of that system can conclude on it. A finding is about the vendor part of a control " +
	"alone; the operator part of every control remains to be completed by the operator and is not assessed here."

// assessmentResults is the vendor's evidence as OSCAL assessment results:
// one result, the delivery, with an observation per evidence rule (citing
// its files) and a finding per control.
func (d *docs) assessmentResults() (*oscaltypes.AssessmentResults, error) {
	r := d.report
	delivered, tool := d.id("component/delivered"), d.id("component/hegui")
	// manifest.json is the first resource: some rules cite it.
	ev := &evidence{docs: d, list: []oscaltypes.Resource{d.manifestResource()}, resources: map[string]int{format.ManifestFile: 0}}
	observations := map[string]string{} // observation key → UUID
	var obs []oscaltypes.Observation
	var findings []oscaltypes.Finding
	// The operator's evidence first: the findings relate to it.
	var items []oscaltypes.InventoryItem
	operatorObs := map[string]string{} // evidence digest → observation UUID
	operatorTool := d.id("component/operator-tlscheck")
	for _, oe := range r.OperatorEvidence {
		if _, dup := operatorObs["sha256:"+oe.SHA256]; dup {
			continue // the same document given twice is observed once
		}
		o, item := ev.operatorObservation(oe, operatorTool)
		operatorObs["sha256:"+oe.SHA256] = o.UUID
		obs = append(obs, o)
		// An endpoint checked twice is one item observed twice.
		if !slices.ContainsFunc(items, func(i oscaltypes.InventoryItem) bool { return i.UUID == item.UUID }) {
			items = append(items, item)
		}
	}
	var selections []oscaltypes.AssessedControls
	for _, f := range d.frameworks {
		var ids []oscaltypes.AssessedControlsSelectControlById
		for _, ctl := range f.outcome.Controls {
			ids = append(ids, oscaltypes.AssessedControlsSelectControlById{ControlId: f.source.controlID(ctl.ID)})
			var related []oscaltypes.RelatedObservation
			for _, rule := range ctl.Vendor.Rules {
				key := rule.Rule + "/" + string(rule.Status) + "/" + rule.Detail.EN
				id, ok := observations[key]
				if !ok {
					o, err := ev.observation(rule, delivered, tool)
					if err != nil {
						return nil, fmt.Errorf("%s %s: %w", f.catalog.ID, ctl.ID, err)
					}
					id = o.UUID
					observations[key] = id
					obs = append(obs, o)
				}
				related = append(related, oscaltypes.RelatedObservation{ObservationUuid: id})
			}
			for _, c := range ctl.Operator.Evidence {
				id, ok := operatorObs[c.Digest]
				if !ok {
					return nil, fmt.Errorf("%s %s: operator evidence %s is cited but was not given", f.catalog.ID, ctl.ID, c.File)
				}
				if !slices.ContainsFunc(related, func(r oscaltypes.RelatedObservation) bool { return r.ObservationUuid == id }) {
					related = append(related, oscaltypes.RelatedObservation{ObservationUuid: id})
				}
			}
			findings = append(findings, d.finding(f, ctl, related))
		}
		selections = append(selections, oscaltypes.AssessedControls{
			Description:     titleOf(f.outcome.Name) + ": every control of the catalog " + f.source.href,
			Props:           (&props{}).hegui("catalog-id", f.catalog.ID).list(),
			IncludeControls: some(ids),
		})
	}
	noPlan := d.id("resource/no-assessment-plan")
	resources := append([]oscaltypes.Resource{{
		UUID:  noPlan,
		Title: "No assessment plan",
		Description: "hegui deliver gathers this evidence by its own fixed steps (build twice, SBOMs, provenance, vulnerability scan, " +
			"static analysis, policy, signatures) while it makes the delivery; no assessment plan was written for it.",
	}}, ev.list...)
	hegui := oscaltypes.SystemComponent{
		UUID: tool, Type: "software", Title: "hegui " + r.Hegui,
		Description: "The toolchain that made the delivery and decided its evidence rules.",
		Status:      oscaltypes.SystemComponentStatus{State: "operational"},
	}
	software := oscaltypes.SystemComponent{
		UUID: delivered, Type: "software", Title: r.Project + " " + r.Version.Version,
		Description: "The delivered software, module " + r.Module + ": the subject of every observation.",
		Props:       d.componentProps().list(),
		Status:      oscaltypes.SystemComponentStatus{State: "operational"},
	}
	components := []oscaltypes.SystemComponent{software, hegui}
	if len(items) > 0 {
		components = append(components, oscaltypes.SystemComponent{
			UUID: operatorTool, Type: "software", Title: "hegui tlscheck, run by the operator",
			Description: "The TLS endpoint checks the operator ran on the deployed system and attached to these results; hegui judged them again when rendering.",
			Status:      oscaltypes.SystemComponentStatus{State: "operational"},
		})
	}
	end := d.finished
	remarks := disclaimer + "\n\nThe evidence files are cited by their paths inside the delivery directory, as its manifest.json lists them, " +
		"with their SHA-256 and SM3; check the delivery with hegui verify before relying on them."
	description := "The evidence rules hegui decided for the delivery, and for each control of the selected frameworks whether " +
		"they show its vendor part. " + disclaimer
	if len(items) > 0 {
		remarks += "\n\n" + operatorNote
		description += " " + operatorNote
	}
	return &oscaltypes.AssessmentResults{
		UUID: d.id("assessment-results"),
		Metadata: oscaltypes.Metadata{
			Title:        "Vendor evidence for " + r.Project + " " + r.Version.Version + " (not an assessment of the operator's system)",
			LastModified: d.finished,
			Version:      r.Version.Version,
			OscalVersion: Version,
			Props:        d.deliveryProps().list(),
			Remarks:      remarks,
		},
		ImportAp: oscaltypes.ImportAp{Href: "#" + noPlan, Remarks: "There is no assessment plan: see the resource."},
		Results: []oscaltypes.Result{{
			UUID:             d.id("result"),
			Title:            "Delivery " + r.Project + " " + r.Version.Version + ": vendor evidence",
			Description:      description,
			Start:            r.Started.UTC(),
			End:              &end,
			Props:            (&props{}).hegui("policy-verdict", verdict(r.Verdict)).list(),
			LocalDefinitions: &oscaltypes.LocalDefinitions{Components: &components, InventoryItems: some(items)},
			ReviewedControls: oscaltypes.ReviewedControls{ControlSelections: selections},
			Observations:     some(obs),
			Findings:         some(findings),
		}},
		BackMatter: backMatter(resources),
	}, nil
}

func verdict(v format.Verdict) string {
	if v.Passed {
		return "passed"
	}
	return "failed"
}

// finding is what the delivery shows of one control's vendor part.
func (d *docs) finding(f framework, ctl format.ControlOutcome, related []oscaltypes.RelatedObservation) oscaltypes.Finding {
	v := ctl.Vendor
	state, reason := FindingState(v.Status)
	p := &props{}
	p.hegui("catalog-id", f.catalog.ID).hegui("control-label", ctl.ID).hegui("vendor-status", string(v.Status))
	if ctl.Ref != "" {
		p.add(refProperty(f.catalog.ID, ctl.Ref))
	}
	return oscaltypes.Finding{
		UUID:        d.id("finding/" + f.catalog.ID + "/" + ctl.ID),
		Title:       f.catalog.ID + " " + ctl.ID + ": vendor part " + string(v.Status),
		Description: vendorDescription(v),
		Props:       p.list(),
		Target: oscaltypes.FindingTarget{
			Type:                 "statement-id",
			TargetId:             f.source.statementID(ctl.ID),
			Title:                titleOf(ctl.Group) + ": " + ctl.ID,
			Status:               oscaltypes.ObjectiveStatus{State: state, Reason: reason},
			ImplementationStatus: &oscaltypes.ImplementationStatus{State: ImplementationState(v), Remarks: StateRemarks(v)},
		},
		RelatedObservations: some(related),
		Remarks:             "Operator part (运营者部分), to complete by the operator and not assessed here: " + bilingual(ctl.Operator.Statement) + operatorRemarks(ctl.Operator),
	}
}

// operatorNote says what the operator's evidence in the results is.
const operatorNote = "The results also carry evidence the operator attached when rendering them (hegui report --evidence): checks of " +
	"endpoints of the deployed system by hegui tlscheck, each an observation whose subject is the endpoint, judged again by hegui against " +
	"a TLS profile from what the check saw, as of the check (collected after the delivery was made, hence after the result's end). It is " +
	"not part of the delivery, not signed by the vendor, and does not complete any operator part: a finding's objective status is about " +
	"the vendor part alone."

// operatorRemarks lists the operator evidence beside an operator part.
func operatorRemarks(p format.OperatorPart) string {
	s := ""
	for _, c := range p.Evidence {
		s += fmt.Sprintf("\nOperator evidence (%s): %s %s (%s, %s).", c.Kind, c.Subject, c.Verdict().EN, c.File, c.Digest)
	}
	return s
}

// operatorObservation is one file of the operator's evidence: an
// observation of the endpoint it checked (an inventory item of the
// result), citing the file as a back-matter resource with its digests.
func (e *evidence) operatorObservation(oe format.OperatorEvidence, tool string) (oscaltypes.Observation, oscaltypes.InventoryItem) {
	item := oscaltypes.InventoryItem{
		UUID:        e.id("inventory-item/" + oe.Subject),
		Description: "TLS endpoint " + oe.Subject + " of the operator's deployed system, checked by the operator.",
		Props:       (&props{}).hegui("endpoint", oe.Subject).list(),
	}
	p := &props{}
	p.oscal("type", "evidence").hegui("sm3", oe.SM3)
	res := oscaltypes.Resource{
		UUID: e.id("resource/operator-evidence/" + oe.SHA256), Title: oe.File,
		Description: "Evidence the operator attached (hegui tlscheck --json); not part of the delivery, which does not list it.",
		Props:       p.list(),
		Rlinks: &[]oscaltypes.ResourceLink{{Href: oe.File, MediaType: "application/json",
			Hashes: &[]oscaltypes.Hash{{Algorithm: "SHA-256", Value: oe.SHA256}}}},
	}
	e.list = append(e.list, res)
	verdict := "meets"
	if !oe.Meets {
		verdict = "fails"
	}
	desc := oe.Verdict().EN + ": " + bilingual(oe.Summary)
	for _, f := range oe.Findings {
		desc += "\n" + f.Level + " " + f.Rule + ": " + f.Message
	}
	o := oscaltypes.Observation{
		UUID:        e.id("observation/operator-evidence/" + oe.SHA256),
		Title:       "Operator evidence: TLS endpoint " + oe.Subject + " " + oe.Verdict().EN,
		Description: desc,
		Methods:     []string{"TEST"},
		Origins:     &[]oscaltypes.Origin{{Actors: []oscaltypes.OriginActor{{Type: "tool", ActorUuid: tool}}}},
		Subjects:    &[]oscaltypes.SubjectReference{{SubjectUuid: item.UUID, Type: "inventory-item", Title: oe.Subject}},
		Props: (&props{}).hegui("operator-evidence", oe.Kind).hegui("profile", oe.Profile).
			hegui("evidence-status", verdict).list(),
		RelevantEvidence: &[]oscaltypes.RelevantEvidence{{Href: "#" + res.UUID, Description: oe.File + ", SHA-256 " + oe.SHA256 + ", SM3 " + oe.SM3}},
		Collected:        oe.Checked.UTC(),
		Remarks: "Attached by the operator when this document was rendered; not part of the delivery and not signed by the vendor. " +
			"Judged as of the time of the check. Not probed: " + strings.Join(oe.Unprobed, "; ") + ".",
	}
	return o, item
}

// evidence gathers the files the observations cite, as back-matter
// resources.
type evidence struct {
	*docs
	list      []oscaltypes.Resource
	resources map[string]int // file → index in list
}

// observation is one evidence rule's result: what it found, with its
// files.
func (e *evidence) observation(rule format.RuleResult, subject, tool string) (oscaltypes.Observation, error) {
	var cited []oscaltypes.RelevantEvidence
	for _, c := range rule.Evidence {
		res, err := e.resource(c)
		if err != nil {
			return oscaltypes.Observation{}, err
		}
		desc := c.File
		if h, ok := e.listed(c.File); ok {
			desc += ", SHA-256 " + h.SHA256 + ", SM3 " + h.SM3
		}
		cited = append(cited, oscaltypes.RelevantEvidence{Href: "#" + res, Description: desc})
	}
	o := oscaltypes.Observation{
		UUID:             e.id("observation/" + rule.Rule + "/" + string(rule.Status) + "/" + rule.Detail.EN),
		Title:            "Evidence rule " + rule.Rule + ": " + string(rule.Status),
		Description:      bilingual(rule.Detail),
		Methods:          []string{"TEST"},
		Origins:          &[]oscaltypes.Origin{{Actors: []oscaltypes.OriginActor{{Type: "tool", ActorUuid: tool}}}},
		Subjects:         &[]oscaltypes.SubjectReference{{SubjectUuid: subject, Type: "component"}},
		Props:            (&props{}).hegui("evidence-rule", rule.Rule).hegui("rule-status", string(rule.Status)).list(),
		RelevantEvidence: some(cited),
		Collected:        e.finished,
	}
	if rule.Remedy != nil {
		o.Remarks = "What the vendor can do: " + bilingual(*rule.Remedy)
	}
	return o, nil
}

// resource is the back-matter resource of an evidence file: its path in
// the delivery with the manifest's SHA-256 (an OSCAL hash) and SM3 (a
// property in hegui's namespace: OSCAL's hash algorithms are SHA-2 and
// SHA-3, and the lists it defers to for others have no SM3).
func (e *evidence) resource(c format.Citation) (string, error) {
	if i, ok := e.resources[c.File]; ok {
		return e.list[i].UUID, nil
	}
	res := oscaltypes.Resource{UUID: e.id("resource/" + c.File), Title: c.File}
	link := oscaltypes.ResourceLink{Href: c.File, MediaType: mediaType(c.File)}
	p := &props{}
	p.oscal("type", "evidence")
	if h, ok := e.listed(c.File); ok {
		if c.Digest != "" && c.Digest != "sha256:"+h.SHA256 {
			return "", fmt.Errorf("the report cites %s with digest %s, the manifest lists sha256:%s", c.File, c.Digest, h.SHA256)
		}
		link.Hashes = &[]oscaltypes.Hash{{Algorithm: "SHA-256", Value: h.SHA256}}
		p.add(oscaltypes.Property{Ns: Namespace, Name: "sm3", Value: h.SM3,
			Remarks: "SM3 (GB/T 32905-2016) of the file, as manifest.json lists it"})
		res.Description = "A delivered file, listed in manifest.json."
	} else {
		if c.Digest != "" {
			return "", fmt.Errorf("the report cites %s with a digest, but the manifest does not list it", c.File)
		}
		res.Description = "A file written after manifest.json, which therefore does not list it (hegui verify checks it)."
	}
	res.Props = p.list()
	res.Rlinks = &[]oscaltypes.ResourceLink{link}
	e.resources[c.File] = len(e.list)
	e.list = append(e.list, res)
	return res.UUID, nil
}

// listed is the size and digests of a file the manifest lists, or of
// manifest.json itself.
func (d *docs) listed(file string) (format.FileEntry, bool) {
	if file == format.ManifestFile {
		return d.manifestFE, true
	}
	h, ok := d.manifest[file]
	return h, ok
}

// manifestResource cites manifest.json, whose SHA-256 names the documents.
func (d *docs) manifestResource() oscaltypes.Resource {
	return oscaltypes.Resource{
		UUID:        d.id("resource/" + format.ManifestFile),
		Title:       format.ManifestFile,
		Description: "The delivery's signed manifest: every delivered file with its SHA-256 and SM3. Its SHA-256 names every UUID of this document.",
		Props:       (&props{}).oscal("type", "evidence").hegui("sm3", d.manifestFE.SM3).list(),
		Rlinks: &[]oscaltypes.ResourceLink{{Href: format.ManifestFile, MediaType: "application/json",
			Hashes: &[]oscaltypes.Hash{{Algorithm: "SHA-256", Value: d.manifestFE.SHA256}}}},
	}
}

// mediaType is a file's media type, where its name says it.
func mediaType(name string) string {
	switch {
	case strings.HasSuffix(name, ".sarif"):
		return "application/sarif+json"
	case strings.HasSuffix(name, ".json"):
		return "application/json"
	}
	return ""
}
