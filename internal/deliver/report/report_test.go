package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/keys"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample is a fixed report exercising every section: two binaries (one not
// reproducible, one failing a hardening check), licences with an unknown
// one, a policy violation, two signers (one a development key), warnings.
func sample() *Report {
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	bin := func(target delivery.Target, repro *delivery.Reproducibility, checks []delivery.Check) *delivery.Binary {
		return &delivery.Binary{
			Build: "app", Main: ".", Target: target, Path: "bin/" + target.Slug() + "/app", Size: 2 << 20,
			SHA256: strings.Repeat("5a", 32), SM3: strings.Repeat("3c", 32), GoVersion: "go1.26.8", ModuleCount: 4,
			Reproducible: repro, Hardening: &delivery.Hardening{Format: "ELF", Checks: checks},
			SBOMs: []string{"sbom/app_" + target.Slug() + ".spdx.json", "sbom/app_" + target.Slug() + ".cdx.json"},
		}
	}
	pass := []delivery.Check{{Name: "static", Status: "pass", Detail: "statically linked"}, {Name: "pie", Status: "n/a", Detail: "internal linker"}}
	fail := []delivery.Check{{Name: "glibc", Status: "fail", Detail: "needs glibc 2.34, newer than the baseline 2.28: __libc_start_main@GLIBC_2.34"}}
	return &Report{
		Schema: Schema, Project: "app", Module: "example.com/app", Hegui: "v0.1.0",
		Version:     delivery.Version{Version: "v1.2.3", Commit: strings.Repeat("c0", 20), CommitTime: t0.Add(-time.Hour), Tag: "v1.2.3", VCS: true, RemoteURL: "https://git.example.com/app.git"},
		Started:     t0,
		Finished:    t0.Add(2 * time.Minute),
		Development: true,
		Verdict:     Verdict{Violations: []delivery.Violation{{Rule: "policy.licenses.deny", Subject: "example.com/agpl@v1.0.0", Message: "example.com/agpl@v1.0.0 is licensed under AGPL-3.0, which the policy denies", Remedy: "remove or replace the module"}}},
		Warnings:    []string{"THIS DELIVERY IS SIGNED WITH A DEVELOPMENT KEY", "<script>alert(1)</script> is shown as text"},
		Binaries: []*delivery.Binary{
			bin(delivery.Target{OS: "linux", Arch: "amd64"}, &delivery.Reproducibility{Status: "identical", SecondSHA256: strings.Repeat("5a", 32)}, pass),
			bin(delivery.Target{OS: "linux", Arch: "loong64"}, &delivery.Reproducibility{Status: "different", Difference: "sizes 10 and 10 bytes; first difference at offset 0x4 in section .rodata"}, fail),
		},
		Licenses: LicenseSection{
			Modules: []*delivery.ModuleLicense{
				{Module: "github.com/davecgh/go-spew", Version: "v1.1.1", Declared: []delivery.LicenseMatch{{ID: "ISC", File: "LICENSE", Confidence: 100}}, Concluded: "ISC", Source: "module cache"},
				{Module: "example.com/odd", Version: "v0.1.0", Concluded: "NOASSERTION", Unknown: []string{"LICENSE"}, Notices: []string{"NOTICE"}, Source: "module cache"},
			},
			Counts:     map[string]int{"ISC": 1, "NOASSERTION": 1},
			Unresolved: 1,
		},
		Signers: []*delivery.Signer{
			{KeyID: strings.Repeat("ab", 32), Algorithm: keys.SM2, Role: "primary", Label: "development key keyring:hegui-dev", Development: true},
			{KeyID: strings.Repeat("cd", 32), Algorithm: keys.ECDSAP256, Role: "co-signer", Label: "ec.key", Subject: "/CN=Release"},
		},
		Provenance: "provenance.intoto.jsonl",
		Bundles:    []string{"cosign/app_linux_amd64.cdcdcdcdcdcdcdcd.sigstore.json"},
		Stages:     []delivery.StageRecord{{Name: "build", Seconds: 12.5}, {Name: "sbom", Seconds: 0.4}},
	}
}

func TestHTMLGolden(t *testing.T) {
	html, err := HTML(sample())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "report.html.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(path, html, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(html, want) {
		t.Error("report.html differs from testdata/report.html.golden (go test ./internal/deliver/report -update, then review the diff)")
	}
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
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is needed by this test (apt-get install chromium)")
	}
	html, _ := HTML(sample())
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	os.WriteFile(file, html, 0o644)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var requests []string
	err = chromedp.Listen(ctx, func(ev any) {
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
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
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
	want := []string{"summary", "builds", "reproducibility", "hardening", "sbom", "licenses", "signatures", "policy", "warnings"}
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
	os.WriteFile(filepath.Join(dir, "report.png"), screenshot, 0o644)
}
