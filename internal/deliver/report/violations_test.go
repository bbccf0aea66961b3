package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/format"
)

func TestGroupViolations(t *testing.T) {
	v := func(rule, subject, remedy string) format.Violation {
		return format.Violation{Rule: rule, Subject: subject, Message: subject + " breaks " + rule, Remedy: remedy}
	}
	many := func(n int, rule, remedy string) []format.Violation {
		var vs []format.Violation
		for i := range n {
			vs = append(vs, v(rule, fmt.Sprintf("s%d", i), remedy))
		}
		return vs
	}
	tests := []struct {
		name string
		in   []format.Violation
		// want is per row: rule, fix, violations, listed, folded.
		want []string
	}{
		{"none", nil, nil},
		{"a rule broken 86 times with one fix is one row", many(86, "a", "fix"), []string{"a fix 86 3 83"}},
		{"four are all listed, not one folded alone", many(4, "a", "fix"), []string{"a fix 4 4 0"}},
		{"five fold two", many(5, "a", "fix"), []string{"a fix 5 3 2"}},
		{
			"a rule with two fixes is two rows, in order of first appearance",
			[]format.Violation{v("sast", "G115 at a.go", "nosec G115"), v("sast", "G304 at b.go", "nosec G304"), v("sast", "G115 at c.go", "nosec G115")},
			[]string{"sast nosec G115 2 2 0", "sast nosec G304 1 1 0"},
		},
		{
			"rules in order of first appearance, the same fix under two rules is two rows",
			[]format.Violation{v("b", "x", "fix"), v("a", "y", "fix"), v("b", "z", "fix")},
			[]string{"b fix 2 2 0", "a fix 1 1 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			total := 0
			for _, g := range groupViolations(tt.in) {
				got = append(got, fmt.Sprintf("%s %s %d %d %d", g.Rule, g.Remedy, len(g.Violations), len(g.Shown()), len(g.Folded())))
				total += len(g.Violations)
				if !slices.Equal(append(g.Shown(), g.Folded()...), g.Violations) {
					t.Errorf("%s: listed and folded are not the violations in order", g.Rule)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if total != len(tt.in) {
				t.Errorf("the rows hold %d violations, want %d", total, len(tt.in))
			}
		})
	}
}

func TestPlace(t *testing.T) {
	tests := []struct{ subject, message, want string }{
		{"G115 at a.go:1:2", "gosec G115 at a.go:1:2: integer overflow", "gosec G115 at a.go:1:2: integer overflow"},
		{"GO-2025-3500 in example.com/m@v1.0.0", "GO-2025-3500 (CVE-2025-47100) is called: m.F", "GO-2025-3500 in example.com/m@v1.0.0: GO-2025-3500 (CVE-2025-47100) is called: m.F"},
	}
	for _, tt := range tests {
		if got := place(format.Violation{Subject: tt.subject, Message: tt.message}); got != tt.want {
			t.Errorf("place(%q, %q) = %q, want %q", tt.subject, tt.message, got, tt.want)
		}
	}
}

// TestMarkdownPolicy checks that the Markdown policy table has the rows
// of report.html's: one per rule and fix, with the count, the first
// places and the fix once.
func TestMarkdownPolicy(t *testing.T) {
	r := crowded()
	md := string(Markdown(r))
	section, _, _ := strings.Cut(md[strings.Index(md, "## 策略 Policy"):], "\n## ")
	var rows []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| `policy.") {
			rows = append(rows, line)
		}
	}
	if len(rows) != crowdedPolicyRows {
		t.Fatalf("the Markdown policy table has %d rows, want %d:\n%s", len(rows), crowdedPolicyRows, section)
	}
	want := "| `policy.static-analysis` | 86 | gosec G115 at backend/posix/posix.go:100:9: integer overflow conversion int -> int32 (severity high, CWE-190); " +
		"gosec G115 at backend/azure/azure.go:137:10: integer overflow conversion uint64 -> int64 (severity high, CWE-190); " +
		"gosec G115 at s3api/utils/utils.go:174:11: integer overflow conversion int64 -> uint64 (severity high, CWE-190); " +
		"… and 83 more (report.html lists every one) | fix the code; if it is a false positive, mark the line with \"#nosec G115 -- reason\" |"
	if !slices.Contains(rows, want) {
		t.Errorf("no row\n%s\nin\n%s", want, section)
	}
}
