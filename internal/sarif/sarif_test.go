package sarif

import (
	"strings"
	"testing"

	"hegui.dev/hegui/internal/schematest"
)

func TestEmptyLogIsValid(t *testing.T) {
	data, err := New("tool", "1.0", "https://example.com").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, data)
}

func TestFullLogIsValid(t *testing.T) {
	l := New("tool", "1.0", "https://example.com")
	l.AddRule(Rule{ID: "R1", Name: "R1", Short: "a rule", Full: "more", Help: "help", HelpURI: "https://example.com/r1",
		Level: Error, Tags: []string{"security"}, SecuritySeverity: "7.5"})
	l.AddRule(Rule{ID: "R1"}) // ignored: already added
	l.Add(Result{
		RuleID: "R1", Level: Error, Message: "found",
		Location:     &Location{File: "main.go", Line: 3, Column: 2},
		Flows:        [][]Location{{{File: "main.go", Line: 3, Message: "main"}, {File: "src/fmt/print.go", URIBase: "GOROOT", Line: 9}}},
		Suppressions: []Suppression{{Kind: "inSource", Justification: "reviewed"}},
		CWEs:         []int{79, 22, 79},
		Properties:   map[string]any{"k": "v"},
	})
	l.Add(Result{RuleID: "R1", Message: "no location", Suppressions: []Suppression{{Kind: "external", Justification: "accepted"}}})
	data, err := l.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, data)
	if n := strings.Count(string(data), `"helpUri": "https://cwe.mitre.org/data/definitions/`); n != 2 {
		t.Errorf("%d CWE taxa, want 2 (79 and 22, once each)", n)
	}
	if a1, a2 := guid("a"), guid("a"); a1 != a2 || a1 == guid("b") {
		t.Error("guid is not a stable function of its input")
	}
}
