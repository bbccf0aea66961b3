package compliance

import (
	"strings"
	"testing"
	"testing/fstest"

	"hegui.dev/hegui/internal/format"
)

func TestShippedCatalogs(t *testing.T) {
	cats, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"gbt22239-2019-l3": 20, "gbt39786-2021-l3": 10, "nist-ssdf-1.1": 15, "slsa-1.0-build": 6, "gdpr": 8, "pipl": 8}
	for _, c := range cats {
		if n, ok := want[c.ID]; !ok {
			t.Errorf("unexpected catalog %s", c.ID)
		} else if len(c.Controls) < n {
			t.Errorf("%s has %d controls, want at least %d", c.ID, len(c.Controls), n)
		}
		delete(want, c.ID)
	}
	for id := range want {
		t.Errorf("catalog %s missing", id)
	}
	// Every rule is used by some control.
	used := map[string]bool{}
	for _, c := range cats {
		for _, ctl := range c.Controls {
			for _, r := range ctl.Evidence {
				used[r] = true
			}
		}
	}
	for _, r := range RuleIDs() {
		if !used[r] {
			t.Errorf("rule %s is used by no control", r)
		}
	}
	sel, err := Select(cats, []string{"等保", "MIPING", "slsa"})
	if err != nil || len(sel) != 3 || sel[0].ID != "gbt22239-2019-l3" || sel[1].ID != "gbt39786-2021-l3" {
		t.Errorf("Select by alias: %v, %v", ids(sel), err)
	}
	if _, err := Select(cats, []string{"iso27001"}); err == nil || !strings.Contains(err.Error(), "known:") {
		t.Errorf("unknown framework: %v", err)
	}
}

func ids(cs []*Catalog) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestCatalogErrors(t *testing.T) {
	base := "schema: hegui.dev/catalog/v1\nid: x\nrevision: 1\nname: {en: X, zh: X}\nscope: {en: s, zh: s}\ncontrols:\n"
	ctl := "  - id: A\n    group: {en: g, zh: g}\n    text: {en: t, zh: t}\n"
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown rule":  {base + ctl + "    evidence: [sbom, telepathy]\n", `unknown evidence rule "telepathy"`},
		"no evidence":   {base + ctl + "    evidence: []\n", "no evidence rules and no manual statement"},
		"duplicate id":  {base + ctl + "    evidence: [sbom]\n" + ctl + "    evidence: [sbom]\n", "id used twice"},
		"bad modal":     {base + ctl + "    modal: must\n    evidence: [sbom]\n", "modal"},
		"unknown field": {base + ctl + "    evidance: [sbom]\n", "unknown field"},
		"wrong schema":  {strings.Replace(base, "catalog/v1", "catalog/v9", 1) + ctl + "    evidence: [sbom]\n", "schema"},
		"no chinese":    {base + "  - id: A\n    group: {en: g, zh: g}\n    text: {en: t}\n    evidence: [sbom]\n", "en and zh"},
	} {
		if _, err := ParseCatalog([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	dup := fstest.MapFS{
		"a.yaml": {Data: []byte(base + ctl + "    evidence: [sbom]\n")},
		"b.yaml": {Data: []byte(strings.Replace(base, "id: x", "id: y\naliases: [X]", 1) + ctl + "    evidence: [sbom]\n")},
	}
	if _, err := load(dup); err == nil || !strings.Contains(err.Error(), "also") {
		t.Errorf("alias clash: %v", err)
	}
}

// evidence is a delivery that shows everything a delivery can.
func evidence() *Evidence {
	return &Evidence{
		Digest:     func(p string) string { return "sha256:" + strings.Repeat("0", 64) },
		Signers:    []Signer{{Algorithm: "sm2", Role: "primary", Chain: "signers/k.chain.pem"}},
		Binaries:   []Binary{{Path: "bin/a", SBOMs: []string{"a.spdx.json", "a.cdx.json"}, Reproducible: "identical"}},
		Provenance: "provenance.intoto.jsonl", Tagged: true, VCSStamped: true, Licenses: 3,
		Vuln:       VulnEvidence{Status: "scanned", AgeDays: 1, MaxAgeDays: 30, Precise: true, Findings: 2, Files: []string{"vulns.json"}, VEX: "vex.openvex.json"},
		SAST:       SASTEvidence{Status: "scanned", Findings: 1, Files: []string{"sast.sarif"}},
		PolicyMode: "enforce", CryptoInventory: true, AuditLogProof: "auditlog/proof.json",
	}
}

func outcome(fs []format.Framework, fw, id string) format.ControlOutcome {
	for _, f := range fs {
		if f.ID != fw {
			continue
		}
		for _, o := range f.Controls {
			if o.ID == id {
				return o
			}
		}
	}
	return format.ControlOutcome{}
}

func TestEvaluate(t *testing.T) {
	cats, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	full := Evaluate(cats, evidence())
	if o := outcome(full, "nist-ssdf-1.1", "PS.2.1"); o.Status != format.Evidenced || len(o.Rules) == 0 || o.Rules[0].Evidence[0].File != "manifest.json" {
		t.Errorf("SSDF PS.2.1 with full evidence = %+v, want evidenced citing manifest.json", o)
	}
	if o := outcome(full, "gbt22239-2019-l3", "8.1.4.4 e"); o.Status != format.Partial {
		t.Errorf("8.1.4.4 e is marked partial-only, got %s", o.Status)
	}
	if o := outcome(full, "gbt22239-2019-l3", "8.1.4.5 a"); o.Status != format.Manual {
		t.Errorf("8.1.4.5 a (malware scan) = %s, want manual", o.Status)
	}

	weak := evidence()
	weak.Signers[0] = Signer{Algorithm: "ecdsa-p256", Role: "primary", Development: true}
	weak.Vuln = VulnEvidence{Status: "skipped", Reason: "no database"}
	weak.AuditLogProof = ""
	res := Evaluate(cats, weak)
	if o := outcome(res, "nist-ssdf-1.1", "RV.1.1"); o.Status != format.NotEvidenced {
		t.Errorf("RV.1.1 without a scan = %s, want not-evidenced", o.Status)
	}
	if o := outcome(res, "nist-ssdf-1.1", "PS.2.1"); o.Status != format.Partial {
		t.Errorf("PS.2.1 with a development key = %s, want partial", o.Status)
	}
	// Warn mode never scores better than enforce mode with the same
	// violations.
	for _, mode := range []string{"enforce", "warn"} {
		e := evidence()
		e.PolicyMode, e.Violations = mode, 3
		if r := rulePolicyGate(e); r.Status != format.NotEvidenced {
			t.Errorf("policy gate with 3 violations in %s mode = %s, want not-evidenced", mode, r.Status)
		}
	}
	if e := evidence(); rulePolicyGate(e).Status != format.Evidenced {
		t.Error("a clean policy in enforce mode is not evidenced")
	} else if e.PolicyMode = "warn"; rulePolicyGate(e).Status != format.Partial {
		t.Error("a clean policy in warn mode is not partial")
	}
	f := res[0]
	if f.Counts.Total() != len(f.Controls) {
		t.Errorf("counts %+v do not add up to %d controls", f.Counts, len(f.Controls))
	}
}

// TestRuntimePackage: a control whose runtime part a hegui package
// provides is partly evidenced when a delivered binary links that package
// (implemented, configuration not shown), and says which binaries; without
// one it names the package and stays as its other evidence leaves it.
func TestRuntimePackage(t *testing.T) {
	cats, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	// 8.1.4.8 a has no delivery evidence, only the runtime part (sm4-body).
	none := outcome(Evaluate(cats, evidence()), "gbt22239-2019-l3", "8.1.4.8 a")
	if none.Status != format.Manual || none.RuntimePackage != "hegui.dev/hegui/sm4http" || len(none.RuntimeLinkedBy) != 0 {
		t.Errorf("not linked: %+v", none)
	}
	e := evidence()
	e.RuntimeLinked = map[string][]string{"hegui.dev/hegui/sm4http": {"bin/linux_amd64/app"}}
	linked := outcome(Evaluate(cats, e), "gbt22239-2019-l3", "8.1.4.8 a")
	if linked.Status != format.Partial || len(linked.RuntimeLinkedBy) != 1 {
		t.Fatalf("linked: %+v", linked)
	}
	r := linked.Rules[len(linked.Rules)-1]
	if r.Rule != "runtime-package" || r.Status != format.Partial || !strings.Contains(r.Detail.EN, "bin/linux_amd64/app links hegui.dev/hegui/sm4http") {
		t.Errorf("runtime rule %+v", r)
	}
}
