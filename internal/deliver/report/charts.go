package report

import (
	"fmt"
	"html/template"
	"strings"

	"hegui.dev/hegui/internal/compliance"
)

// statusLabels name control statuses in Chinese and English.
var statusLabels = map[string]string{
	compliance.Evidenced:    "已有证据 evidenced",
	compliance.Partial:      "部分证据 partly evidenced",
	compliance.NotEvidenced: "无证据 not evidenced",
	compliance.Manual:       "需人工声明 manual statement",
}

// statusColors are the chart colours of the statuses (the page's palette).
var statusColors = map[string]string{
	compliance.Evidenced:    "#1a7f37",
	compliance.Partial:      "#bf8700",
	compliance.NotEvidenced: "#cf222e",
	compliance.Manual:       "#8c959f",
}

var chartOrder = []string{compliance.Evidenced, compliance.Partial, compliance.NotEvidenced, compliance.Manual}

func countOf(c compliance.Counts, status string) int {
	switch status {
	case compliance.Evidenced:
		return c.Evidenced
	case compliance.Partial:
		return c.Partial
	case compliance.NotEvidenced:
		return c.NotEvidenced
	}
	return c.Manual
}

// coverageChart draws one stacked bar per framework, as inline SVG: how
// many of its controls the delivery evidences, partly evidences, does not
// evidence, or leaves to a manual statement.
func coverageChart(fs []compliance.Framework) template.HTML {
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
