package format

import (
	"encoding/json"
	"slices"
	"testing"

	"hegui.dev/hegui/schemas"
)

// TestStatusesMatchTheSchema checks that report.json's schema allows
// exactly the statuses the pipeline records, no fewer (a delivery would
// publish a report that hegui report refuses) and no more.
func TestStatusesMatchTheSchema(t *testing.T) {
	var schema struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(schemas.Report, &schema); err != nil {
		t.Fatal(err)
	}
	// enum follows path (property names, through array items) from a
	// definition to an enum.
	enum := func(def string, path ...string) []string {
		t.Helper()
		var node struct {
			Enum       []string                   `json:"enum"`
			Properties map[string]json.RawMessage `json:"properties"`
			Items      json.RawMessage            `json:"items"`
		}
		raw := schema.Defs[def]
		for _, p := range path {
			node.Items = nil
			if err := json.Unmarshal(raw, &node); err != nil {
				t.Fatal(err)
			}
			if node.Items != nil {
				node.Properties = nil
				if err := json.Unmarshal(node.Items, &node); err != nil {
					t.Fatal(err)
				}
			}
			raw = node.Properties[p]
		}
		node.Enum = nil
		if err := json.Unmarshal(raw, &node); err != nil {
			t.Fatalf("$defs/%s %v: %v", def, path, err)
		}
		return node.Enum
	}
	check := func(what string, schemaValues []string, values []string) {
		t.Helper()
		slices.Sort(schemaValues)
		slices.Sort(values)
		if !slices.Equal(schemaValues, values) {
			t.Errorf("%s: the schema allows %q, the pipeline records %q", what, schemaValues, values)
		}
	}
	check("reproducibility status", enum("binary", "reproducibility", "status"), asStrings(ReproducibilityStatuses))
	check("check status", enum("check", "status"), asStrings(CheckStatuses))
	check("scan status", enum("scanStatus"), asStrings(ScanStates))
	check("runtime capability", enum("framework", "controls", "vendor", "runtime"), RuntimeCapabilityNames())
	check("vendor part status", enum("framework", "controls", "vendor", "status"), asStrings(VendorStatuses))
	check("operator part status", enum("framework", "controls", "operator", "status"), []string{string(ToComplete)})
	check("rule status", enum("ruleResult", "status"), asStrings(RuleStatuses))
	check("document kind", enum("document", "kind"), DocumentKinds)
	check("tests state", enum("testsState"), asStrings(TestsStates))
	check("test package status", enum("testsRun", "packages", "status"), asStrings(TestStatuses))
}

func asStrings[S ~string](values []S) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func TestRuntimePackagesLinked(t *testing.T) {
	got := RuntimePackagesLinked([]string{"fmt", "hegui.dev/hegui/translog", "hegui.dev/hegui/mask/internal/idcard", "hegui.dev/hegui/translogs", "hegui.dev/hegui/keys"})
	if want := []string{"hegui.dev/hegui/mask", "hegui.dev/hegui/translog"}; !slices.Equal(got, want) {
		t.Errorf("RuntimePackagesLinked = %q, want %q", got, want)
	}
}
