package verdict

import (
	"fmt"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/format"
)

// TestSummaryIsShort: 40 violations of one rule and 2 of another make a
// summary of a few lines, the shared fix said once, not 42 long lines.
func TestSummaryIsShort(t *testing.T) {
	var vs []format.Violation
	for i := range 40 {
		vs = append(vs, format.Violation{Rule: "policy.static-analysis", Message: fmt.Sprintf("G115 in f%d.go", i), Remedy: "fix the code"})
	}
	vs = append(vs,
		format.Violation{Rule: "policy.licenses.deny", Message: "a@v1 is GPL-3.0", Remedy: "replace a"},
		format.Violation{Rule: "policy.licenses.deny", Message: "b@v1 is GPL-3.0", Remedy: "replace b"})
	groups := Group(vs)
	if len(groups) != 2 || groups[0].Rule != "policy.static-analysis" || len(groups[0].Violations) != 40 {
		t.Fatalf("groups %+v", groups)
	}
	got := strings.Join(Summary(groups, 3), "\n")
	want := `policy.static-analysis: 40 violation(s)
    G115 in f0.go
    G115 in f1.go
    G115 in f2.go
    … and 37 more
    to fix: fix the code
policy.licenses.deny: 2 violation(s)
    a@v1 is GPL-3.0; to fix: replace a
    b@v1 is GPL-3.0; to fix: replace b`
	if got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
}
