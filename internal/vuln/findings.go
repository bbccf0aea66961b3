package vuln

import (
	"fmt"
	"sort"
	"strings"

	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"hegui.dev/hegui/internal/vulndb"
)

// Status says how close the scanned code comes to a vulnerability.
const (
	// Called: a call path from the scanned code reaches a vulnerable
	// symbol (source mode).
	Called = "called"
	// Linked: a vulnerable symbol is in the binary (binary mode, which
	// sees what is linked, not what is reachable).
	Linked = "linked"
	// Imported: a vulnerable package is imported, but no vulnerable
	// symbol is reached (or the scan did not look at symbols).
	Imported = "imported"
	// Required: the vulnerable module is in the build, but none of its
	// vulnerable packages is.
	Required = "required"
)

// Precision says how a finding was established.
const (
	// CallGraph: source analysis with a call graph (govulncheck symbol scan).
	CallGraph = "call-graph"
	// BinarySymbols: the symbols present in a compiled binary.
	BinarySymbols = "binary-symbols"
	// PackageImports: the import graph only (package-level scan).
	PackageImports = "package-imports"
)

var statusRank = map[string]int{Required: 0, Imported: 1, Linked: 2, Called: 3}

// Reachable reports whether a status means the vulnerable code can run.
func Reachable(status string) bool { return status == Called || status == Linked }

// Severity levels, in increasing order.
var Severities = []string{"unknown", "low", "medium", "high", "critical"}

// SeverityRank orders severities; unknown names rank -1.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return -1
}

// Finding is one known vulnerability of one module, as it concerns the
// scanned code.
type Finding struct {
	ID        string   `json:"id"`      // OSV id, e.g. GO-2021-0113
	Aliases   []string `json:"aliases"` // CVE and GHSA ids
	Summary   string   `json:"summary,omitempty"`
	Details   string   `json:"details,omitempty"`
	URL       string   `json:"url"`
	Module    string   `json:"module"`  // "stdlib" for the standard library
	Version   string   `json:"version"` // the version found
	Fixed     string   `json:"fixed,omitempty"`
	Status    string   `json:"status"` // called, linked, imported, required
	Reachable bool     `json:"reachable"`
	// Precision is how the status was established.
	Precision string `json:"precision"`
	// Severity is critical, high, medium, low, or unknown when the
	// database gives no score (the Go database never does).
	Severity string `json:"severity"`
	CVSS     *CVSS  `json:"cvss,omitempty"`
	// Packages are the vulnerable packages imported; Symbols the
	// vulnerable functions reached or linked.
	Packages []string `json:"packages,omitempty"`
	Symbols  []string `json:"symbols,omitempty"`
	// Paths are call paths from the scanned code to vulnerable symbols,
	// entry point first; one per symbol, a few at most.
	Paths [][]PathStep `json:"paths,omitempty"`
	// Subjects are what was scanned when the finding was made: "source"
	// or the binaries.
	Subjects []string `json:"subjects"`
	// Ignored is set when the policy accepts the finding.
	Ignored *Ignored `json:"ignored,omitempty"`
}

// CVSS is a severity score from the database.
type CVSS struct {
	Vector string  `json:"vector"`
	Score  float64 `json:"score"`
}

// PathStep is one function on a call path, with where it is: the call
// site, or, for the vulnerable function itself, its declaration. File is
// relative to the module's root (GOROOT for the standard library).
type PathStep struct {
	Symbol  string `json:"symbol"`
	Module  string `json:"module,omitempty"`
	Version string `json:"version,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// Where is "file:line", or "" when the step has no position.
func (s PathStep) Where() string {
	if s.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// Ignored records the policy rule that accepts a finding.
type Ignored struct {
	Reason  string `json:"reason"`
	Expires string `json:"expires"`
}

// DisplayVersion writes a version the way Go users read it: stdlib
// versions as go1.22.1.
func DisplayVersion(module, version string) string {
	if (module == "stdlib" || module == "toolchain") && strings.HasPrefix(version, "v") {
		return "go" + strings.TrimPrefix(version, "v")
	}
	return version
}

// findingsOf turns one scan's stream into findings, one per (vulnerability,
// module), at the most precise status the stream shows.
func findingsOf(s *stream, subject, precision string) []*Finding {
	type key struct{ id, module string }
	byKey := map[key]*Finding{}
	var order []key
	for _, f := range s.findings {
		top := f.Trace[0]
		k := key{f.OSV, top.Module}
		fd := byKey[k]
		if fd == nil {
			fd = newFinding(s.entries[f.OSV], f.OSV, top, subject)
			fd.Precision = precision
			byKey[k] = fd
			order = append(order, k)
		}
		if f.FixedVersion != "" {
			fd.Fixed = f.FixedVersion
		}
		status := Required
		switch {
		case top.Function != "" && precision == BinarySymbols:
			status = Linked
		case top.Function != "":
			status = Called
		case top.Package != "":
			status = Imported
		}
		if statusRank[status] > statusRank[fd.Status] {
			fd.Status = status
		}
		if top.Package != "" {
			fd.Packages = addUnique(fd.Packages, top.Package)
		}
		if top.Function != "" {
			sym := top.Symbol()
			if !contains(fd.Symbols, sym) {
				fd.Symbols = append(fd.Symbols, sym)
				if len(f.Trace) > 1 && len(fd.Paths) < maxPaths {
					fd.Paths = append(fd.Paths, pathOf(f.Trace))
				}
			}
		}
	}
	out := make([]*Finding, 0, len(order))
	for _, k := range order {
		fd := byKey[k]
		fd.Reachable = Reachable(fd.Status)
		sort.Strings(fd.Packages)
		sort.Strings(fd.Symbols)
		out = append(out, fd)
	}
	return out
}

// maxPaths bounds the call paths kept per finding.
const maxPaths = 5

func newFinding(e *vulndb.Entry, id string, top Frame, subject string) *Finding {
	fd := &Finding{
		ID: id, Module: top.Module, Version: top.Version, Status: Required,
		URL: "https://pkg.go.dev/vuln/" + id, Severity: "unknown", Subjects: []string{subject},
		Aliases: []string{},
	}
	if e != nil {
		fd.Aliases = append(fd.Aliases, e.Aliases...)
		fd.Summary, fd.Details = e.Summary, e.Details
		if e.DatabaseSpecific != nil && e.DatabaseSpecific.URL != "" {
			fd.URL = e.DatabaseSpecific.URL
		}
		fd.Severity, fd.CVSS = severityOf(e, top.Module)
	}
	return fd
}

// pathOf turns a govulncheck trace (vulnerable symbol first) into a call
// path (entry point first).
func pathOf(trace []Frame) []PathStep {
	steps := make([]PathStep, 0, len(trace))
	for i := len(trace) - 1; i >= 0; i-- {
		f := trace[i]
		st := PathStep{Symbol: f.Symbol(), Module: f.Module, Version: f.Version}
		if p := f.Position; p != nil && p.Filename != "" {
			st.File, st.Line, st.Column = p.Filename, p.Line, p.Column
		}
		steps = append(steps, st)
	}
	return steps
}

// severityOf scores an entry from its CVSS vectors, preferring the
// module's own, then the entry's; the highest score wins.
func severityOf(e *vulndb.Entry, module string) (string, *CVSS) {
	var best *CVSS
	consider := func(sevs []vulndb.Severity) {
		for _, s := range sevs {
			score, ok := cvssScore(s.Type, s.Score)
			if ok && (best == nil || score > best.Score) {
				best = &CVSS{Vector: s.Score, Score: score}
			}
		}
	}
	for _, a := range e.Affected {
		if a.Package.Name == module {
			consider(a.Severity)
		}
	}
	if best == nil {
		consider(e.Severity)
	}
	if best == nil {
		return "unknown", nil
	}
	return rating(best.Score), best
}

func cvssScore(typ, vector string) (float64, bool) {
	switch {
	case typ == "CVSS_V3" && strings.HasPrefix(vector, "CVSS:3.1/"):
		if v, err := gocvss31.ParseVector(vector); err == nil {
			return v.BaseScore(), true
		}
	case typ == "CVSS_V3" && strings.HasPrefix(vector, "CVSS:3.0/"):
		if v, err := gocvss30.ParseVector(vector); err == nil {
			return v.BaseScore(), true
		}
	case typ == "CVSS_V4":
		if v, err := gocvss40.ParseVector(vector); err == nil {
			return v.Score(), true
		}
	}
	return 0, false
}

// rating maps a CVSS score to its qualitative rating (CVSS v3.1 §5).
func rating(score float64) string {
	switch {
	case score >= 9:
		return "critical"
	case score >= 7:
		return "high"
	case score >= 4:
		return "medium"
	case score > 0:
		return "low"
	}
	return "unknown"
}

// Merge adds the findings of another scan of the same delivery: the same
// (vulnerability, module) keeps its most precise status and the union of
// what was seen.
func Merge(into []*Finding, more []*Finding) []*Finding {
	for _, m := range more {
		var found *Finding
		for _, f := range into {
			if f.ID == m.ID && f.Module == m.Module {
				found = f
				break
			}
		}
		if found == nil {
			into = append(into, m)
			continue
		}
		if better(m, found) {
			found.Status, found.Precision, found.Reachable = m.Status, m.Precision, m.Reachable
		}
		for _, p := range m.Packages {
			found.Packages = addUnique(found.Packages, p)
		}
		for _, s := range m.Symbols {
			found.Symbols = addUnique(found.Symbols, s)
		}
		for _, p := range m.Paths {
			if len(found.Paths) < maxPaths {
				found.Paths = append(found.Paths, p)
			}
		}
		for _, s := range m.Subjects {
			found.Subjects = addUnique(found.Subjects, s)
		}
		sort.Strings(found.Packages)
		sort.Strings(found.Symbols)
	}
	return into
}

// better reports whether a's status should replace b's: a call graph is
// more precise than symbol presence, which is more precise than imports.
func better(a, b *Finding) bool {
	if a.Precision == CallGraph && b.Precision != CallGraph {
		return true
	}
	if b.Precision == CallGraph && a.Precision != CallGraph {
		return false
	}
	return statusRank[a.Status] > statusRank[b.Status]
}

// sortFindings orders reachable first, then by severity, module and id.
func sortFindings(fs []*Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if statusRank[a.Status] != statusRank[b.Status] {
			return statusRank[a.Status] > statusRank[b.Status]
		}
		if SeverityRank(a.Severity) != SeverityRank(b.Severity) {
			return SeverityRank(a.Severity) > SeverityRank(b.Severity)
		}
		if a.Module != b.Module {
			return a.Module < b.Module
		}
		return a.ID < b.ID
	})
}

func addUnique(xs []string, x string) []string {
	if contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
