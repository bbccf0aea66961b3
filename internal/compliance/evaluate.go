package compliance

import (
	"fmt"
	"strings"

	"hegui.dev/hegui/internal/format"
)

// Evaluate decides the vendor part of every control of the catalogs from
// the evidence, and lists every operator part as still to complete.
func Evaluate(cats []*Catalog, e *Evidence) []format.Framework {
	out := make([]format.Framework, 0, len(cats))
	for _, c := range cats {
		f := format.Framework{ID: c.ID, Revision: c.Revision, Name: c.Name, Scope: c.Scope, Controls: []format.ControlOutcome{}}
		for _, ctl := range c.Controls {
			o := format.ControlOutcome{ID: ctl.ID, Ref: ctl.Ref, Group: ctl.Group, Modal: ctl.Modal, Text: ctl.Text,
				Vendor:   vendorPart(ctl.Vendor, e),
				Operator: format.OperatorPart{Status: format.ToComplete, Statement: ctl.Operator}}
			f.Summary.Controls++
			f.Summary.Vendor.Add(o.Vendor.Status)
			f.Summary.OperatorToComplete++
			f.Controls = append(f.Controls, o)
		}
		out = append(out, f)
	}
	return out
}

// vendorPart decides one vendor part: evidenced when every rule holds, a
// gap when one does not.
func vendorPart(v VendorPart, e *Evidence) format.VendorPart {
	if v.NotApplicable != nil {
		return format.VendorPart{Status: format.ControlNotApplicable, Reason: v.NotApplicable, Rules: []format.RuleResult{}}
	}
	p := format.VendorPart{Status: format.Evidenced, Covers: v.Covers, Rules: []format.RuleResult{}, Runtime: v.Runtime}
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
