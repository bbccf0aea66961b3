package compliance

import (
	"fmt"
	"strings"

	"hegui.dev/hegui/internal/format"
)

// Evaluate decides every control of the catalogs from the evidence.
func Evaluate(cats []*Catalog, e *Evidence) []format.Framework {
	out := make([]format.Framework, 0, len(cats))
	for _, c := range cats {
		f := format.Framework{ID: c.ID, Revision: c.Revision, Name: c.Name, Scope: c.Scope, Controls: []format.ControlOutcome{}}
		for _, ctl := range c.Controls {
			o := format.ControlOutcome{ID: ctl.ID, Ref: ctl.Ref, Group: ctl.Group, Modal: ctl.Modal, Text: ctl.Text,
				Manual: ctl.Manual, Runtime: ctl.Runtime, Rules: []format.RuleResult{}}
			for _, id := range ctl.Evidence {
				r := rules[id](e)
				r.Rule = id
				o.Rules = append(o.Rules, r)
			}
			if ctl.Runtime != "" {
				o.RuntimePackage = format.RuntimeCapabilities[ctl.Runtime]
				if bins := e.RuntimeLinked[o.RuntimePackage]; len(bins) > 0 {
					o.RuntimeLinkedBy = bins
					o.Rules = append(o.Rules, runtimeRule(o.RuntimePackage, bins, e))
				}
			}
			o.Status = status(o.Rules, ctl.Partial)
			switch o.Status {
			case format.Evidenced:
				f.Counts.Evidenced++
			case format.Partial:
				f.Counts.Partial++
			case format.NotEvidenced:
				f.Counts.NotEvidenced++
			default:
				f.Counts.Manual++
			}
			f.Controls = append(f.Controls, o)
		}
		out = append(out, f)
	}
	return out
}

// status combines rule verdicts: all evidenced is evidenced (partial when
// the rules can only ever show part of the control), none is not
// evidenced, anything between is partial; no rules needs a manual statement.
func status(rs []format.RuleResult, partialOnly bool) string {
	if len(rs) == 0 {
		return format.Manual
	}
	evidenced, some := 0, 0
	for _, r := range rs {
		switch r.Status {
		case format.Evidenced:
			evidenced++
			some++
		case format.Partial:
			some++
		}
	}
	switch {
	case evidenced == len(rs) && !partialOnly:
		return format.Evidenced
	case some > 0:
		return format.Partial
	}
	return format.NotEvidenced
}

// runtimeRule is the runtime part of a control: implemented, because the
// binaries link the package that provides it, but only partly evidenced,
// since linking a package does not show how the running service
// configures it.
func runtimeRule(pkg string, bins []string, e *Evidence) format.RuleResult {
	r := result(format.Partial,
		fmt.Sprintf("%s links %s: the capability is built into the service; how it is configured must be shown in the running system", strings.Join(bins, ", "), pkg),
		fmt.Sprintf("%s 链接了 %s：该能力已内置于服务中；其配置须在运行系统中说明", strings.Join(bins, "、"), pkg),
		e, format.ReportJSONFile)
	r.Rule = "runtime-package"
	return r
}
