package report

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/vulndb"
	"hegui.dev/hegui/internal/vulnscan"
)

// crowded is the sample report grown to the size of a real project's (a
// 72-module backup tool with the AWS SDK, as in the project's issue 10):
// 40 known vulnerabilities in modules with long paths, 90 static-analysis
// findings and 97 policy violations, 86 of them gosec G115. Its messages
// are worded as the policy stage words them.
func crowded() *format.Report {
	r := sample()
	t0 := r.Started
	modules := []struct{ path, version, fixed string }{
		{"github.com/aws/aws-sdk-go-v2/service/s3", "v1.79.3", "v1.96.0"},
		{"github.com/aws/aws-sdk-go-v2/feature/s3/manager", "v1.17.10", "v1.20.1"},
		{"github.com/aws/aws-sdk-go-v2/service/internal/s3shared", "v1.18.15", "v1.18.21"},
		{"github.com/aws/aws-sdk-go-v2/credentials", "v1.17.67", "v1.18.10"},
		{"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob", "v1.6.0", "v1.6.2"},
		{"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "v0.49.0", "v0.61.0"},
		{"github.com/gofiber/fiber/v2", "v2.52.5", "v2.52.9"},
		{"golang.org/x/net", "v0.38.0", "v0.42.0"},
		{"google.golang.org/grpc", "v1.71.0", "v1.74.2"},
		{"stdlib", "v1.24.1", "v1.24.6"},
	}
	summaries := []string{
		"Unbounded memory use when parsing a crafted multipart upload with many parts in the PutObject handler",
		"Path traversal in the download manager",
		"Denial of service",
		"Credentials may be logged in debug output when request signing fails",
		"Improper validation of the blob name allows access to another container",
	}
	statuses := []string{format.VulnCalled, format.VulnImported, format.VulnCalled, format.VulnRequired}
	var findings []*format.VulnFinding
	var violations []format.Violation
	for i := range 40 {
		m := modules[i%len(modules)]
		f := &format.VulnFinding{
			ID: fmt.Sprintf("GO-2025-%04d", 3500+i), Aliases: []string{fmt.Sprintf("CVE-2025-%05d", 47100+i), fmt.Sprintf("GHSA-%04x-7jff-5vj2", 0x9a00+i)},
			Summary: summaries[i%len(summaries)], URL: fmt.Sprintf("https://pkg.go.dev/vuln/GO-2025-%04d", 3500+i),
			Module: m.path, Version: m.version, Fixed: m.fixed, Status: statuses[i%len(statuses)], Precision: format.PrecisionCallGraph,
			Severity: "unknown", Subjects: []string{"source"}, Packages: []string{m.path},
		}
		if i%7 == 6 {
			f.Fixed = ""
		}
		if f.Status == format.VulnCalled {
			f.Reachable = true
			f.Symbols = []string{m.path + ".Client.PutObject"}
			f.Paths = [][]format.PathStep{{
				{Symbol: "github.com/versity/versitygw/s3api/controllers.S3ApiController.PutActions", File: "s3api/controllers/object-put.go", Line: 212, Column: 19},
				{Symbol: "github.com/versity/versitygw/backend/s3proxy.S3Proxy.PutObject", File: "backend/s3proxy/s3.go", Line: 1187, Column: 31},
				{Symbol: m.path + ".Client.PutObject", Module: m.path, Version: m.version, File: "api_op_PutObject.go", Line: 38, Column: 18},
			}}
			if i%3 == 0 {
				f.Severity, f.CVSS = "high", &format.CVSS{Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5}
			}
		}
		findings = append(findings, f)
		if f.Reachable && i < 16 {
			violations = append(violations, format.Violation{
				Rule: "policy.vulnerabilities.fail-on", Subject: f.ID + " in " + f.Module + "@" + format.DisplayVersion(f.Module, f.Version),
				Message: fmt.Sprintf("%s (%s) is called: %s (severity high)", f.ID, f.Aliases[0], f.Symbols[0]),
				Remedy:  f.Advice() + "; or, if it cannot be exploited here, add an ignore rule with a reason and an expiry date",
			})
		}
	}
	res := &vulnscan.Result{Findings: findings, GoVersion: "go1.24.1",
		Scans: []*format.VulnRecord{{Subject: "source", Patterns: []string{"./..."}, Mode: "source", Precision: format.PrecisionCallGraph, PeakRSS: 1 << 30, Seconds: 48.1}}}
	doc := vulnscan.NewDocument("github.com/versity/versitygw@v1.8.0", &vulndb.Info{Digest: "sha256:" + strings.Repeat("d0", 32), Modified: t0.Add(-48 * time.Hour), Entries: 4291}, res, t0)
	doc.Scanner.Version = "v1.8.0"
	r.Vulnerabilities.Scan = doc

	packages := []string{"backend/posix", "backend/azure", "s3api/utils", "auth", "backend/scoutfs"}
	conversions := []string{"int -> int32", "uint64 -> int64", "int64 -> uint64", "int -> uint16"}
	var sastFindings []*format.SASTFinding
	addSAST := func(f *format.SASTFinding) {
		sastFindings = append(sastFindings, f)
		violations = append(violations, format.Violation{
			Rule: "policy.static-analysis", Subject: f.Rule + " at " + f.Where(),
			Message: fmt.Sprintf("%s %s at %s: %s (severity %s, CWE-%d)", f.Tool, f.Rule, f.Where(), f.Message, f.Severity, f.CWE),
			Remedy:  fmt.Sprintf("fix the code; if it is a false positive, mark the line with \"#nosec %s -- reason\"", f.Rule),
		})
	}
	for i := range 86 {
		p := packages[i%len(packages)]
		addSAST(&format.SASTFinding{Tool: "gosec", Rule: "G115", CWE: 190, Severity: "high", Confidence: "medium",
			Message: "integer overflow conversion " + conversions[i%len(conversions)], Package: "github.com/versity/versitygw/" + p,
			File: p + "/" + filepath.Base(p) + ".go", Line: 100 + 37*i, Column: 9 + i%20})
	}
	for i := range 4 {
		addSAST(&format.SASTFinding{Tool: "gosec", Rule: "G304", CWE: 22, Severity: "high", Confidence: "high",
			Message: "Potential file inclusion via variable", Package: "github.com/versity/versitygw/backend/posix",
			File: "backend/posix/posix.go", Line: 410 + 90*i, Column: 15})
	}
	r.StaticAnalysis.Scan.Findings = sastFindings
	r.StaticAnalysis.Scan.Summary = format.SASTSummary{Total: len(sastFindings), BySeverity: map[string]int{"high": len(sastFindings)}, ByTool: map[string]int{"gosec": len(sastFindings)}}
	r.Verdict.Violations = append(violations, r.Verdict.Violations...)

	var mods []*format.ModuleLicense
	for _, m := range modules[:9] {
		mods = append(mods, &format.ModuleLicense{Module: m.path, Version: m.version, Concluded: "Apache-2.0",
			Declared: []format.LicenseMatch{{ID: "Apache-2.0", File: "LICENSE.txt", Confidence: 100}}, Notices: []string{"NOTICE.txt"}})
	}
	r.Licenses.Modules = append(mods, r.Licenses.Modules...)
	r.Licenses.Counts["Apache-2.0"] = len(mods)
	for _, b := range r.Binaries {
		b.Path = strings.Replace(b.Path, "/app", "/versitygw", 1)
	}
	return r
}

// crowdedPolicyRows is the number of rows the policy table of crowded
// shows: one per fix of each rule. The 8 reachable findings among the
// first 16 vulnerabilities are in 5 modules, so they have 5 fixes (each
// "upgrade MODULE to VERSION", or no fix known); the 86 G115 findings
// share one fix and the 4 G304 findings another; the denied licence, the
// file holding personal information and the failing test of the sample
// are the last three.
const crowdedPolicyRows = 5 + 1 + 1 + 1 + 1 + 1

// identifierColumns are the columns of identifiers (module paths,
// versions, file paths, rule names) that must read as a whole: each
// cell on one line, never squeezed into a column a few characters wide.
var identifierColumns = []struct{ section, header string }{
	{"builds", "文件 File"},
	{"builds", "大小 Size"},
	{"licenses", "模块 Module"},
	{"licenses", "版本 Version"},
	{"vulnerabilities", "漏洞 Vulnerability"},
	{"vulnerabilities", "模块 Module"},
	{"vulnerabilities", "修复版本 Fixed in"},
	{"static-analysis", "位置 Location"},
	{"static-analysis", "规则 Rule"},
	{"policy", "规则 Rule"},
}

// layoutScript measures the page as laid out. It returns the page's width
// against the window's, the cells of identifierColumns (by section and
// header) whose text takes more than one line (counted from the boxes
// of its text), and the tables that are wider than their section.
const layoutScript = `(() => {
	const lines = el => {
		const tops = [];
		const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			if (!n.textContent.trim()) continue;
			const r = document.createRange();
			r.selectNodeContents(n);
			for (const b of r.getClientRects()) {
				if (b.width > 0 && !tops.some(t => Math.abs(t - b.top) < 3)) tops.push(b.top);
			}
		}
		return tops.length;
	};
	const broken = [], checked = [];
	for (const [section, header] of %s) {
		for (const table of document.querySelectorAll("#" + section + " table")) {
			const headers = [...table.querySelectorAll("thead th")];
			const col = headers.findIndex(th => th.textContent === header);
			if (col < 0) continue;
			for (const row of table.querySelectorAll("tbody tr")) {
				if (row.children.length !== headers.length) continue; // a finding's call paths
				const td = row.children[col];
				// A cell's identifier may be followed by text that wraps
				// (a vulnerability's aliases and summary): only it is measured.
				const first = td.querySelector(".unbroken") || td;
				checked.push(section + "/" + header);
				const n = lines(first);
				if (n > 1) broken.push(section + "/" + header + ": " + JSON.stringify(first.textContent) + " on " + n + " lines, " + Math.round(first.getBoundingClientRect().width) + " px wide");
			}
		}
	}
	const wide = [...document.querySelectorAll("table")].filter(t => t.getBoundingClientRect().width > t.closest("section, header").getBoundingClientRect().width + 1).map(t => t.closest("section").id);
	return {pageWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth, checked: new Set(checked).size, broken, wide};
})()`

type layout struct {
	PageWidth   int      `json:"pageWidth"`
	WindowWidth int      `json:"windowWidth"`
	Checked     int      `json:"checked"`
	Broken      []string `json:"broken"`
	Wide        []string `json:"wide"`
}

// TestLayoutAtLaptopWidths lays out a crowded report in Chromium at two
// common laptop widths and measures it: the page does not scroll
// sideways, every identifier cell is on one line, and each table fits its
// section. The policy table has one row per rule and fix, lists every
// violation, folds most away on screen and prints them all. Printed on A4,
// no table is cut off.
func TestLayoutAtLaptopWidths(t *testing.T) {
	r := crowded()
	html, err := HTML(r)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, html, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	var columns [][2]string
	for _, c := range identifierColumns {
		columns = append(columns, [2]string{c.section, c.header})
	}
	columnsJSON, err := json.Marshal(columns)
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(layoutScript, columnsJSON)
	for _, width := range []int64{1366, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 768), chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.ID("warnings"))); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[layout](script))
		if err != nil {
			t.Fatal(err)
		}
		if got.PageWidth > got.WindowWidth {
			t.Errorf("at %d px the page is %d px wide: it scrolls sideways", width, got.PageWidth)
		}
		if got.Checked != len(identifierColumns) {
			t.Errorf("at %d px %d of the %d identifier columns were found", width, got.Checked, len(identifierColumns))
		}
		for _, b := range got.Broken {
			t.Errorf("at %d px %s", width, b)
		}
		if len(got.Wide) > 0 {
			t.Errorf("at %d px tables wider than their section in %v", width, got.Wide)
		}
	}

	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#policy tbody tr")].map(tr => tr.children[0].textContent + " " + tr.children[1].textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != crowdedPolicyRows {
		t.Errorf("the policy table has %d rows, want %d (one per rule and fix): %q", len(rows), crowdedPolicyRows, rows)
	}
	if want := "policy.static-analysis 86"; !slices.Contains(rows, want) {
		t.Errorf("the policy table has no row %q: %q", want, rows)
	}
	// Every violation is in the page. On screen those after the first few
	// of a row are folded away; printed, every one shows.
	for _, media := range []string{"screen", "print"} {
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
			_, err := cdp.Call(ctx, tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
		listed, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll("#policy li").length,
			[...document.querySelectorAll("#policy li")].filter(li => li.checkVisibility()).length]`))
		if err != nil {
			t.Fatal(err)
		}
		if listed[0] != len(r.Verdict.Violations) {
			t.Errorf("the policy table lists %d violations, want all %d", listed[0], len(r.Verdict.Violations))
		}
		if media == "screen" && listed[1] >= listed[0] {
			t.Errorf("on screen, the policy table shows all %d violations: none folded away", listed[0])
		}
		if media == "print" && listed[1] != listed[0] {
			t.Errorf("printed, the policy table shows %d of its %d violations", listed[1], listed[0])
		}
	}
	// On A4 paper (720 px between the margins) no table is cut off.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(720, 1000)); err != nil {
		t.Fatal(err)
	}
	printed, err := chromedp.Run(ctx, chromedp.Evaluate[layout](script))
	if err != nil {
		t.Fatal(err)
	}
	if len(printed.Wide) > 0 || printed.PageWidth > printed.WindowWidth {
		t.Errorf("printed 720 px wide, the page is %d px wide, with tables wider than their section in %v", printed.PageWidth, printed.Wide)
	}
}
