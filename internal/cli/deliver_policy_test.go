package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openvex/go-vex/pkg/vex"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/cli/delivercmd"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/oscal"
	"hegui.dev/hegui/internal/schematest"
	"hegui.dev/hegui/internal/testcert"
	"hegui.dev/hegui/internal/vulndb"
)

var (
	vulnDBOnce sync.Once
	vulnDBPath string
	vulnDBErr  error
)

// testVulnDB imports the Go vulnerability database snapshot of
// testdata/govulndb once per test run.
func testVulnDB(t *testing.T) string {
	t.Helper()
	vulnDBOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hegui-cli-vulndb-")
		if err != nil {
			vulnDBErr = err
			return
		}
		vulnDBPath = filepath.Join(dir, "db")
		_, vulnDBErr = vulndb.Import(context.Background(), "../../testdata/govulndb/osv.tar.gz", vulnDBPath, vulndb.ImportOptions{})
	})
	if vulnDBErr != nil {
		t.Fatal(vulnDBErr)
	}
	return vulnDBPath
}

// vulnerableFixture is the delivery fixture changed to use x/text v0.3.5
// and call language.Parse, which has GO-2021-0113 (fixed in v0.3.7).
func vulnerableFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.write("main.go", `package main

import (
	"fmt"
	"os"

	"fixture.example/lib"
	"github.com/davecgh/go-spew/spew"
	"golang.org/x/text/language"
)

var version = "dev"

func main() {
	tag, err := language.Parse(os.Getenv("LANG"))
	fmt.Print(spew.Sdump(lib.Greeting(), tag, err, version))
}
`)
	f.goCmd("get", "golang.org/x/text@v0.3.5")
	f.goCmd("mod", "tidy")
	f.git("add", ".")
	f.commit("use x/text v0.3.5")
	return f
}

// readReport reads report.json of a delivery and checks it against the
// published schema.
func readReport(t *testing.T, dir string) *format.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, format.ReportJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	schematest.Report(t, "report.json", data)
	var r format.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestDeliverVulnerabilityGate(t *testing.T) {
	r := newRunner(t)
	r.env["HEGUI_VULNDB"] = testVulnDB(t)
	f := vulnerableFixture(t)
	out := r.path("out")

	// Enforced: the reachable finding fails the delivery, saying what to do.
	res := r.run("deliver", f.dir, "--snapshot", "--output", out, "--skip-reproduce")
	if res.code != ExitFailure || !strings.Contains(res.stderr, "GO-2021-0113") || !strings.Contains(res.stderr, "upgrade golang.org/x/text to v0.3.7") {
		t.Fatalf("deliver of reachable GO-2021-0113: code %d\n%s", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed delivery left %d entries in the output directory", len(entries))
	}

	// Warn mode: delivered, with the violation in the report.
	var dr delivercmd.Result
	res = r.ok("deliver", f.dir, "--snapshot", "--output", out, "--skip-reproduce", "--policy-mode", "warn", "--json")
	json.Unmarshal([]byte(res.stdout), &dr)
	rep := readReport(t, dr.Directory)
	if rep.Verdict.Passed || rep.Verdict.Mode != "warn" || len(rep.Verdict.Violations) == 0 || rep.Verdict.Violations[0].Rule != "policy.vulnerabilities.fail-on" {
		t.Errorf("warn-mode verdict %+v", rep.Verdict)
	}
	var parse *format.VulnFinding
	for _, f := range rep.Vulnerabilities.Scan.Findings {
		if f.ID == "GO-2021-0113" {
			parse = f
		}
	}
	if parse == nil || parse.Status != format.VulnCalled || len(parse.Paths) == 0 || parse.Paths[0][0].File != "main.go" {
		t.Errorf("GO-2021-0113 in the report: %+v", parse)
	}
	for _, name := range []string{"vulns.sarif", "sast.sarif"} {
		data, err := os.ReadFile(filepath.Join(dr.Directory, name))
		if err != nil {
			t.Fatal(err)
		}
		schematest.ValidateSARIF(t, data)
	}
	cbom, _ := os.ReadFile(filepath.Join(dr.Directory, "cbom.cdx.json"))
	schematest.CycloneDX(t, "cbom.cdx.json", cbom)
	var cb struct {
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Type             string          `json:"type"`
			Name             string          `json:"name"`
			CryptoProperties json.RawMessage `json:"cryptoProperties"`
		} `json:"components"`
	}
	json.Unmarshal(cbom, &cb)
	assets := 0
	for _, c := range cb.Components {
		if c.CryptoProperties != nil {
			assets++
			if c.Type != "cryptographic-asset" {
				t.Errorf("CBOM component %s has type %q, want cryptographic-asset", c.Name, c.Type)
			}
		}
	}
	if cb.SpecVersion != "1.6" || assets == 0 {
		t.Errorf("CBOM spec %s with %d crypto assets", cb.SpecVersion, assets)
	}
	var doc vex.VEX
	data, _ := os.ReadFile(filepath.Join(dr.Directory, "vex.openvex.json"))
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if sts := doc.StatementsByVulnerability("GO-2021-0113"); len(sts) != 1 || sts[0].Status != vex.StatusAffected {
		t.Errorf("VEX statements for GO-2021-0113: %+v", sts)
	}
	// The delivery with its new files still verifies.
	r.ok("verify", dr.Directory, "--pub", filepath.Join(dr.Directory, "signers", rep.Signers[0].KeyID[:16]+".pub"))

	// An ignore rule with a reason and a future expiry accepts it.
	ignore := func(expires string) {
		f.write("hegui.yaml", `version: 1
policy:
  vulnerabilities:
    ignore:
      - id: CVE-2021-38561
        reason: "the tag comes from our own configuration, never from users"
        expires: `+expires+`
`)
	}
	ignore("2099-12-31")
	res = r.ok("deliver", f.dir, "--snapshot", "--output", out, "--skip-reproduce", "--force", "--json")
	json.Unmarshal([]byte(res.stdout), &dr)
	rep = readReport(t, dr.Directory)
	if !rep.Verdict.Passed || rep.Vulnerabilities.Scan.Summary.Ignored == 0 {
		t.Errorf("with an ignore rule: verdict %+v, summary %+v", rep.Verdict, rep.Vulnerabilities.Scan.Summary)
	}
	data, _ = os.ReadFile(filepath.Join(dr.Directory, "vex.openvex.json"))
	if !strings.Contains(string(data), "accepts the risk until 2099-12-31") {
		t.Error("the VEX statement does not record the accepted risk")
	}

	// Once expired, the rule itself fails the delivery.
	ignore("2020-01-01")
	res = r.run("deliver", f.dir, "--snapshot", "--output", out, "--skip-reproduce", "--force")
	if res.code != ExitFailure || !strings.Contains(res.stderr, "expired on 2020-01-01") {
		t.Errorf("expired ignore rule: code %d\n%s", res.code, res.stderr)
	}
}

func TestReportCommand(t *testing.T) {
	r := newRunner(t)
	r.env["HEGUI_VULNDB"] = testVulnDB(t)
	f := newFixture(t)
	var dr delivercmd.Result
	res := r.ok("deliver", f.dir, "--snapshot", "--output", r.path("out"), "--skip-reproduce", "--json")
	json.Unmarshal([]byte(res.stdout), &dr)
	dir := dr.Directory

	res = r.ok("report", dir, "--format", "json", "--framework", "等保", "--framework", "ssdf")
	schematest.Report(t, "hegui report --format json", []byte(res.stdout))
	var rep format.Report
	json.Unmarshal([]byte(res.stdout), &rep)
	if len(rep.Compliance) != 2 || rep.Compliance[0].ID != "gbt22239-2019-l3" || rep.Compliance[1].ID != "nist-ssdf-1.1" {
		t.Errorf("frameworks %v", rep.Compliance)
	}
	// Citations carry the manifest's digests.
	cited := false
	for _, o := range rep.Compliance[1].Controls {
		for _, rr := range o.Vendor.Rules {
			for _, c := range rr.Evidence {
				if c.File == "vulns.json" && strings.HasPrefix(c.Digest, "sha256:") {
					cited = true
				}
			}
		}
	}
	if !cited {
		t.Error("no control cites vulns.json with its digest")
	}
	// A development-key snapshot: the vendor part of the controls that need
	// a release key is a gap, and every operator part is still to complete.
	for _, f := range rep.Compliance {
		if s := f.Summary; s.Controls != len(f.Controls) || s.OperatorToComplete != s.Controls || s.Vendor.Gap == 0 {
			t.Errorf("%s summary %+v for a development snapshot", f.ID, s)
		}
	}
	res = r.ok("report", dir, "--format", "md")
	for _, want := range []string{"## 合规矩阵 Compliance matrix", "## 漏洞 Vulnerabilities", "GO-2026-5970", "operator part: 51 to complete", "存在差距 gap"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("Markdown report lacks %q", want)
		}
	}
	res = r.ok("report", dir, "--format", "sarif")
	schematest.ValidateSARIF(t, []byte(res.stdout))
	if n := strings.Count(res.stdout, `"tool": {`); n != 2 {
		t.Errorf("merged SARIF has %d runs, want 2", n)
	}
	checkOSCAL(t, r, dir)
	r.writesInPlace(func(out string) []string { return []string{"report", dir, "--format", "md", "-o", out} })
	r.ok("report", dir, "-o", r.path("report.html"))
	html, _ := os.ReadFile(r.path("report.html"))
	for _, id := range []string{`id="vulnerabilities"`, `id="static-analysis"`, `id="cryptography"`, `id="compliance"`, `<svg class="chart"`} {
		if !strings.Contains(string(html), id) {
			t.Errorf("re-rendered report.html lacks %s", id)
		}
	}

	checkOperatorEvidence(t, r, dir)

	if res := r.run("report", dir, "--framework", "iso27001"); res.code != ExitUsage {
		t.Errorf("unknown framework: code %d", res.code)
	}
	if res := r.run("report", t.TempDir()); res.code != ExitFailure || !strings.Contains(res.stderr, "not a delivery") {
		t.Errorf("not a delivery: %d %s", res.code, res.stderr)
	}
	// A report.json changed after signing is refused.
	p := filepath.Join(dir, format.ReportJSONFile)
	data, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(data), `"passed": true`, `"passed": false`, 1)), 0o644)
	if res := r.run("report", dir); res.code != ExitFailure || !strings.Contains(res.stderr, "does not match the delivery's manifest") {
		t.Errorf("tampered report.json: %d %s", res.code, res.stderr)
	}
}

// checkOSCAL renders a delivery's OSCAL documents twice: they validate
// against NIST's schema, are the same bytes both times, and cite the
// delivery's files with the digests of the files themselves.
func checkOSCAL(t *testing.T, r *runner, dir string) {
	t.Helper()
	res := r.ok("report", dir, "--format", "oscal", "--framework", "等保", "--framework", "ssdf", "-o", r.path("oscal"))
	written := strings.Fields(res.stdout)
	want := []string{oscal.ComponentDefinitionFile, oscal.AssessmentResultsFile, "catalogs/gbt22239-2019-l3.json"}
	if len(written) != len(want) {
		t.Fatalf("hegui report --format oscal wrote %v, want %v", written, want)
	}
	r.ok("report", dir, "--format", "oscal", "--framework", "等保", "--framework", "ssdf", "-o", r.path("oscal-again"))
	for i, name := range want {
		if written[i] != filepath.Join(r.path("oscal"), name) {
			t.Errorf("file %d is %s, want %s", i, written[i], name)
		}
		data, err := os.ReadFile(written[i])
		if err != nil {
			t.Fatal(err)
		}
		schematest.OSCAL(t, name, data, oscal.Version)
		again, _ := os.ReadFile(filepath.Join(r.path("oscal-again"), name))
		if !bytes.Equal(data, again) {
			t.Errorf("%s differs between two renders of the delivery", name)
		}
	}
	var doc struct {
		AR struct {
			BackMatter struct {
				Resources []struct {
					Props  []struct{ Name, Ns, Value string }
					Rlinks []struct {
						Href   string
						Hashes []struct{ Algorithm, Value string }
					}
				}
			} `json:"back-matter"`
		} `json:"assessment-results"`
	}
	data, _ := os.ReadFile(filepath.Join(r.path("oscal"), oscal.AssessmentResultsFile))
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, res := range doc.AR.BackMatter.Resources {
		if len(res.Rlinks) == 0 || len(res.Rlinks[0].Hashes) == 0 {
			continue
		}
		file, err := os.Open(filepath.Join(dir, filepath.FromSlash(res.Rlinks[0].Href)))
		if err != nil {
			t.Fatal(err)
		}
		sums, _, err := digest.Sum(context.Background(), file, digest.SHA256, digest.SM3)
		file.Close()
		if err != nil {
			t.Fatal(err)
		}
		sm3 := ""
		for _, p := range res.Props {
			if p.Name == "sm3" && p.Ns == oscal.Namespace {
				sm3 = p.Value
			}
		}
		if h := res.Rlinks[0].Hashes[0]; h.Algorithm != "SHA-256" || h.Value != hex.EncodeToString(sums[0]) || sm3 != hex.EncodeToString(sums[1]) {
			t.Errorf("%s: cited with %s %s and SM3 %s, which are not the file's", res.Rlinks[0].Href, h.Algorithm, h.Value, sm3)
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d evidence files checked", checked)
	}
	if res := r.run("report", dir, "--format", "oscal"); res.code != ExitUsage || !strings.Contains(res.stderr, "-o DIR") {
		t.Errorf("--format oscal without -o: code %d, %s", res.code, res.stderr)
	}
}

func TestVulnVetAndVulnDBCommands(t *testing.T) {
	r := newRunner(t)
	db := r.path("db")
	res := r.ok("vulndb", "import", "../../testdata/govulndb/osv.tar.gz", "--out", db, "--modified", "2026-08-21")
	if !strings.Contains(res.stdout, "entries:   4291") || !strings.Contains(res.stdout, "modified:  2026-08-21") {
		t.Errorf("vulndb import:\n%s", res.stdout)
	}
	r.env["HEGUI_VULNDB"] = db
	res = r.ok("vulndb", "info", "--json")
	var info struct{ Entries int }
	if json.Unmarshal([]byte(res.stdout), &info); info.Entries != 4291 {
		t.Errorf("vulndb info --json: %s", res.stdout)
	}
	if res := r.run("vulndb", "import", r.path("nothing")); res.code != ExitFailure {
		t.Errorf("import of a missing directory: %d", res.code)
	}

	f := vulnerableFixture(t)
	res = r.run("vuln", f.dir)
	if res.code != ExitFailure || !strings.Contains(res.stdout, "GO-2021-0113") || !strings.Contains(res.stdout, "main (main.go:") {
		t.Errorf("hegui vuln: code %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	res = r.ok("vuln", f.dir, "--format", "openvex", "--fail-on", "none")
	var doc vex.VEX
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || len(doc.Statements) == 0 {
		t.Errorf("hegui vuln --format openvex: %v\n%s", err, res.stdout)
	}
	bin := r.path("app")
	f.goCmd("build", "-o", bin, ".")
	res = r.run("vuln", bin, "--format", "json")
	if res.code != ExitFailure || !strings.Contains(res.stdout, `"status": "linked"`) {
		t.Errorf("hegui vuln BINARY: code %d\n%s", res.code, res.stdout)
	}
	r.writesInPlace(func(out string) []string {
		return []string{"vuln", bin, "--format", "json", "--fail-on", "none", "-o", out}
	})
	if res := r.run("vuln", f.dir, "--format", "yaml"); res.code != ExitUsage {
		t.Errorf("bad --format: code %d", res.code)
	}

	f.write("weak.go", "package main\n\nimport \"crypto/md5\"\n\nfunc weak(b []byte) [16]byte {\n\treturn md5.Sum(b) // #nosec G401 -- a cache key, not security\n}\n\nvar _ = weak\n")
	res = r.ok("vet", f.dir, "--format", "sarif", "--fail-on", "high", "-o", r.path("sast.sarif"))
	data, _ := os.ReadFile(r.path("sast.sarif"))
	schematest.ValidateSARIF(t, data)
	r.writesInPlace(func(out string) []string {
		return []string{"vet", f.dir, "--analyzers", "security", "--fail-on", "none", "-o", out}
	})
	res = r.run("vet", f.dir)
	if !strings.Contains(res.stdout, "suppressed by #nosec: a cache key, not security") {
		t.Errorf("hegui vet does not show the suppression and its reason:\n%s", res.stdout)
	}
}

// checkOperatorEvidence checks two endpoints with hegui tlscheck --json, a
// real Go TLS server that meets gbt22239-l3 and one that accepts TLS 1.0,
// and attaches both to the delivery's report: every format that takes
// them shows them beside the operator parts of the transport controls,
// validated by its schema; bad evidence is refused with a reason.
func checkOperatorEvidence(t *testing.T, r *runner, dir string) {
	t.Helper()
	ca := testcert.NewCA(t, "Operator Root")
	os.WriteFile(r.path("operator-root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o644)
	cert := ca.Leaf(t, "127.0.0.1")
	good := testcert.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	weak := testcert.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12})
	res := r.ok("tlscheck", good, "--ca", r.path("operator-root.pem"), "--json")
	os.WriteFile(r.path("tls-good.json"), []byte(res.stdout), 0o644)
	res = r.run("tlscheck", weak, "--ca", r.path("operator-root.pem"), "--json")
	if res.code != ExitFailure {
		t.Fatalf("tlscheck of a TLS 1.0 server: code %d", res.code)
	}
	os.WriteFile(r.path("tls-weak.json"), []byte(res.stdout), 0o644)
	withEvidence := []string{"report", dir, "--evidence", r.path("tls-good.json"), "--evidence", r.path("tls-weak.json")}

	res = r.ok(append(withEvidence, "--format", "json")...)
	schematest.Report(t, "hegui report --evidence --format json", []byte(res.stdout))
	var rep format.Report
	json.Unmarshal([]byte(res.stdout), &rep)
	if len(rep.OperatorEvidence) != 2 || !rep.OperatorEvidence[0].Meets || rep.OperatorEvidence[1].Meets ||
		rep.OperatorEvidence[0].File != "tls-good.json" || !slices.ContainsFunc(rep.OperatorEvidence[1].Findings, func(f format.EvidenceFinding) bool {
		return f.Rule == "old-version" && f.Level == "error"
	}) {
		t.Fatalf("operator evidence %+v", rep.OperatorEvidence)
	}
	transport := map[string][]string{"gbt22239-2019-l3": {"8.1.2.2 a", "8.1.2.2 b", "8.1.4.1 c", "8.1.4.7 a", "8.1.4.8 a"}}
	for _, f := range rep.Compliance {
		var beside []string
		for _, o := range f.Controls {
			if len(o.Operator.Evidence) > 0 {
				beside = append(beside, o.ID)
			}
			if o.Operator.Status != format.ToComplete {
				t.Errorf("%s %s: operator part %s", f.ID, o.ID, o.Operator.Status)
			}
		}
		if strings.Join(beside, ",") != strings.Join(transport[f.ID], ",") || f.Summary.OperatorEvidenceFailing != len(beside) {
			t.Errorf("%s: evidence beside %v, summary %+v", f.ID, beside, f.Summary)
		}
	}
	res = r.ok(append(withEvidence, "--format", "md")...)
	for _, want := range []string{"### 运营者证据 Operator evidence", "符合 TLS 配置规则 gbt22239-l3", "fails the TLS profile gbt22239-l3", "(operator evidence on 5, failing on 5)"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("Markdown with evidence lacks %q", want)
		}
	}
	res = r.ok(append(withEvidence, "--format", "html")...)
	if !strings.Contains(res.stdout, `id="operator-evidence"`) || !strings.Contains(res.stdout, weak) {
		t.Error("report.html with evidence lacks its section")
	}
	res = r.ok(append(withEvidence, "--format", "oscal", "--framework", "等保", "-o", r.path("oscal-evidence"))...)
	data, _ := os.ReadFile(filepath.Join(r.path("oscal-evidence"), oscal.AssessmentResultsFile))
	schematest.OSCAL(t, "assessment-results.json with operator evidence", data, oscal.Version)
	if !strings.Contains(string(data), `"type": "inventory-item"`) || !strings.Contains(string(data), "Operator evidence: TLS endpoint "+weak) {
		t.Error("assessment-results.json lacks the operator evidence")
	}

	// Bad evidence: one line, exit 1 (or 2 for a format that cannot take it).
	os.WriteFile(r.path("not-tls.json"), []byte(`{"schema":"hegui.dev/report/v2"}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--evidence", r.path("not-tls.json")}, ExitFailure, `not-tls.json: schema "hegui.dev/report/v2": this hegui reads "hegui.dev/tlscheck/v1"`},
		{[]string{"--evidence", r.path("missing.json")}, ExitFailure, "missing.json"},
		{[]string{"--evidence", dir}, ExitFailure, "directory"},
		{[]string{"--evidence", r.path("tls-good.json"), "--format", "sarif"}, ExitUsage, "--evidence goes into the html, json, md and oscal formats"},
	} {
		res := r.run(append([]string{"report", dir}, tc.args...)...)
		if res.code != tc.code || !strings.Contains(res.stderr, tc.want) || strings.Count(strings.TrimSpace(res.stderr), "\n") > 1 {
			t.Errorf("report %v: code %d, stderr %q; want %d and %q", tc.args, res.code, res.stderr, tc.code, tc.want)
		}
	}
}
