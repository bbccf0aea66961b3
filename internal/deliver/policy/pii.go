package policy

import (
	"fmt"
	"slices"
	"strings"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/pii"
	"hegui.dev/hegui/mask"
)

// piiRemedy is what to do about personal information in a file.
const piiRemedy = "if it is real, remove it (and from the repository's history); if it is synthetic, mark its line pii:ignore, or list the file in pii.exclude in hegui.yaml; policy.pii.fail-on chooses the kinds that fail"

// PII is the gate on personal information in the module's files: one
// violation per file holding findings of the policy's kinds, naming the
// lines and showing the values masked.
func PII(d *delivery.Delivery, p config.PIIPolicy) []format.Violation {
	if d.PII == nil || p.Gate == config.Off {
		return nil
	}
	kinds, err := pii.ParseKinds(p.FailOn)
	if err != nil {
		return nil // validated with the configuration
	}
	var files []string
	byFile := map[string][]pii.Location{}
	for _, l := range d.PII.Gated(kinds) {
		if byFile[l.Path] == nil {
			files = append(files, l.Path)
		}
		byFile[l.Path] = append(byFile[l.Path], l)
	}
	var vs []format.Violation
	for _, f := range files {
		vs = append(vs, format.Violation{
			Rule: "policy.pii", Subject: f, Message: piiMessage(f, byFile[f]), Remedy: piiRemedy,
		})
	}
	if p.Gate == config.Warn && len(vs) > 0 {
		total := 0
		for _, f := range files {
			total += len(byFile[f])
		}
		d.Warn("%d finding(s) of personal information in %d file(s) (%s): listed in %s and the report, not gated (policy.pii.gate: warn)",
			total, len(files), strings.Join(firstN(files, 3), ", "), format.PIIJSONFile)
		return nil
	}
	return vs
}

// piiMessage says what a file holds: counts by kind, the first lines, and
// a few values masked.
func piiMessage(file string, ls []pii.Location) string {
	var kinds []mask.Kind
	count := map[mask.Kind]int{}
	var lines, samples []string
	for _, l := range ls {
		if count[l.Kind] == 0 {
			kinds = append(kinds, l.Kind)
		}
		count[l.Kind]++
		if line := fmt.Sprint(l.Line); !slices.Contains(lines, line) {
			lines = append(lines, line)
		}
		if len(samples) < 3 && !slices.Contains(samples, l.Masked) {
			samples = append(samples, l.Masked)
		}
	}
	var what []string
	for _, k := range kinds {
		what = append(what, fmt.Sprintf("%d %s", count[k], k))
	}
	where := "line"
	if len(lines) > 1 {
		where = "lines"
	}
	shown := firstN(lines, 5)
	return fmt.Sprintf("%s holds personal information: %s (%s %s; %s)",
		file, strings.Join(what, ", "), where, strings.Join(shown, ", "), strings.Join(samples, ", "))
}
