// Package formattest holds sample documents of a delivery for tests:
// complete enough to render every section, fixed so that golden files
// stay put.
package formattest

import (
	"strings"
	"time"

	"hegui.dev/hegui/internal/format"
)

// Vulns is a vulns.json of example.com/app v1.2.3 scanned at t0: a called
// finding with a call path, a called one the policy accepts, and an
// imported one in the standard library.
func Vulns(t0 time.Time) *format.VulnDocument {
	parse := &format.VulnFinding{
		ID: "GO-2021-0113", Aliases: []string{"CVE-2021-38561", "GHSA-ppp9-7jff-5vj2"}, Summary: "Out-of-bounds read in golang.org/x/text/language",
		URL: "https://pkg.go.dev/vuln/GO-2021-0113", Module: "golang.org/x/text", Version: "v0.3.5", Fixed: "v0.3.7",
		Status: format.VulnCalled, Reachable: true, Precision: format.PrecisionCallGraph, Severity: "unknown", Subjects: []string{"source"},
		Packages: []string{"golang.org/x/text/language"}, Symbols: []string{"golang.org/x/text/language.Parse"},
		Paths: [][]format.PathStep{{
			{Symbol: "example.com/app.main", Module: "example.com/app", File: "main.go", Line: 10, Column: 22},
			{Symbol: "golang.org/x/text/language.Parse", Module: "golang.org/x/text", Version: "v0.3.5", File: "language/parse.go", Line: 228, Column: 6},
		}},
	}
	accept := &format.VulnFinding{
		ID: "GO-2022-1059", Aliases: []string{"CVE-2022-32149"}, Summary: "Denial of service via crafted Accept-Language header",
		URL: "https://pkg.go.dev/vuln/GO-2022-1059", Module: "golang.org/x/text", Version: "v0.3.5", Fixed: "v0.3.8",
		Status: format.VulnCalled, Reachable: true, Precision: format.PrecisionCallGraph, Severity: "high", CVSS: &format.CVSS{Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5},
		Subjects: []string{"source"}, Symbols: []string{"golang.org/x/text/language.ParseAcceptLanguage"},
		Ignored: &format.VulnIgnored{Reason: "Accept-Language comes from our own proxy", Expires: "2027-01-31"},
	}
	http2 := &format.VulnFinding{
		ID: "GO-2024-2687", Aliases: []string{"CVE-2023-45288"}, Summary: "HTTP/2 CONTINUATION flood in net/http",
		URL: "https://pkg.go.dev/vuln/GO-2024-2687", Module: "stdlib", Version: "v1.22.0", Fixed: "v1.22.2",
		Status: format.VulnImported, Precision: format.PrecisionCallGraph, Severity: "unknown", Subjects: []string{"source"}, Packages: []string{"net/http"},
	}
	doc := &format.VulnDocument{
		Schema: format.VulnsSchema, Subject: "example.com/app@v1.2.3", Module: "example.com/app", GoVersion: "go1.22.0", Scanned: t0,
		Scanner:  format.VulnScanner{Name: "govulncheck", Module: "golang.org/x/vuln", Version: "v1.8.0"},
		Database: format.VulnDatabase{Digest: "sha256:" + strings.Repeat("d0", 32), Modified: t0.Add(-48 * time.Hour), AgeDays: 2, Entries: 4291},
		Findings: []*format.VulnFinding{parse, accept, http2},
		Scans:    []*format.VulnRecord{{Subject: "source", Patterns: []string{"."}, Mode: "source", Precision: format.PrecisionCallGraph, PeakRSS: 300 << 20, Seconds: 4.2}},
	}
	doc.Summarize()
	return doc
}
