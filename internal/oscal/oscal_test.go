package oscal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	oscaltypes "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/deliver/report"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/format/formattest"
	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/internal/schematest"
	"hegui.dev/hegui/keys"
)

// fakeEntry is a manifest entry whose digests are those of the file's
// name, so that the fixed input needs no files.
func fakeEntry(path string) format.FileEntry {
	sum := sha256.Sum256([]byte(path))
	sm3 := digest.SM3.New()
	sm3.Write([]byte(path))
	return format.FileEntry{Path: path, Size: int64(len(path)), SHA256: hex.EncodeToString(sum[:]), SM3: hex.EncodeToString(sm3.Sum(nil))}
}

// sample is a fixed input: a tagged release with a development key, one
// reproducible binary that links translog and one that is not, every
// framework, and a manifest listing every file the matrix cites.
func sample(t testing.TB) Input {
	t.Helper()
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	bin := func(arch string, repro format.ReproducibilityStatus) *format.Binary {
		target := buildrecipe.Target{OS: "linux", Arch: arch}
		return &format.Binary{Build: "app", Main: ".", Target: target, Path: "bin/" + target.Slug() + "/app", Size: 2 << 20,
			SHA256: strings.Repeat("5a", 32), SM3: strings.Repeat("3c", 32), GoVersion: "go1.26.8", ModuleCount: 4,
			Reproducible: &format.Reproducibility{Status: repro},
			Hardening:    &format.Hardening{Format: "ELF", Checks: []format.Check{{Name: "static", Status: "pass", Detail: "statically linked"}}},
			SBOMs:        []string{"sbom/app_" + target.Slug() + ".spdx.json", "sbom/app_" + target.Slug() + ".cdx.json"}}
	}
	amd64 := bin("amd64", "identical")
	amd64.RuntimePackages = []string{"hegui.dev/hegui/translog"}
	r := &format.Report{
		Schema: format.ReportSchema, Project: "app", Module: "example.com/app", Hegui: "v0.1.0",
		Version:     format.Version{Version: "v1.2.3", Commit: strings.Repeat("c0", 20), CommitTime: t0.Add(-time.Hour), Tag: "v1.2.3", VCS: true},
		Started:     t0,
		Finished:    t0.Add(2 * time.Minute),
		Development: true,
		Verdict:     format.Verdict{Passed: true, Mode: "enforce"},
		Binaries:    []*format.Binary{amd64, bin("loong64", "different")},
		Signers: []*format.Signer{
			{KeyID: strings.Repeat("ab", 32), Algorithm: keys.SM2, Role: "primary", Label: "development key keyring:hegui-dev", Development: true},
		},
		Provenance: "provenance.intoto.jsonl",
		Vulnerabilities: format.VulnSection{Status: format.Scanned, Files: []string{"vulns.json", "vulns.sarif", "vex.openvex.json"},
			Scan: formattest.Vulns(t0)},
		StaticAnalysis: format.SASTSection{Status: format.Scanned, Files: []string{"sast.json", "sast.sarif"},
			Scan: &format.SASTDocument{Schema: format.SASTSchema, Packages: 3, Files: 7}},
		Policy: format.PolicySettings{Mode: "enforce", VulnFailOn: "high", DatabaseMaxAge: "30d", DatabaseMaxAgeDays: 30,
			Hardening: "fail", Reproducibility: "fail"},
	}
	// The operator attached checks of two endpoints, one of them twice
	// (hegui report --evidence): one meets the profile, two fail it.
	tls := func(file, subject string, meets bool, day int) format.OperatorEvidence {
		e := format.OperatorEvidence{Kind: format.EvidenceTLS, File: file, SHA256: fakeEntry(file).SHA256, SM3: fakeEntry(file).SM3,
			Subject: subject, Checked: t0.Add(time.Duration(day) * 24 * time.Hour), Profile: "gbt22239-l3", Meets: meets,
			Summary:  format.Text{EN: "accepts TLS 1.3, TLS 1.2", ZH: "接受 TLS 1.3、TLS 1.2"},
			Findings: []format.EvidenceFinding{}, Unprobed: []string{"SSL 2.0 and 3.0", "SM2 certificates and TLCP (GB/T 38636)"}}
		if !meets {
			e.Summary = format.Text{EN: "accepts TLS 1.2, TLS 1.0", ZH: "接受 TLS 1.2、TLS 1.0"}
			e.Findings = append(e.Findings, format.EvidenceFinding{Rule: "old-version", Level: "error", Message: "TLS 1.0 is accepted; gbt22239-l3 allows TLS 1.2 or later"})
		}
		return e
	}
	r.OperatorEvidence = []format.OperatorEvidence{
		tls("tls-api.json", "10.0.0.5:443 (server name api.example.cn)", true, 2),
		tls("tls-admin.json", "10.0.0.6:8443 (server name admin.example.cn)", false, 2),
		tls("tls-admin-again.json", "10.0.0.6:8443 (server name admin.example.cn)", false, 3),
	}
	cats, err := compliance.Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	r.Compliance = compliance.Evaluate(cats, report.Evidence(r, func(p string) string { return "sha256:" + fakeEntry(p).SHA256 }))
	m := &format.Manifest{Schema: format.ManifestSchema, Project: "app", Module: "example.com/app", Version: "v1.2.3"}
	listed := map[string]bool{}
	for _, f := range r.Compliance {
		for _, c := range f.Controls {
			for _, rule := range c.Vendor.Rules {
				for _, cite := range rule.Evidence {
					if cite.Digest != "" && !listed[cite.File] {
						listed[cite.File] = true
						m.Files = append(m.Files, fakeEntry(cite.File))
					}
				}
			}
		}
	}
	return Input{Report: r, Manifest: m, ManifestEntry: fakeEntry(format.ManifestFile), Catalogs: cats}
}

func render(t testing.TB, in Input) map[string][]byte {
	t.Helper()
	files, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Name] = f.Data
	}
	return out
}

// TestGolden compares every document of the fixed input with its golden
// file (go test ./internal/oscal -update rewrites them).
func TestGolden(t *testing.T) {
	files, err := Render(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		golden.Check(t, f.Name+".golden", f.Data)
	}
	want := []string{ComponentDefinitionFile, AssessmentResultsFile, "catalogs/gbt22239-2019-l3.json", "catalogs/gbt39786-2021-l3.json",
		"catalogs/gdpr.json", "catalogs/pipl.json", "catalogs/slsa-1.0-build.json"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", names, want)
	}
}

// TestSchema validates every document against NIST's OSCAL 1.1.3 JSON
// schema (the complete schema, as go-oscal embeds it).
func TestSchema(t *testing.T) {
	for name, data := range render(t, sample(t)) {
		schematest.OSCAL(t, name, data, Version)
	}
}

// The schema check is a real one: a document the schema forbids fails.
func TestSchemaRejects(t *testing.T) {
	docs := render(t, sample(t))
	for _, edit := range []struct{ name, old, new string }{
		{"an SM3 hash value with a space", `"value": "`, `"value": " `},
		{"a control id that is no token", `"control-id": "gbt22239-8.1.4.3-c"`, `"control-id": "8.1.4.3 c"`},
		{"a finding state OSCAL does not have", `"state": "not-satisfied"`, `"state": "gap"`},
	} {
		doc := docs[ComponentDefinitionFile]
		if strings.Contains(edit.old, "state") {
			doc = docs[AssessmentResultsFile]
		}
		if !bytes.Contains(doc, []byte(edit.old)) {
			t.Fatalf("%s: the document has no %s", edit.name, edit.old)
		}
		bad := bytes.Replace(doc, []byte(edit.old), []byte(edit.new), 1)
		if schematest.ValidateOSCAL(bad, Version) == nil {
			t.Errorf("%s: the schema accepts it", edit.name)
		}
	}
}

var (
	uuidRE  = regexp.MustCompile(`"(?:uuid|[a-z-]+-uuid)": "([0-9a-f-]{36})"`)
	anyUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// TestDeterministic renders the same delivery twice, byte for byte, and
// another manifest gives every object another UUID.
func TestDeterministic(t *testing.T) {
	a, b := render(t, sample(t)), render(t, sample(t))
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two renders", name)
		}
	}
	other := sample(t)
	other.ManifestEntry = fakeEntry("another manifest")
	c := render(t, other)
	for _, name := range []string{ComponentDefinitionFile, AssessmentResultsFile} {
		before, after := uuidRE.FindAllStringSubmatch(string(a[name]), -1), uuidRE.FindAllStringSubmatch(string(c[name]), -1)
		if len(before) == 0 || len(before) != len(after) {
			t.Fatalf("%s: %d and %d UUIDs", name, len(before), len(after))
		}
		old := map[string]bool{}
		for _, m := range before {
			old[m[1]] = true
		}
		for _, m := range after {
			if old[m[1]] {
				t.Errorf("%s: UUID %s is the same for another manifest", name, m[1])
			}
		}
		// Only the UUIDs and the manifest's digests change.
		// (and the digests of the catalogs, whose UUIDs change too).
		norm := func(docs map[string][]byte, in Input) string {
			s := anyUUID.ReplaceAllString(string(docs[name]), "U")
			old := []string{in.ManifestEntry.SHA256, "H", in.ManifestEntry.SM3, "S"}
			for file, data := range docs {
				if strings.HasPrefix(file, CatalogDir+"/") {
					e := format.FileEntry{}
					sum := sha256.Sum256(data)
					sm3 := digest.SM3.New()
					sm3.Write(data)
					e.SHA256, e.SM3 = hex.EncodeToString(sum[:]), hex.EncodeToString(sm3.Sum(nil))
					old = append(old, e.SHA256, "C", e.SM3, "C")
				}
			}
			return strings.NewReplacer(old...).Replace(s)
		}
		if norm(a, sample(t)) != norm(c, other) {
			t.Errorf("%s: another manifest changes more than the UUIDs and its digests", name)
		}
	}
}

// TestUUIDsAreUniqueV5: no two objects share a UUID, and each is a
// version 5 UUID.
func TestUUIDsAreUniqueV5(t *testing.T) {
	// The same operator evidence given twice is observed once.
	twice := sample(t)
	r := *twice.Report
	r.OperatorEvidence = append(r.OperatorEvidence, r.OperatorEvidence[0])
	twice.Report = &r
	docs := render(t, sample(t))
	if again := render(t, twice)[AssessmentResultsFile]; !bytes.Equal(again, docs[AssessmentResultsFile]) {
		t.Error("evidence given twice changes the assessment results")
	}
	for name, data := range docs {
		seen := map[string]bool{}
		for _, m := range regexp.MustCompile(`"uuid": "([0-9a-f-]{36})"`).FindAllStringSubmatch(string(data), -1) {
			if seen[m[1]] {
				t.Errorf("%s: uuid %s used twice", name, m[1])
			}
			seen[m[1]] = true
			if m[1][14] != '5' {
				t.Errorf("%s: %s is not a version 5 UUID", name, m[1])
			}
		}
	}
}

func TestStatusMapping(t *testing.T) {
	ok := format.RuleResult{Rule: "sbom", Status: format.Evidenced}
	gap := format.RuleResult{Rule: "signatures", Status: format.Gap}
	for _, tc := range []struct {
		part                 format.VendorPart
		impl, state, reasons string
	}{
		{format.VendorPart{Status: format.Evidenced, Rules: []format.RuleResult{ok}}, "implemented", "satisfied", "pass"},
		{format.VendorPart{Status: format.Gap, Rules: []format.RuleResult{ok, gap}}, "partial", "not-satisfied", "fail"},
		{format.VendorPart{Status: format.Gap, Rules: []format.RuleResult{gap}}, "planned", "not-satisfied", "fail"},
		{format.VendorPart{Status: format.ControlNotApplicable}, "not-applicable", "not-satisfied", "other"},
		{format.VendorPart{Status: format.Attested}, "implemented", "satisfied", "other"},
	} {
		state, reason := FindingState(tc.part.Status)
		if got := ImplementationState(tc.part); got != tc.impl || state != tc.state || reason != tc.reasons {
			t.Errorf("%s %v: %s, %s (%s); want %s, %s (%s)", tc.part.Status, tc.part.Rules, got, state, reason, tc.impl, tc.state, tc.reasons)
		}
	}
}

func TestControlID(t *testing.T) {
	for _, tc := range []struct{ catalog, id, want string }{
		{"gbt22239-2019-l3", "8.1.4.3 c", "gbt22239-8.1.4.3-c"},
		{"gbt39786-2021-l3", "5 a", "gbt39786-5-a"},
		{"gdpr", "Art. 5(1)(c)", "gdpr-art-5.1.c"},
		{"gdpr", "Art. 32(1)(a)", "gdpr-art-32.1.a"},
		{"pipl", "Art. 6", "pipl-art-6"},
		{"slsa-1.0-build", "Build L1: provenance exists", "slsa-build-l1-provenance-exists"},
	} {
		if got := ControlID(tc.catalog, tc.id); got != tc.want {
			t.Errorf("ControlID(%s, %q) = %q, want %q", tc.catalog, tc.id, got, tc.want)
		}
	}
	// Every control of every catalog has an OSCAL id of its own.
	cats, err := compliance.Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cats {
		if _, err := sourceOf(c); err != nil {
			t.Error(err)
		}
	}
}

// TestSSDFIdsAreNISTs: the SSDF control implementation points at NIST's
// OSCAL catalog, so its control ids and statement ids must be that
// catalog's.
func TestSSDFIdsAreNISTs(t *testing.T) {
	f, err := os.Open("testdata/nist-ssdf-ids.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nist := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			id, stmt, _ := strings.Cut(line, " ")
			nist[id] = stmt
		}
	}
	if len(nist) != 42 {
		t.Fatalf("%d SSDF tasks, want SP 800-218's 42", len(nist))
	}
	cats, _ := compliance.Catalogs()
	cats, _ = compliance.Select(cats, []string{"ssdf"})
	src, err := sourceOf(cats[0])
	if err != nil || src.href != NISTSSDFCatalog {
		t.Fatalf("SSDF source %q, %v", src.href, err)
	}
	for _, ctl := range cats[0].Controls {
		stmt, ok := nist[src.controlID(ctl.ID)]
		if !ok || stmt != src.statementID(ctl.ID) {
			t.Errorf("SSDF %s: control %q, statement %q; NIST's catalog has %v, %q", ctl.ID, src.controlID(ctl.ID), src.statementID(ctl.ID), ok, stmt)
		}
	}
}

// TestReferences follows every reference inside the documents: each
// finding's observations exist, each observation's evidence is a
// back-matter resource carrying the manifest's SHA-256 and SM3, each
// control id is in its catalog, and the findings count as the matrix does.
func TestReferences(t *testing.T) {
	in := sample(t)
	docs := render(t, in)
	var ar, cd, cat oscaltypes.OscalModels
	for name, v := range map[string]*oscaltypes.OscalModels{AssessmentResultsFile: &ar, ComponentDefinitionFile: &cd, "catalogs/gbt22239-2019-l3.json": &cat} {
		if err := json.Unmarshal(docs[name], v); err != nil {
			t.Fatal(err)
		}
	}
	resources := map[string]oscaltypes.Resource{}
	for _, r := range *ar.AssessmentResults.BackMatter.Resources {
		resources[r.UUID] = r
	}
	if _, ok := resources[strings.TrimPrefix(ar.AssessmentResults.ImportAp.Href, "#")]; !ok {
		t.Errorf("import-ap %s is no resource", ar.AssessmentResults.ImportAp.Href)
	}
	res := ar.AssessmentResults.Results[0]
	observations := map[string]oscaltypes.Observation{}
	cited := 0
	for _, o := range *res.Observations {
		observations[o.UUID] = o
		if o.RelevantEvidence == nil {
			continue
		}
		for _, e := range *o.RelevantEvidence {
			r, ok := resources[strings.TrimPrefix(e.Href, "#")]
			if !ok {
				t.Fatalf("observation %s cites %s, which is no resource", o.Title, e.Href)
			}
			link := (*r.Rlinks)[0]
			want, listed := in.ManifestEntry, link.Href == format.ManifestFile
			for _, f := range in.Manifest.Files {
				if f.Path == link.Href {
					want, listed = f, true
				}
			}
			if !listed {
				continue
			}
			cited++
			sm3 := ""
			for _, p := range *r.Props {
				if p.Name == "sm3" && p.Ns == Namespace {
					sm3 = p.Value
				}
			}
			if link.Hashes == nil || (*link.Hashes)[0] != (oscaltypes.Hash{Algorithm: "SHA-256", Value: want.SHA256}) || sm3 != want.SM3 {
				t.Errorf("resource %s: hashes %v, sm3 %q; the manifest has %s, %s", link.Href, link.Hashes, sm3, want.SHA256, want.SM3)
			}
		}
	}
	if cited == 0 {
		t.Fatal("no observation cites a file the manifest lists")
	}
	satisfied := 0
	for _, f := range *res.Findings {
		if f.RelatedObservations == nil && f.Target.ImplementationStatus.State != "not-applicable" {
			t.Errorf("finding %s relates no observation", f.Title)
			continue
		}
		for _, o := range deref(f.RelatedObservations) {
			if _, ok := observations[o.ObservationUuid]; !ok {
				t.Errorf("finding %s: observation %s does not exist", f.Title, o.ObservationUuid)
			}
		}
		if f.Target.Status.State == "satisfied" {
			satisfied++
		}
	}
	evidenced, controls := 0, 0
	for _, f := range in.Report.Compliance {
		evidenced += f.Summary.Vendor.Evidenced
		controls += f.Summary.Controls
	}
	if satisfied != evidenced || len(*res.Findings) != controls || evidenced == 0 || evidenced == controls {
		t.Errorf("%d of %d findings satisfied; the matrix evidences %d of %d vendor parts", satisfied, len(*res.Findings), evidenced, controls)
	}
	// The component definition's 等保 controls are the catalog's, and
	// their statements are the catalog's statement parts.
	parts := map[string]bool{}
	for _, g := range *cat.Catalog.Groups {
		for _, c := range *g.Controls {
			parts[c.ID] = true
			for _, p := range *c.Parts {
				parts[p.ID] = true
			}
		}
	}
	comp := (*cd.ComponentDefinition.Components)[0]
	impl := (*comp.ControlImplementations)[0]
	if impl.Source != "catalogs/gbt22239-2019-l3.json" {
		t.Fatalf("first control implementation is %s", impl.Source)
	}
	for _, req := range impl.ImplementedRequirements {
		if !parts[req.ControlId] || !parts[(*req.Statements)[0].StatementId] {
			t.Errorf("implemented requirement %s (statement %s) is not in the catalog", req.ControlId, (*req.Statements)[0].StatementId)
		}
		if (*(*req.Statements)[0].ResponsibleRoles)[0].RoleId != RoleOperator {
			t.Errorf("%s: the operator part is not the operator's", req.ControlId)
		}
	}
	// The catalog files are cited with their digests.
	for _, r := range *cd.ComponentDefinition.BackMatter.Resources {
		link := (*r.Rlinks)[0]
		sum := sha256.Sum256(docs[link.Href])
		if (*link.Hashes)[0].Value != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: SHA-256 %s is not the file's", link.Href, (*link.Hashes)[0].Value)
		}
	}
	for _, s := range []string{ar.AssessmentResults.Metadata.Title, ar.AssessmentResults.Metadata.Remarks} {
		if !strings.Contains(s, "not an assessment of the operator's system") && !strings.Contains(s, "NOT an assessment of the operator's system") {
			t.Errorf("the assessment results do not say they are not an assessment of the operator's system: %q", s)
		}
	}
}

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

func TestRenderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Input)
		want string
	}{
		{"no manifest digest", func(in *Input) { in.ManifestEntry.SHA256 = "" }, "manifest's SHA-256"},
		{"no catalog", func(in *Input) { in.Catalogs = nil }, "no catalog given"},
		{"no framework", func(in *Input) { in.Report.Compliance = nil }, "no framework"},
		{"a citation the manifest contradicts", func(in *Input) { in.Manifest.Files[0].SHA256 = strings.Repeat("0", 64) }, "the manifest lists"},
	} {
		in := sample(t)
		tc.edit(&in)
		if _, err := Render(in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
