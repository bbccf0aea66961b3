package vulnscan

import (
	"sort"
	"strings"

	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/vulndb"
)

var statusRank = map[string]int{format.VulnRequired: 0, format.VulnImported: 1, format.VulnLinked: 2, format.VulnCalled: 3}

// findingsOf turns one scan's stream into findings, one per (vulnerability,
// module), at the most precise status the stream shows.
func findingsOf(s *stream, subject, precision string) []*format.VulnFinding {
	type key struct{ id, module string }
	byKey := map[key]*format.VulnFinding{}
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
		status := format.VulnRequired
		switch {
		case top.Function != "" && precision == format.PrecisionBinarySymbols:
			status = format.VulnLinked
		case top.Function != "":
			status = format.VulnCalled
		case top.Package != "":
			status = format.VulnImported
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
	out := make([]*format.VulnFinding, 0, len(order))
	for _, k := range order {
		fd := byKey[k]
		fd.Reachable = format.VulnReachable(fd.Status)
		sort.Strings(fd.Packages)
		sort.Strings(fd.Symbols)
		out = append(out, fd)
	}
	return out
}

// maxPaths bounds the call paths kept per finding.
const maxPaths = 5

func newFinding(e *vulndb.Entry, id string, top Frame, subject string) *format.VulnFinding {
	fd := &format.VulnFinding{
		ID: id, Module: top.Module, Version: top.Version, Status: format.VulnRequired,
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
func pathOf(trace []Frame) []format.PathStep {
	steps := make([]format.PathStep, 0, len(trace))
	for i := len(trace) - 1; i >= 0; i-- {
		f := trace[i]
		st := format.PathStep{Symbol: f.Symbol(), Module: f.Module, Version: f.Version}
		if p := f.Position; p != nil && p.Filename != "" {
			st.File, st.Line, st.Column = p.Filename, p.Line, p.Column
		}
		steps = append(steps, st)
	}
	return steps
}

// severityOf scores an entry from its CVSS vectors, preferring the
// module's own, then the entry's; the highest score wins.
func severityOf(e *vulndb.Entry, module string) (string, *format.CVSS) {
	var best *format.CVSS
	consider := func(sevs []vulndb.Severity) {
		for _, s := range sevs {
			score, ok := cvssScore(s.Type, s.Score)
			if ok && (best == nil || score > best.Score) {
				best = &format.CVSS{Vector: s.Score, Score: score}
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
func Merge(into []*format.VulnFinding, more []*format.VulnFinding) []*format.VulnFinding {
	for _, m := range more {
		var found *format.VulnFinding
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
func better(a, b *format.VulnFinding) bool {
	if a.Precision == format.PrecisionCallGraph && b.Precision != format.PrecisionCallGraph {
		return true
	}
	if b.Precision == format.PrecisionCallGraph && a.Precision != format.PrecisionCallGraph {
		return false
	}
	return statusRank[a.Status] > statusRank[b.Status]
}

// sortFindings orders reachable first, then by severity, module and id.
func sortFindings(fs []*format.VulnFinding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if statusRank[a.Status] != statusRank[b.Status] {
			return statusRank[a.Status] > statusRank[b.Status]
		}
		if format.VulnSeverityRank(a.Severity) != format.VulnSeverityRank(b.Severity) {
			return format.VulnSeverityRank(a.Severity) > format.VulnSeverityRank(b.Severity)
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
