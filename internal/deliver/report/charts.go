package report

import (
	"fmt"
	"html/template"
	"strings"

	"hegui.dev/hegui/internal/format"
)

// statusLabels name control statuses in Chinese and English.
var statusLabels = map[string]string{
	format.Evidenced:    "已有证据 evidenced",
	format.Partial:      "部分证据 partly evidenced",
	format.NotEvidenced: "无证据 not evidenced",
	format.Manual:       "需人工声明 manual statement",
}

// statusColors are the chart colours of the statuses (the page's palette).
var statusColors = map[string]string{
	format.Evidenced:    "#1a7f37",
	format.Partial:      "#bf8700",
	format.NotEvidenced: "#cf222e",
	format.Manual:       "#8c959f",
}

var chartOrder = []string{format.Evidenced, format.Partial, format.NotEvidenced, format.Manual}

func countOf(c format.ControlCounts, status string) int {
	switch status {
	case format.Evidenced:
		return c.Evidenced
	case format.Partial:
		return c.Partial
	case format.NotEvidenced:
		return c.NotEvidenced
	}
	return c.Manual
}

// coverageChart draws one stacked bar per framework, as inline SVG: how
// many of its controls the delivery evidences, partly evidences, does not
// evidence, or leaves to a manual statement.
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
	fmt.Fprintf(&b, `<title>合规覆盖 Compliance coverage</title>`)
	for i, f := range fs {
		y := top + i*rowH
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="12" dominant-baseline="middle">%s</text>`, y+10, template.HTMLEscapeString(shorten(f.Name.ZH, 28)))
		total := f.Counts.Total()
		x := float64(labelW)
		for _, st := range chartOrder {
			n := countOf(f.Counts, st)
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
	for _, st := range chartOrder {
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
