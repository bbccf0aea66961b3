package vulnscan

import (
	"math"
	"runtime/debug"
	"time"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/vulndb"
)

// NewDocument describes a scan's result.
func NewDocument(subject string, db *vulndb.Info, res *Result, scanned time.Time) *format.VulnDocument {
	d := &format.VulnDocument{
		Schema: format.VulnsSchema, Scanner: engine(), Subject: subject, GoVersion: res.GoVersion,
		Scanned: scanned.UTC(), Scans: res.Scans, Findings: res.Findings,
		Database: format.VulnDatabase{
			Digest: db.Digest, Modified: db.Modified.UTC(), Entries: db.Entries,
		},
	}
	if db.AgeKnown() {
		d.Database.AgeDays = math.Round(db.Age(scanned).Hours()/24*10) / 10
	} else {
		d.Database.AgeUnknown = true
	}
	if d.Findings == nil {
		d.Findings = []*format.VulnFinding{}
	}
	d.Summarize()
	return d
}

// engine names the linked golang.org/x/vuln.
func engine() format.VulnScanner {
	s := format.VulnScanner{Name: "govulncheck", Module: "golang.org/x/vuln", Version: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == s.Module {
				s.Version = dep.Version
			}
		}
	}
	return s
}
