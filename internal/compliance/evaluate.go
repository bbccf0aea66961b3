package compliance

import (
	"fmt"
	"slices"
	"strings"

	"hegui.dev/hegui/internal/format"
)

// Evaluate decides the vendor part of every control of the catalogs from
// the evidence, and lists every operator part as still to complete, with
// the operator evidence its control accepts beside it.
func Evaluate(cats []*Catalog, e *Evidence) []format.Framework {
	out := make([]format.Framework, 0, len(cats))
	for _, c := range cats {
		f := format.Framework{ID: c.ID, Revision: c.Revision, Name: c.Name, Scope: c.Scope, Controls: []format.ControlOutcome{}}
		for _, ctl := range c.Controls {
			o := format.ControlOutcome{ID: ctl.ID, Ref: ctl.Ref, Group: ctl.Group, Modal: ctl.Modal, Text: ctl.Text,
				Vendor:   vendorPart(format.ControlRef(c.ID, ctl.ID), ctl.Vendor, e),
				Operator: operatorPart(ctl, e)}
			f.Summary.Controls++
			f.Summary.Vendor.Add(o.Vendor.Status)
			f.Summary.OperatorToComplete++
			if len(o.Operator.Evidence) > 0 {
				f.Summary.OperatorEvidence++
				if o.Operator.Failing() {
					f.Summary.OperatorEvidenceFailing++
				}
			}
			f.Controls = append(f.Controls, o)
		}
		out = append(out, f)
	}
	return out
}

// operatorPart is the control's statement for the operator to complete,
// with the operator evidence of the kinds the control accepts beside it.
func operatorPart(ctl Control, e *Evidence) format.OperatorPart {
	p := format.OperatorPart{Status: format.ToComplete, Statement: ctl.Operator}
	for _, oe := range e.Operator {
		if slices.Contains(ctl.OperatorEvidence, oe.Kind) {
			p.Evidence = append(p.Evidence, oe.Citation())
		}
	}
	return p
}

// vendorPart decides the vendor part of the control ref
// ("FRAMEWORK:CONTROL"): evidenced when every rule holds, a gap when one
// does not; attested when it takes a statement and the delivery carries
// one, a gap when it does not.
func vendorPart(ref string, v VendorPart, e *Evidence) format.VendorPart {
	if v.NotApplicable != nil {
		return format.VendorPart{Status: format.ControlNotApplicable, Reason: v.NotApplicable, Rules: []format.RuleResult{}}
	}
	if v.Attest != nil {
		return attestedPart(ref, v, e)
	}
	p := format.VendorPart{Status: format.Evidenced, Covers: v.Covers, Rules: []format.RuleResult{}, Runtime: v.Runtime}
	if len(v.Documents) > 0 {
		p.Rules = append(p.Rules, documentsRule(ref, v.Documents, e))
	}
	for _, id := range v.Evidence {
		r := rules[id](e)
		r.Rule = id
		p.Rules = append(p.Rules, r)
	}
	if v.Runtime != "" {
		p.RuntimePackage = format.RuntimeCapabilities[v.Runtime]
		p.RuntimeLinkedBy = e.RuntimeLinked[p.RuntimePackage]
		p.Rules = append(p.Rules, runtimeRule(v.Runtime, p.RuntimePackage, p.RuntimeLinkedBy, e))
	}
	for _, r := range p.Rules {
		if r.Status != format.Evidenced {
			p.Status = format.Gap
		}
	}
	return p
}

// RuntimeRule is the id of the rule a vendor part's runtime capability
// adds.
const RuntimeRule = "runtime-package"

// runtimeRule holds when a delivered binary links the package that
// provides the capability (its build information says so). It shows that
// the service has the capability built in; how the running service is
// configured is the operator's part.
func runtimeRule(capability, pkg string, bins []string, e *Evidence) format.RuleResult {
	if len(bins) == 0 {
		r := gap(fmt.Sprintf("no delivered binary links %s, which provides %s", pkg, capability),
			fmt.Sprintf("没有交付的二进制文件链接 %s（提供 %s 能力）", pkg, capability),
			fmt.Sprintf("import %s in the service and use it (docs/runtime.md), then deliver again", pkg),
			fmt.Sprintf("在服务中引入并使用 %s（见 docs/runtime.md），然后重新交付", pkg), e)
		r.Rule = RuntimeRule
		return r
	}
	r := holds(fmt.Sprintf("%s links %s (%s), as its build information records", strings.Join(bins, ", "), pkg, capability),
		fmt.Sprintf("%s 链接了 %s（%s），见其构建信息", strings.Join(bins, "、"), pkg, capability),
		e, format.ReportJSONFile)
	r.Rule = RuntimeRule
	return r
}

// VendorStatementRule and DocumentsRule are the ids of the rules a vendor
// part's attest and documents add.
const (
	VendorStatementRule = "vendor-statement"
	DocumentsRule       = "documents"
)

// attestedPart is a vendor part only a signed vendor statement can show.
func attestedPart(ref string, v VendorPart, e *Evidence) format.VendorPart {
	p := format.VendorPart{Covers: v.Covers, Attest: v.Attest, Rules: []format.RuleResult{}}
	if p.Covers.EN == "" {
		p.Covers = format.Text{EN: "a statement signed by the vendor, which no artefact of the delivery can replace",
			ZH: "由供应商签名的声明，交付物中没有可替代它的制品"}
	}
	if file, ok := e.Attestations[ref]; ok {
		p.Status = format.Attested
		p.Attestation = &format.Citation{File: file, Digest: e.Digest(file)}
		return p
	}
	p.Status = format.Gap
	r := gap("the delivery carries no signed vendor statement for this control", "交付物中没有该控制项的供应商签名声明",
		fmt.Sprintf("state it in hegui.yaml (attestations: - control: %q, statement: …): %s", ref, v.Attest.EN),
		fmt.Sprintf("在 hegui.yaml 中声明（attestations: - control: %q，statement: …）：%s", ref, v.Attest.ZH), e)
	r.Rule = VendorStatementRule
	p.Rules = append(p.Rules, r)
	return p
}

// documentsRule holds when the delivery carries a document of each kind
// the control needs, or documents the vendor tagged with the control.
func documentsRule(ref string, kinds []string, e *Evidence) format.RuleResult {
	var files, missing []string
	tagged := false
	for _, d := range e.Documents {
		if slices.Contains(d.Controls, ref) {
			tagged = true
			files = append(files, d.File)
		}
	}
	for _, k := range kinds {
		found := false
		for _, d := range e.Documents {
			if d.Kind == k {
				found = true
				if !slices.Contains(files, d.File) {
					files = append(files, d.File)
				}
			}
		}
		if !found {
			missing = append(missing, k)
		}
	}
	var r format.RuleResult
	switch {
	case len(missing) == 0 || tagged:
		r = holds(fmt.Sprintf("the delivery carries %s, signed in the manifest", strings.Join(files, ", ")),
			fmt.Sprintf("交付物包含 %s，已列入签名清单", strings.Join(files, "、")), e, files...)
	default:
		r = gap(fmt.Sprintf("the delivery carries no %s document", strings.Join(missing, " or ")),
			fmt.Sprintf("交付物中没有 %s 类文档", strings.Join(missing, "、")),
			fmt.Sprintf("list the documents in hegui.yaml (documents: - path: …, kind: %s, controls: [%q]) and deliver again", missing[0], ref),
			fmt.Sprintf("在 hegui.yaml 中列出文档（documents: - path: …，kind: %s，controls: [%q]），然后重新交付", missing[0], ref), e, files...)
	}
	r.Rule = DocumentsRule
	return r
}
