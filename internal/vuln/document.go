package vuln

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"time"

	"hegui.dev/hegui/internal/vulndb"
)

// Schema identifies vulns.json.
const Schema = "hegui.dev/vulns/v1"

// Document is vulns.json: what was scanned, against which database, and
// every finding.
type Document struct {
	Schema  string  `json:"schema"`
	Scanner Scanner `json:"scanner"`
	// Subject is what was scanned: a module and version, or binaries.
	Subject string `json:"subject"`
	// Module is the scanned module's path (source scans).
	Module    string     `json:"module,omitempty"`
	Database  Database   `json:"database"`
	GoVersion string     `json:"goVersion,omitempty"`
	Scanned   time.Time  `json:"scanned"`
	Summary   Summary    `json:"summary"`
	Scans     []*Record  `json:"scans"`
	Findings  []*Finding `json:"findings"`
}

// Scanner names the engine.
type Scanner struct {
	Name    string `json:"name"`
	Module  string `json:"module"`
	Version string `json:"version"`
}

// Database identifies the vulnerability database a scan used.
type Database struct {
	Digest   string    `json:"digest"`
	Modified time.Time `json:"modified"`
	// AgeDays is the database's age when the scan ran; 0 when its age is
	// unknown (its entries carry no modified date), which AgeUnknown says.
	AgeDays    float64 `json:"ageDays"`
	AgeUnknown bool    `json:"ageUnknown,omitempty"`
	Entries    int     `json:"entries"`
}

// AgeText says how old the database is, for messages: "12 days old" or
// "of unknown age".
func (d Database) AgeText() string {
	if d.AgeUnknown {
		return "of unknown age"
	}
	return fmt.Sprintf("%.0f days old", d.AgeDays)
}

// ModifiedText is the database's date, or "an unknown date".
func (d Database) ModifiedText() string {
	if d.AgeUnknown || d.Modified.IsZero() {
		return "an unknown date"
	}
	return d.Modified.Format(time.DateOnly)
}

// Summary counts findings.
type Summary struct {
	Total     int `json:"total"`
	Reachable int `json:"reachable"` // called or linked
	Imported  int `json:"imported"`
	Required  int `json:"required"`
	Ignored   int `json:"ignored"` // accepted by the policy
	// ReachableBySeverity counts reachable findings per severity.
	ReachableBySeverity map[string]int `json:"reachableBySeverity"`
}

// NewDocument describes a scan's result.
func NewDocument(subject string, db *vulndb.Info, res *Result, scanned time.Time) *Document {
	d := &Document{
		Schema: Schema, Scanner: engine(), Subject: subject, GoVersion: res.GoVersion,
		Scanned: scanned.UTC(), Scans: res.Scans, Findings: res.Findings,
		Database: Database{
			Digest: db.Digest, Modified: db.Modified.UTC(), Entries: db.Entries,
		},
	}
	if db.AgeKnown() {
		d.Database.AgeDays = math.Round(db.Age(scanned).Hours()/24*10) / 10
	} else {
		d.Database.AgeUnknown = true
	}
	if d.Findings == nil {
		d.Findings = []*Finding{}
	}
	d.Summarize()
	return d
}

// Summarize recounts the findings (after the policy marks some ignored).
func (d *Document) Summarize() {
	s := Summary{Total: len(d.Findings), ReachableBySeverity: map[string]int{}}
	for _, f := range d.Findings {
		switch {
		case f.Ignored != nil:
			s.Ignored++
		case f.Reachable:
			s.Reachable++
			s.ReachableBySeverity[f.Severity]++
		case f.Status == Imported:
			s.Imported++
		default:
			s.Required++
		}
	}
	d.Summary = s
}

// engine names the linked golang.org/x/vuln.
func engine() Scanner {
	s := Scanner{Name: "govulncheck", Module: "golang.org/x/vuln", Version: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == s.Module {
				s.Version = dep.Version
			}
		}
	}
	return s
}

// JSON is vulns.json.
func (d *Document) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Advice says what to do about a finding, in one sentence.
func (f *Finding) Advice() string {
	mod := f.Module
	if mod == "stdlib" {
		mod = "Go"
	}
	if f.Fixed == "" {
		return fmt.Sprintf("no fixed version of %s is known; avoid %s or accept the risk with a policy ignore rule", mod, strings.Join(firstN(f.affectedCode(), 3), ", "))
	}
	return fmt.Sprintf("upgrade %s to %s or later", mod, DisplayVersion(f.Module, f.Fixed))
}

// affectedCode names what the scanned code uses of the vulnerability.
func (f *Finding) affectedCode() []string {
	switch {
	case len(f.Symbols) > 0:
		return f.Symbols
	case len(f.Packages) > 0:
		return f.Packages
	}
	return []string{f.Module}
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return append(xs[:n:n], "…")
	}
	return xs
}
