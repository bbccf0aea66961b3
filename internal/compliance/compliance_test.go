package compliance

import (
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"hegui.dev/hegui/catalogs"
	"hegui.dev/hegui/internal/format"
)

func TestShippedCatalogs(t *testing.T) {
	// Each file on its own first, so that every broken one is named.
	names, _ := fs.Glob(catalogs.Files, "*.yaml")
	for _, name := range names {
		data, _ := fs.ReadFile(catalogs.Files, name)
		if _, err := ParseCatalog(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	cats, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"gbt22239-2019-l3": 22, "gbt39786-2021-l3": 10, "nist-ssdf-1.1": 15, "slsa-1.0-build": 6, "gdpr": 8, "pipl": 8}
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
			for _, r := range ctl.Vendor.Evidence {
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
	base := "schema: hegui.dev/catalog/v2\nid: x\nrevision: 1\nname: {en: X, zh: X}\nscope: {en: s, zh: s}\ncontrols:\n"
	ctl := "  - id: A\n    group: {en: g, zh: g}\n    text: {en: t, zh: t}\n    operator: {en: o, zh: o}\n"
	vendor := func(v string) string { return ctl + "    vendor: {covers: {en: c, zh: c}, " + v + "}\n" }
	ok := vendor("evidence: [sbom]")
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown rule":     {base + vendor("evidence: [sbom, telepathy]"), `unknown evidence rule "telepathy"`},
		"no evidence":      {base + vendor("evidence: []"), "or say why it is notApplicable"},
		"rule twice":       {base + vendor("evidence: [sbom, sbom]"), "named twice"},
		"n/a with rules":   {base + vendor("evidence: [sbom], notApplicable: {en: r, zh: r}"), "excludes"},
		"n/a one language": {base + ctl + "    vendor: {notApplicable: {en: r}}\n", "notApplicable needs en and zh"},
		"no covers":        {base + ctl + "    vendor: {evidence: [sbom]}\n", "covers needs en and zh"},
		"bad runtime":      {base + vendor("runtime: telepathy"), `runtime "telepathy"`},
		"attest and rules": {base + vendor("evidence: [sbom], attest: {en: a, zh: a}"), "never stands in for evidence"},
		"attest one lang":  {base + ctl + "    vendor: {attest: {en: a}}\n", "attest needs en and zh"},
		"bad doc kind":     {base + vendor("documents: [novel]"), `document kind "novel"`},
		"bad op evidence":  {base + ok + "    operatorEvidence: [pcap]\n", `operatorEvidence "pcap"`},
		"no operator":      {base + "  - id: A\n    group: {en: g, zh: g}\n    text: {en: t, zh: t}\n    vendor: {covers: {en: c, zh: c}, evidence: [sbom]}\n", "operator part needs en and zh"},
		"duplicate id":     {base + ok + ok, "id used twice"},
		"bad modal":        {base + strings.Replace(ok, "    operator", "    modal: must\n    operator", 1), "modal"},
		"unknown field":    {base + ok + "    partial: true\n", "unknown field"},
		"wrong schema":     {strings.Replace(base, "catalog/v2", "catalog/v1", 1) + ok, "schema"},
		"no chinese":       {base + strings.Replace(ok, "text: {en: t, zh: t}", "text: {en: t}", 1), "en and zh"},
	} {
		if _, err := ParseCatalog([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	if _, err := ParseCatalog([]byte(base + ok)); err != nil {
		t.Errorf("a valid catalog: %v", err)
	}
	dup := fstest.MapFS{
		"a.yaml": {Data: []byte(base + ok)},
		"b.yaml": {Data: []byte(strings.Replace(base, "id: x", "id: y\naliases: [X]", 1) + ok)},
	}
	if _, err := load(dup); err == nil || !strings.Contains(err.Error(), "also") {
		t.Errorf("alias clash: %v", err)
	}
}

// evidence is a release delivery that shows everything a delivery made
// with hegui deliver on the vendor's machine can: an SM2 release key on a
// PKCS#11 token with a certificate, a clean tagged commit, a fresh
// database, every gate passed in enforce mode, the release logged, and a
// binary that links national algorithms and every runtime package, with
// its security policy, design, user-guide and operations documents, and a
// signed vendor statement for every control only a statement can show.
func evidence() *Evidence {
	coverage := 71.4
	linked := map[string][]string{}
	for _, pkg := range format.RuntimeCapabilities {
		linked[pkg] = []string{"bin/a"}
	}
	return &Evidence{
		Digest:     func(p string) string { return "sha256:" + strings.Repeat("0", 64) },
		Signers:    []Signer{{Algorithm: "sm2", Role: "primary", Chain: "signers/k.chain.pem", Token: true}},
		Binaries:   []Binary{{Path: "bin/a", SBOMs: []string{"a.spdx.json", "a.cdx.json"}, Reproducible: "identical"}},
		Provenance: "provenance.intoto.jsonl", Builder: format.BuilderID, Tagged: true, VCSStamped: true, Licenses: 3,
		Vuln: VulnEvidence{Status: "scanned", AgeDays: 1, MaxAgeDays: 30, Precise: true, Findings: 2, Files: []string{"vulns.json"}, VEX: "vex.openvex.json"},
		SAST: SASTEvidence{Status: "scanned", Findings: 1, Files: []string{"sast.sarif"}},
		Tests: TestsEvidence{Status: "ran", Packages: 4, Tests: 57, Passed: 55, Skipped: 2, FuzzTargets: 3, Race: true,
			Coverage: &coverage, Files: []string{"tests.json"}},
		PII:        PIIEvidence{Status: "scanned", FilesRead: 120, Total: 2, FailOn: []string{"idcard", "mobile"}, Files: []string{"pii.json"}},
		PolicyMode: "enforce", CryptoInventory: true, ReleaseLogProof: "auditlog/proof.json",
		BinaryCrypto:  []BinaryCrypto{{Path: "bin/a", National: []string{"SM2", "SM3", "SM4"}, International: []string{"AES"}}},
		RuntimeLinked: linked,
		Documents: []format.Document{
			{File: "documents/SECURITY.md", Kind: "security-policy", Controls: []string{}},
			{File: "documents/design.md", Kind: "design", Controls: []string{}},
			{File: "documents/user-guide.md", Kind: "user-guide", Controls: []string{}},
			{File: "documents/operations.md", Kind: "operations", Controls: []string{}},
		},
		Attestations: statements(map[string][]string{
			"gbt22239-2019-l3": {"8.1.4.1 a", "8.1.4.1 b", "8.1.4.1 c", "8.1.4.1 d", "8.1.4.2 b", "8.1.4.2 d", "8.1.4.7 a",
				"8.1.4.10 a", "8.1.9.4 a", "8.1.10.10 a", "8.1.10.10 c"},
			"gbt39786-2021-l3": {"5 b", "5 c", "8.2 a", "8.2 b", "8.2 c", "8.3 b", "8.3 c", "8.4 h"},
		}),
	}
}

// statements maps each framework's controls ("FRAMEWORK:CONTROL") to
// their signed vendor statements' files, named as the attest stage names
// them.
func statements(controls map[string][]string) map[string]string {
	out := map[string]string{}
	for fw, ids := range controls {
		for _, id := range ids {
			out[format.ControlRef(fw, id)] = format.AttestationPath(fw, id)
		}
	}
	return out
}

// TestRuleRemedies: every rule that does not hold says what to do, and
// one that holds cites evidence.
func TestRuleRemedies(t *testing.T) {
	empty := &Evidence{Digest: func(string) string { return "" }}
	// These hold for any delivery: every delivery has a signed manifest,
	// and a module without dependencies has no licence to conclude.
	always := map[string]bool{"manifest": true, "licenses": true}
	for id, r := range rules {
		if res := r(empty); always[id] {
			if res.Status != format.Evidenced {
				t.Errorf("%s on no evidence = %+v, want evidenced", id, res)
			}
		} else if res := r(empty); res.Status != format.Gap || res.Remedy == nil || res.Remedy.EN == "" || res.Remedy.ZH == "" {
			t.Errorf("%s on no evidence = %+v, want a gap with a remedy in both languages", id, res)
		}
		if id == "hosted-build" {
			continue // a delivery made on the vendor's machine never holds it
		}
		if res := r(evidence()); res.Status != format.Evidenced || res.Remedy != nil || len(res.Evidence) == 0 {
			t.Errorf("%s on a release delivery = %+v, want evidenced, citing evidence", id, res)
		}
	}
}

// TestNoPersonalData: the rule is a gap when the module's files hold
// personal information of a gating kind, or were not scanned, and says so.
func TestNoPersonalData(t *testing.T) {
	e := evidence()
	if r := ruleNoPersonalData(e); r.Status != format.Evidenced || !strings.Contains(r.Detail.EN, "120 files hold no personal information of the kinds idcard, mobile") ||
		!strings.Contains(r.Detail.EN, "2 finding(s) of other kinds") {
		t.Errorf("clean scan: %+v", r)
	}
	e.PII.Gating, e.PII.GatingKinds = 3, []string{"idcard"}
	if r := ruleNoPersonalData(e); r.Status != format.Gap || !strings.Contains(r.Detail.EN, "3 finding(s) of personal information (idcard)") ||
		!strings.Contains(r.Remedy.EN, "pii:ignore") || len(r.Evidence) != 1 {
		t.Errorf("gating findings: %+v", r)
	}
	e.PII = PIIEvidence{Status: "skipped", Reason: "pii.scan is off in hegui.yaml"}
	if r := ruleNoPersonalData(e); r.Status != format.Gap || !strings.HasSuffix(r.Detail.EN, "not scanned for personal information: pii.scan is off in hegui.yaml") {
		t.Errorf("no scan: %+v", r)
	}
}

func TestPolicyGate(t *testing.T) {
	// Warn mode never scores better than enforce mode with the same
	// violations.
	for _, mode := range []string{"enforce", "warn"} {
		e := evidence()
		e.PolicyMode, e.Violations = mode, 3
		if r := rulePolicyGate(e); r.Status != format.Gap {
			t.Errorf("policy gate with 3 violations in %s mode = %s, want a gap", mode, r.Status)
		}
	}
	if e := evidence(); rulePolicyGate(e).Status != format.Evidenced {
		t.Error("a clean policy in enforce mode is not evidenced")
	} else if e.PolicyMode = "warn"; rulePolicyGate(e).Status != format.Gap {
		t.Error("a clean policy in warn mode is not a gap")
	}
}

// TestRuntimePackage: a vendor part that needs a runtime capability is
// evidenced only when a delivered binary links the package that provides
// it, and says which binaries; without one it is a gap naming the package.
func TestRuntimePackage(t *testing.T) {
	v := VendorPart{Covers: format.Text{EN: "c", ZH: "c"}, Evidence: []string{"sbom"}, Runtime: "sm4-body"}
	e := evidence()
	e.RuntimeLinked = map[string][]string{"hegui.dev/hegui/sm4http": {"bin/linux_amd64/app"}}
	linked := vendorPart("x:1", v, e)
	if linked.Status != format.Evidenced || len(linked.RuntimeLinkedBy) != 1 || linked.RuntimePackage != "hegui.dev/hegui/sm4http" {
		t.Fatalf("linked: %+v", linked)
	}
	r := linked.Rules[len(linked.Rules)-1]
	if r.Rule != RuntimeRule || !strings.Contains(r.Detail.EN, "bin/linux_amd64/app links hegui.dev/hegui/sm4http") {
		t.Errorf("runtime rule %+v", r)
	}
	e.RuntimeLinked = nil
	none := vendorPart("x:1", v, e)
	if none.Status != format.Gap || len(none.RuntimeLinkedBy) != 0 || !strings.Contains(none.Rules[1].Remedy.EN, "import hegui.dev/hegui/sm4http") {
		t.Errorf("not linked: %+v", none)
	}
}

// summaries is each framework's vendor counts: evidenced, attested, gap,
// not applicable.
func summaries(fs []format.Framework) map[string][4]int {
	out := map[string][4]int{}
	for _, f := range fs {
		v := f.Summary.Vendor
		out[f.ID] = [4]int{v.Evidenced, v.Attested, v.Gap, v.NotApplicable}
		if f.Summary.Controls != len(f.Controls) || f.Summary.OperatorToComplete != len(f.Controls) || v.Evidenced+v.Attested+v.Gap+v.NotApplicable != len(f.Controls) {
			panic(fmt.Sprintf("%s: summary %+v does not add up to %d controls", f.ID, f.Summary, len(f.Controls)))
		}
	}
	return out
}

// TestReleaseDelivery: a delivery made with a release key (SM2, on a
// token, with a certificate), a tag and a fresh database, whose binary
// links national algorithms and hegui's runtime packages, evidences the
// vendor part of every control a delivery can evidence, and carries a
// signed statement for each that only a statement can show. What remains
// are the SLSA rows that need a hosted builder; every operator part
// remains.
func TestReleaseDelivery(t *testing.T) {
	cats, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	res := Evaluate(cats, evidence())
	for _, f := range res {
		for _, o := range f.Controls {
			if o.Operator.Status != format.ToComplete {
				t.Errorf("%s %s: operator part %s", f.ID, o.ID, o.Operator.Status)
			}
			if o.Vendor.Status != format.Gap {
				continue
			}
			for _, r := range o.Vendor.Rules {
				if r.Status == format.Gap && r.Rule != "hosted-build" {
					t.Errorf("%s %s: %s is a gap on a release delivery: %s", f.ID, o.ID, r.Rule, r.Detail.EN)
				}
			}
		}
	}
	// SSDF PW.8.2 (test the executable code) is evidenced by the module's
	// own tests (security-tests); 等保 8.1.9.4 e and 8.1.9.7 b cite the
	// tests too and stay evidenced.
	want := map[string][4]int{
		"gbt22239-2019-l3": {35, 11, 0, 5},
		"gbt39786-2021-l3": {9, 8, 0, 4},
		"nist-ssdf-1.1":    {18, 0, 0, 0},
		"slsa-1.0-build":   {4, 0, 4, 0},
		"gdpr":             {8, 0, 0, 1},
		"pipl":             {7, 0, 0, 1},
	}
	if got := summaries(res); !maps.Equal(got, want) {
		t.Errorf("release delivery: vendor parts (evidenced, attested, gap, n/a) = %v, want %v", got, want)
	}
}

// TestDemoDelivery is the README's demo (scripts/demo.sh): examples/hello
// delivered with the built-in defaults: a development SM2 key, an untagged
// snapshot, the repository's vulnerability database (107 days old against
// 30, which the policy only warns about), the release logged, every
// gate passed, a binary that links no cryptography and no runtime package,
// and no tests: examples/hello is one main package without a test file,
// so go test runs nothing and security-tests is a gap ("the module has no
// tests"): a delivery that tests nothing does not evidence testing.
func TestDemoDelivery(t *testing.T) {
	cats, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	e := evidence()
	e.Signers = []Signer{{Algorithm: "sm2", Role: "primary", Development: true}}
	e.Tagged = false
	e.Vuln.AgeDays = 107
	e.RuntimeLinked = nil
	e.BinaryCrypto = []BinaryCrypto{{Path: "bin/linux_amd64/hello"}}
	e.Documents, e.Attestations = nil, nil
	e.Tests = TestsEvidence{Status: "ran", Race: true, Coverage: e.Tests.Coverage, Files: []string{"tests.json"}}
	// examples/hello has no tests: SSDF PW.8.2 is a gap (security-tests);
	// 等保 8.1.9.4 e and 8.1.9.7 b are gaps already (the database is older
	// than the policy allows).
	want := map[string][4]int{
		"gbt22239-2019-l3": {7, 0, 39, 5},
		"gbt39786-2021-l3": {2, 0, 15, 4},
		"nist-ssdf-1.1":    {7, 0, 11, 0},
		"slsa-1.0-build":   {4, 0, 4, 0},
		"gdpr":             {0, 0, 8, 1},
		"pipl":             {0, 0, 7, 1},
	}
	if got := summaries(Evaluate(cats, e)); !maps.Equal(got, want) {
		t.Errorf("demo delivery: vendor parts (evidenced, attested, gap, n/a) = %v, want %v", got, want)
	}
}

// TestAttestedAndDocuments: a vendor part only a statement can show is
// attested when the delivery carries the signed statement, a gap saying
// what to state when it does not; a documents part holds for a document of
// the kind, or one the vendor tagged with the control.
func TestAttestedAndDocuments(t *testing.T) {
	att := VendorPart{Attest: &format.Text{EN: "how keys are kept", ZH: "密钥如何保管"}}
	e := evidence()
	e.Attestations = map[string]string{"fw:c1": "attestations/fw_c1.intoto.jsonl"}
	if p := vendorPart("fw:c1", att, e); p.Status != format.Attested || p.Attestation == nil || p.Attestation.File != "attestations/fw_c1.intoto.jsonl" || p.Attestation.Digest == "" {
		t.Errorf("with a statement: %+v", p)
	}
	p := vendorPart("fw:c2", att, e)
	if p.Status != format.Gap || len(p.Rules) != 1 || p.Rules[0].Rule != VendorStatementRule || !strings.Contains(p.Rules[0].Remedy.EN, `control: "fw:c2"`) {
		t.Errorf("without a statement: %+v", p)
	}
	docs := VendorPart{Covers: format.Text{EN: "c", ZH: "c"}, Documents: []string{"design", "user-guide"}}
	e.Documents = []format.Document{{File: "documents/design.md", Kind: "design", Controls: []string{}}}
	if p := vendorPart("fw:c3", docs, e); p.Status != format.Gap || !strings.Contains(p.Rules[0].Detail.EN, "no user-guide document") {
		t.Errorf("a kind missing: %+v", p)
	}
	e.Documents = append(e.Documents, format.Document{File: "documents/manual.pdf", Kind: "other", Controls: []string{"fw:c3"}})
	if p := vendorPart("fw:c3", docs, e); p.Status != format.Evidenced || len(p.Rules[0].Evidence) != 2 {
		t.Errorf("tagged with the control: %+v", p)
	}
}

// TestSecurityTests: the module's tests evidence testing only when they
// ran and passed; the detail says how many, with fuzz targets, the race
// detector and coverage, and each gap says what is wrong.
func TestSecurityTests(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*TestsEvidence)
		status format.ControlStatus
		want   string
	}{
		"passed": {func(*TestsEvidence) {}, format.Evidenced,
			"go test ran 57 tests in 4 packages for this delivery and all passed (2 skipped themselves), 3 fuzz target(s) among them over their seed corpora, with the race detector; statement coverage 71.4%"},
		"no race": {func(e *TestsEvidence) { e.Race, e.RaceReason = false, "cgo is off" }, format.Evidenced, "without the race detector (cgo is off)"},
		"failed":  {func(e *TestsEvidence) { e.Failed, e.FailedPackages = 1, 2 }, format.Gap, "the tests failed in 2 package(s): 1 of 57 tests failed"},
		"no tests": {func(e *TestsEvidence) { *e = TestsEvidence{Status: "ran", Files: []string{"tests.json"}} }, format.Gap,
			"the module has no tests"},
		"all skipped": {func(e *TestsEvidence) { e.Passed, e.Skipped = 0, 57 }, format.Gap, "every one of the 57 tests skipped itself"},
		"not run": {func(e *TestsEvidence) {
			*e = TestsEvidence{Status: "skipped", Reason: "tests.enabled is false in hegui.yaml"}
		}, format.Gap, "did not run: tests.enabled is false"},
	} {
		e := evidence()
		tc.change(&e.Tests)
		r := ruleSecurityTests(e)
		if r.Status != tc.status || !strings.Contains(r.Detail.EN, tc.want) || r.Detail.ZH == "" {
			t.Errorf("%s: %s %q, want %s saying %q", name, r.Status, r.Detail.EN, tc.status, tc.want)
		}
	}
}

// TestOperatorEvidence: TLS endpoint checks attached to a report are
// cited beside the operator part of exactly the controls whose catalog
// accepts them, counted in the summary (and failing ones apart), and
// change nothing else: the operator part stays to complete, the vendor
// parts are decided as without them.
func TestOperatorEvidence(t *testing.T) {
	cats, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	plain := Evaluate(cats, evidence())
	e := evidence()
	e.Operator = []format.OperatorEvidence{
		{Kind: format.EvidenceTLS, File: "api.json", SHA256: "aa", Subject: "api:443", Meets: true},
		{Kind: format.EvidenceTLS, File: "old.json", SHA256: "bb", Subject: "old:443", Meets: false},
	}
	got := Evaluate(cats, e)
	accepting := map[string][]string{
		"gbt22239-2019-l3": {"8.1.2.2 a", "8.1.2.2 b", "8.1.4.1 c", "8.1.4.7 a", "8.1.4.8 a"},
	}
	for i, f := range got {
		var cited []string
		for j, o := range f.Controls {
			if o.Operator.Status != format.ToComplete {
				t.Errorf("%s %s: operator part %s with evidence attached", f.ID, o.ID, o.Operator.Status)
			}
			if !reflect.DeepEqual(o.Vendor, plain[i].Controls[j].Vendor) {
				t.Errorf("%s %s: the vendor part changed with operator evidence", f.ID, o.ID)
			}
			if len(o.Operator.Evidence) == 0 {
				continue
			}
			cited = append(cited, o.ID)
			if len(o.Operator.Evidence) != 2 || o.Operator.Evidence[0].Digest != "sha256:aa" || o.Operator.Evidence[1].Meets || !o.Operator.Failing() {
				t.Errorf("%s %s: evidence %+v", f.ID, o.ID, o.Operator.Evidence)
			}
		}
		if fmt.Sprint(cited) != fmt.Sprint(accepting[f.ID]) {
			t.Errorf("%s: evidence beside %v, want %v", f.ID, cited, accepting[f.ID])
		}
		s := f.Summary
		if s.OperatorEvidence != len(cited) || s.OperatorEvidenceFailing != len(cited) || s.OperatorToComplete != s.Controls {
			t.Errorf("%s: summary %+v", f.ID, s)
		}
		if len(cited) > 0 && !strings.Contains(s.Sentence().EN, fmt.Sprintf("(operator evidence on %d, failing on %d)", len(cited), len(cited))) {
			t.Errorf("%s: %s", f.ID, s.Sentence().EN)
		}
	}
	// Only the one that meets its profile: nothing failing.
	e.Operator = e.Operator[:1]
	for _, f := range Evaluate(cats, e) {
		if f.Summary.OperatorEvidenceFailing != 0 {
			t.Errorf("%s: %d failing", f.ID, f.Summary.OperatorEvidenceFailing)
		}
	}
}
