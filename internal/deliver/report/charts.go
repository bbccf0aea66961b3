package report

import (
	"fmt"
	"html/template"
	"strings"

	"hegui.dev/hegui/internal/format"
)

// statusLabels name the statuses of a control's parts in Chinese and
// English.
var statusLabels = map[format.ControlStatus]string{
	format.Evidenced:            "已有证据 evidenced",
	format.Attested:             "供应商声明 attested",
	format.Gap:                  "存在差距 gap",
	format.ControlNotApplicable: "不适用 not applicable",
	format.ToComplete:           "待运营者完成 to complete",
}

// statusColors are the chart colours of the vendor statuses (the page's
// palette).
var statusColors = map[format.ControlStatus]string{
	format.Evidenced:            "#1a7f37",
	format.Attested:             "#8250df",
	format.Gap:                  "#cf222e",
	format.ControlNotApplicable: "#8c959f",
}

func countOf(c format.VendorCounts, status format.ControlStatus) int {
	switch status {
	case format.Evidenced:
		return c.Evidenced
	case format.Attested:
		return c.Attested
	case format.Gap:
		return c.Gap
	}
	return c.NotApplicable
}

// coverageChart draws one stacked bar per framework, as inline SVG: of
// its controls, how many vendor parts the delivery evidences, how many
// have a gap, and how many have no vendor part. Operator parts are not
// drawn: they are all still to complete.
func coverageChart(fs []format.Framework) template.HTML {
	const (
		labelW = 340
		barW   = 600
		rowH   = 28
		top    = 8
	)
	height := top + rowH*len(fs) + 36
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="compliance coverage" viewBox="0 0 %d %d" width="100%%">`, labelW+barW+60, height)
	fmt.Fprintf(&b, `<title>供应商部分 Vendor part</title>`)
	for i, f := range fs {
		y := top + i*rowH
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="12" dominant-baseline="middle">%s</text>`, y+10, template.HTMLEscapeString(shorten(f.Name.ZH, 28)))
		total := f.Summary.Controls
		x := float64(labelW)
		for _, st := range format.VendorStatuses {
			n := countOf(f.Summary.Vendor, st)
			if n == 0 || total == 0 {
				continue
			}
			w := float64(barW) * float64(n) / float64(total)
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%d" width="%.1f" height="20" fill="%s"><title>%s: %d</title></rect>`,
				st, x, y, w, statusColors[st], statusLabels[st], n)
			if w >= 18 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" fill="#fff" text-anchor="middle" dominant-baseline="middle">%d</text>`, x+w/2, y+10, n)
			}
			x += w
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" dominant-baseline="middle">%d</text>`, labelW+barW+8, y+10, total)
	}
	y := top + len(fs)*rowH + 12
	x := labelW
	for _, st := range format.VendorStatuses {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="11" dominant-baseline="middle">%s</text>`,
			x, y, statusColors[st], x+16, y+6, statusLabels[st])
		x += 165
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
