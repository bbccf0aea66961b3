package report

import (
	"testing"

	"hegui.dev/hegui/internal/golden"
)

// TestMarkdownGolden renders the sample report as `hegui report --format md`
// does.
func TestMarkdownGolden(t *testing.T) {
	golden.Check(t, "report.md.golden", Markdown(sample()))
}
