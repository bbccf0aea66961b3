package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/format/formattest"
	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/internal/schematest"
	"hegui.dev/hegui/keys"
)

// sample is a fixed report exercising every section: two binaries (one not
// reproducible, one failing a hardening check), licences with an unknown
// one, a policy violation, two signers (one a development key), warnings.
func sample() *format.Report {
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	bin := func(target buildrecipe.Target, repro *format.Reproducibility, checks []format.Check) *format.Binary {
		return &format.Binary{
			Build: "app", Main: ".", Target: target, Path: "bin/" + target.Slug() + "/app", Size: 2 << 20,
			SHA256: strings.Repeat("5a", 32), SM3: strings.Repeat("3c", 32), GoVersion: "go1.26.8", ModuleCount: 4,
			Args: []string{"build", "-trimpath", "-o", "bin/" + target.Slug() + "/app", "."}, Env: append(target.Env(), "CGO_ENABLED=0"),
			Reproducible: repro, Hardening: &format.Hardening{Format: "ELF", Checks: checks},
			SBOMs: []string{"sbom/app_" + target.Slug() + ".spdx.json", "sbom/app_" + target.Slug() + ".cdx.json"},
		}
	}
	pass := []format.Check{{Name: "static", Status: "pass", Detail: "statically linked"}, {Name: "pie", Status: "n/a", Detail: "internal linker"}}
	fail := []format.Check{{Name: "glibc", Status: "fail", Detail: "needs glibc 2.34, newer than the baseline 2.28: __libc_start_main@GLIBC_2.34"}}
	amd64 := bin(buildrecipe.Target{OS: "linux", Arch: "amd64"}, &format.Reproducibility{Status: "identical", SecondSHA256: strings.Repeat("5a", 32)}, pass)
	amd64.RuntimePackages = []string{"hegui.dev/hegui/translog"} // the service logs through translog's slog handler
	r := &format.Report{
		Schema: format.ReportSchema, Project: "app", Module: "example.com/app", Hegui: "v0.1.0",
		Version:     format.Version{Version: "v1.2.3", Commit: strings.Repeat("c0", 20), CommitTime: t0.Add(-time.Hour), Tag: "v1.2.3", VCS: true, RemoteURL: "https://git.example.com/app.git"},
		Started:     t0,
		Finished:    t0.Add(2 * time.Minute),
		Development: true,
		Verdict:     format.Verdict{Violations: []format.Violation{{Rule: "policy.licenses.deny", Subject: "example.com/agpl@v1.0.0", Message: "example.com/agpl@v1.0.0 is licensed under AGPL-3.0, which the policy denies", Remedy: "remove or replace the module"}}},
		Warnings:    []string{"THIS DELIVERY IS SIGNED WITH A DEVELOPMENT KEY", "<script>alert(1)</script> is shown as text"},
		Binaries: []*format.Binary{
			amd64,
			bin(buildrecipe.Target{OS: "linux", Arch: "loong64"}, &format.Reproducibility{Status: "different", Difference: "sizes 10 and 10 bytes; first difference at offset 0x4 in section .rodata"}, fail),
		},
		Licenses: format.LicenseSection{
			Modules: []*format.ModuleLicense{
				{Module: "github.com/davecgh/go-spew", Version: "v1.1.1", Declared: []format.LicenseMatch{{ID: "ISC", File: "LICENSE", Confidence: 100}}, Concluded: "ISC", Source: "module cache"},
				{Module: "example.com/odd", Version: "v0.1.0", Concluded: "NOASSERTION", Unknown: []string{"LICENSE"}, Notices: []string{"NOTICE"}, Source: "module cache"},
			},
			Counts:     map[string]int{"ISC": 1, "NOASSERTION": 1},
			Unresolved: 1,
		},
		Signers: []*format.Signer{
			{KeyID: strings.Repeat("ab", 32), Algorithm: keys.SM2, Role: "primary", Label: "development key keyring:hegui-dev", Development: true},
			{KeyID: strings.Repeat("cd", 32), Algorithm: keys.ECDSAP256, Role: "co-signer", Label: "ec.key", Subject: "/CN=Release"},
		},
		Provenance: "provenance.intoto.jsonl",
		Bundles:    []string{"cosign/app_linux_amd64.cdcdcdcdcdcdcdcd.sigstore.json"},
		Stages:     []format.StageRecord{{Name: "build", Seconds: 12.5}, {Name: "sbom", Seconds: 0.4}},
		Vulnerabilities: format.VulnSection{
			Status: format.Scanned, Files: []string{"vulns.json", "vulns.sarif", "vex.openvex.json"},
			Ignores: []format.IgnoreRule{{ID: "GO-2022-1059", Reason: "Accept-Language comes from our own proxy", Expires: "2027-01-31", Matched: []string{"GO-2022-1059 in golang.org/x/text"}}},
			Scan:    formattest.Vulns(t0),
		},
		StaticAnalysis: format.SASTSection{Status: format.Scanned, Files: []string{"sast.json", "sast.sarif"}, Scan: &format.SASTDocument{
			Schema: format.SASTSchema, Packages: 3, Files: 7,
			Tools:   []format.SASTTool{{Name: "go vet", Module: "golang.org/x/tools", Version: "v0.51.0", Rules: 35}, {Name: "gosec", Module: "github.com/securego/gosec/v2", Version: "v2.27.1", Rules: 61}},
			Summary: format.SASTSummary{Total: 2, Suppressed: 1, BySeverity: map[string]int{"medium": 1}, ByTool: map[string]int{"gosec": 2}},
			Findings: []*format.SASTFinding{
				{Tool: "gosec", Rule: "G401", CWE: 328, Severity: "medium", Confidence: "high", Message: "Use of weak cryptographic primitive", Package: "example.com/app", File: "main.go", Line: 11, Column: 9},
				{Tool: "gosec", Rule: "G304", CWE: 22, Severity: "medium", Confidence: "high", Message: "Potential file inclusion via variable", Package: "example.com/app", File: "config.go", Line: 20, Column: 15,
					Suppression: &format.SASTSuppression{Directive: "//nolint:gosec", Justification: "the path is the operator's own configuration"}},
			},
		}},
		Tests: format.TestsSection{Status: format.TestsRan, Files: []string{"tests.json"}, Run: sampleTests()},
		PersonalData: format.PIISection{Status: format.Scanned, Files: []string{"pii.json"}, Scan: &format.PIIScan{
			FilesRead: 41, Skipped: 2, Total: 3, Gating: 1, FailOn: []string{"idcard", "mobile", "bankcard"},
			Kinds: []format.PIIKind{
				{Kind: "mobile", Count: 1, Files: 1, Gates: true, Samples: []string{"138****5678"}},
				{Kind: "email", Count: 2, Files: 1, Samples: []string{"a***@example.com", "b***@example.com"}},
			},
		}},
		Cryptography: sampleInventory(),
		Policy: format.PolicySettings{Mode: "enforce", LicenseAllow: []string{}, LicenseDeny: []string{"AGPL-3.0"}, VulnFailOn: "high", UnknownSeverity: "high",
			DatabaseMaxAge: "30d", DatabaseMaxAgeDays: 30, StaticFailOn: "high", StaticRules: []string{}, Hardening: "fail", Reproducibility: "fail", Tests: "fail", PIIGate: "fail"},
	}
	r.Verdict.Violations = append(r.Verdict.Violations, format.Violation{Rule: "policy.pii", Subject: "testdata/users.json",
		Message: "testdata/users.json holds personal information: 1 mobile (line 3; 138****5678)", Remedy: "if it is real, remove it; if it is synthetic, mark its line pii:ignore"})
	r.Verdict.Violations = append(r.Verdict.Violations, format.Violation{Rule: "policy.tests", Subject: "TestRestore in example.com/app/internal/store",
		Message: "TestRestore failed in example.com/app/internal/store: store_test.go:88: restored 2 of 3 records", Remedy: "fix the test or the code it tests (tests.json has its output)"})
	r.Verdict.Mode = "enforce"
	r.Documents = []format.Document{{File: "documents/SECURITY.md", Source: "SECURITY.md", Kind: "security-policy", Title: "Security policy",
		SHA256: strings.Repeat("d0", 32), Controls: []string{"nist-ssdf-1.1:RV.1.3"}}}
	r.Attestations = []format.Attestation{{Framework: "gbt39786-2021-l3", Control: "8.4 h", File: format.AttestationPath("gbt39786-2021-l3", "8.4 h"),
		Statement: "app signs each transfer order at origin with the operator's SM2 key (package orders, func Sign) and its receipt at the receiving bank; the keys are configured as in the operations manual, section 4."}}
	// The operator attached two endpoint checks (hegui report --evidence):
	// one meets the profile with a warning, one fails it.
	unprobed := []string{"SSL 2.0 and 3.0", "SM2 certificates and TLCP (GB/T 38636)"}
	r.OperatorEvidence = []format.OperatorEvidence{
		{Kind: format.EvidenceTLS, File: "tls-api.json", SHA256: strings.Repeat("7a", 32), SM3: strings.Repeat("7b", 32),
			Subject: "10.0.0.5:443 (server name api.example.cn)", Checked: t0.Add(48 * time.Hour), Profile: "gbt22239-l3", Meets: true,
			Summary: format.Text{EN: "accepts TLS 1.3, TLS 1.2, refuses TLS 1.1, TLS 1.0; certificate ECDSA 256, ECDSA-SHA256, until 2027-01-10, chain verifies for api.example.cn; client certificate not requested",
				ZH: "接受 TLS 1.3、TLS 1.2，拒绝 TLS 1.1、TLS 1.0；证书 ECDSA 256，ECDSA-SHA256，有效期至 2027-01-10，证书链对 api.example.cn 验证通过；客户端证书 不要求"},
			Unprobed: unprobed,
			Findings: []format.EvidenceFinding{{Rule: "expiring", Level: "warning", Message: "certificate 0 (CN=api.example.cn) expires in 19 days (2027-01-10)"}}},
		{Kind: format.EvidenceTLS, File: "tls-admin.json", SHA256: strings.Repeat("8a", 32), SM3: strings.Repeat("8b", 32),
			Subject: "10.0.0.6:8443 (server name admin.example.cn)", Checked: t0.Add(48 * time.Hour), Profile: "gbt22239-l3", Meets: false,
			Summary:  format.Text{EN: "accepts TLS 1.2, TLS 1.0, refuses TLS 1.3, TLS 1.1", ZH: "接受 TLS 1.2、TLS 1.0，拒绝 TLS 1.3、TLS 1.1"},
			Unprobed: unprobed,
			Findings: []format.EvidenceFinding{{Rule: "old-version", Level: "error", Message: "TLS 1.0 is accepted; gbt22239-l3 allows TLS 1.2 or later"}}},
	}
	cats, err := compliance.Catalogs()
	if err != nil {
		panic(err)
	}
	r.Compliance = compliance.Evaluate(cats, Evidence(r, func(p string) string { return "sha256:" + strings.Repeat("e1", 32) }))
	return r
}

// sampleTests is a tests.json: a package that passes with a fuzz target,
// one with a failing test, one without tests.
func sampleTests() *format.TestsDocument {
	pct := func(v float64) *float64 { return &v }
	pkgs := []*format.TestPackage{
		{Package: "example.com/app", Status: format.TestPass, Tests: 12, Passed: 11, Skipped: 1, FuzzTargets: []string{"FuzzParseConfig"}, FuzzSeeds: 4,
			Coverage: pct(68.2), Statements: 410, Seconds: 1.3},
		{Package: "example.com/app/cmd/app", Status: format.NoTests, Coverage: pct(0), Statements: 25, Seconds: 0.2},
		{Package: "example.com/app/internal/store", Status: format.TestFail, Tests: 5, Passed: 4, Failed: 1, Coverage: pct(54.9), Statements: 120, Seconds: 2.8,
			Failures: []format.TestFailure{{Test: "TestRestore", Output: "    store_test.go:88: restored 2 of 3 records\n    store_test.go:89: missing <record id=3>"}}},
	}
	totals := format.SumTests(pkgs)
	totals.Coverage = pct(62.3)
	return &format.TestsDocument{
		Schema: format.TestsSchema, Module: "example.com/app", GoVersion: "go1.26.8",
		Command: []string{"go", "test", "-json", "-count=1", "-cover", "-race", "-short", "-timeout=10m0s", "-coverprofile=/tmp/hegui-tests-1/cover.out", "./..."},
		Race:    format.TestRace{Enabled: true}, Short: true, Timeout: "10m", Seconds: 14.2, Totals: totals, Packages: pkgs,
	}
}

func sampleInventory() *cryptoinv.Inventory {
	inv := &cryptoinv.Inventory{
		Protection: []cryptoinv.Use{
			{Algorithm: "SM2-with-SM3", Purpose: "signature of the manifest and the provenance", Covers: []string{"manifest.json", "provenance.intoto.jsonl"}, KeyID: strings.Repeat("ab", 32)},
			{Algorithm: "SM3", Purpose: "digest of every file", Covers: []string{"manifest.json", "SM3SUMS"}},
		},
		Keys: []cryptoinv.Key{{ID: strings.Repeat("ab", 32), Algorithm: "sm2", Role: "primary", Store: "keyring", Development: true}},
		Binaries: []cryptoinv.BinaryCrypto{{Path: "bin/linux_amd64/app", Algorithms: []string{"AES", "MD5", "SM4"},
			Protocols: []string{"TLS"}, Packages: []string{"crypto/aes", "crypto/md5", "crypto/tls", "github.com/emmansun/gmsm/sm4"}}},
		Libraries: []string{"github.com/emmansun/gmsm@v0.44.1"},
	}
	inv.Finish()
	return inv
}

func TestJSONSchema(t *testing.T) {
	r := sample()
	normalize(r)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	schematest.Report(t, "the sample report.json", data)
	// The schema is not a formality: a report without its compliance
	// matrix, or with an unknown status, does not pass.
	var doc map[string]any
	json.Unmarshal(data, &doc)
	delete(doc, "compliance")
	broken, _ := json.Marshal(doc)
	if err := schematest.ValidateReport(broken); err == nil {
		t.Error("a report.json without its compliance matrix validates")
	}
}

// TestEveryStatusValidates writes the sample report with each value of
// each status type the pipeline can record, and validates it: a status the
// schema does not allow would make hegui deliver publish a report that hegui
// report refuses (a failed second build once did).
func TestEveryStatusValidates(t *testing.T) {
	validate := func(what string, r *format.Report) {
		t.Helper()
		normalize(r)
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := schematest.ValidateReport(data); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for _, s := range format.ReproducibilityStatuses {
		r := sample()
		r.Binaries[0].Reproducible = &format.Reproducibility{Status: s, Reason: "why"}
		validate("reproducibility "+string(s), r)
	}
	for _, s := range format.CheckStatuses {
		r := sample()
		r.Binaries[0].Hardening.Checks[0].Status = s
		validate("check "+string(s), r)
	}
	for _, s := range format.ScanStates {
		r := sample()
		r.Vulnerabilities.Status, r.StaticAnalysis.Status = s, s
		validate("scan "+string(s), r)
	}
	for _, s := range format.TestsStates {
		r := sample()
		r.Tests.Status = s
		validate("tests "+string(s), r)
	}
	for _, s := range format.TestStatuses {
		r := sample()
		r.Tests.Run.Packages[0].Status = s
		validate("test package "+string(s), r)
	}
}

func TestHTMLGolden(t *testing.T) {
	html, err := HTML(sample())
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "report.html.golden", html)
	if bytes.Contains(html, []byte("<script>alert")) {
		t.Error("a warning's text was not escaped")
	}
	for _, forbidden := range []string{"http://", "https://fonts", "<script", "<link", "@import"} {
		if bytes.Contains(bytes.ReplaceAll(html, []byte("https://git.example.com"), nil), []byte(forbidden)) {
			t.Errorf("report.html contains %q: it must not load anything", forbidden)
		}
	}
}

// TestReportInBrowser opens report.html in headless Chromium: it renders
// every section, makes no network request, and prints to PDF.
func TestReportInBrowser(t *testing.T) {
	html, _ := HTML(sample())
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	os.WriteFile(file, html, 0o644)
	ctx := browser(t)

	var mu sync.Mutex
	var requests []string
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.ID("warnings"))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	sections, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("section, header")).map(e => e.id + ":" + Math.round(e.getBoundingClientRect().height))`))
	if err != nil {
		t.Fatal(err)
	}
	// The first screen, not the whole page: with all six frameworks the
	// page is about 66,000 pixels tall at this width, past the 65,535
	// that Chromium can capture in one image (it returns none).
	screenshot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	chart, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("svg.chart")))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#compliance table.matrix tbody tr").length`))
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "app v1.2.3") {
		t.Errorf("title %q", title)
	}
	want := []string{"summary", "builds", "reproducibility", "hardening", "sbom", "licenses", "vulnerabilities", "static-analysis",
		"tests", "personal-data", "signatures", "cryptography", "policy", "compliance", "warnings"}
	if len(sections) != len(want) {
		t.Fatalf("sections %v", sections)
	}
	for i, s := range sections {
		id, height, _ := strings.Cut(s, ":")
		if id != want[i] || height == "0" {
			t.Errorf("section %d is %s (height %s), want %s with content", i, id, height, want[i])
		}
	}
	mu.Lock()
	for _, u := range requests {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the report made a network request: %s", u)
		}
	}
	mu.Unlock()
	if len(screenshot) < 1000 || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("screenshot %d bytes, PDF %q…", len(screenshot), pdf[:min(len(pdf), 8)])
	}

	// The compliance chart is drawn: each status that has controls shows
	// up in the screenshot in its colour.
	r := sample()
	controls, counts := 0, format.VendorCounts{}
	for _, f := range r.Compliance {
		controls += len(f.Controls)
		counts.Evidenced += f.Summary.Vendor.Evidenced
		counts.Attested += f.Summary.Vendor.Attested
		counts.Gap += f.Summary.Vendor.Gap
		counts.NotApplicable += f.Summary.Vendor.NotApplicable
	}
	if rows != controls {
		t.Errorf("the compliance tables show %d rows, want %d controls", rows, controls)
	}
	img, err := png.Decode(bytes.NewReader(chart))
	if err != nil {
		t.Fatalf("chart screenshot: %v", err)
	}
	for status, color := range statusColors {
		want := countOf(counts, status) > 0
		if got := hasColor(img, color); got != want {
			t.Errorf("chart screenshot: colour of %s present = %v, want %v (%d controls)", status, got, want, countOf(counts, status))
		}
	}
}

// browser starts headless Chromium for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is needed by this test (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// hasColor reports whether img has a bar segment of the colour hex
// ("#rrggbb", within rounding): more pixels of it than the legend's 12×12
// swatch; the thinnest segment of the sample is over 400 pixels.
func hasColor(img image.Image, hex string) bool {
	var r0, g0, b0 int
	fmt.Sscanf(hex, "#%02x%02x%02x", &r0, &g0, &b0)
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if abs(int(r>>8)-r0) <= 3 && abs(int(g>>8)-g0) <= 3 && abs(int(bb>>8)-b0) <= 3 {
				n++
			}
		}
	}
	return n >= 300
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
