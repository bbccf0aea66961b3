package format

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// VulnsSchema identifies vulns.json.
const VulnsSchema = "hegui.dev/vulns/v1"

// VulnDocument is vulns.json: what was scanned, against which database, and
// every finding.
type VulnDocument struct {
	Schema  string      `json:"schema"`
	Scanner VulnScanner `json:"scanner"`
	// Subject is what was scanned: a module and version, or binaries.
	Subject string `json:"subject"`
	// Module is the scanned module's path (source scans).
	Module    string         `json:"module,omitempty"`
	Database  VulnDatabase   `json:"database"`
	GoVersion string         `json:"goVersion,omitempty"`
	Scanned   time.Time      `json:"scanned"`
	Summary   VulnSummary    `json:"summary"`
	Scans     []*VulnRecord  `json:"scans"`
	Findings  []*VulnFinding `json:"findings"`
}

// VulnScanner names the engine.
type VulnScanner struct {
	Name    string `json:"name"`
	Module  string `json:"module"`
	Version string `json:"version"`
}

// VulnDatabase identifies the vulnerability database a scan used.
type VulnDatabase struct {
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
func (d VulnDatabase) AgeText() string {
	if d.AgeUnknown {
		return "of unknown age"
	}
	return fmt.Sprintf("%.0f days old", d.AgeDays)
}

// ModifiedText is the database's date, or "an unknown date".
func (d VulnDatabase) ModifiedText() string {
	if d.AgeUnknown || d.Modified.IsZero() {
		return "an unknown date"
	}
	return d.Modified.Format(time.DateOnly)
}

// VulnSummary counts findings.
type VulnSummary struct {
	Total     int `json:"total"`
	Reachable int `json:"reachable"` // called or linked
	Imported  int `json:"imported"`
	Required  int `json:"required"`
	Ignored   int `json:"ignored"` // accepted by the policy
	// ReachableBySeverity counts reachable findings per severity.
	ReachableBySeverity map[string]int `json:"reachableBySeverity"`
}

// Status says how close the scanned code comes to a vulnerability.
const (
	// Called: a call path from the scanned code reaches a vulnerable
	// symbol (source mode).
	VulnCalled = "called"
	// Linked: a vulnerable symbol is in the binary (binary mode, which
	// sees what is linked, not what is reachable).
	VulnLinked = "linked"
	// Imported: a vulnerable package is imported, but no vulnerable
	// symbol is reached (or the scan did not look at symbols).
	VulnImported = "imported"
	// Required: the vulnerable module is in the build, but none of its
	// vulnerable packages is.
	VulnRequired = "required"
)

// Precision says how a finding was established.
const (
	// CallGraph: source analysis with a call graph (govulncheck symbol scan).
	PrecisionCallGraph = "call-graph"
	// BinarySymbols: the symbols present in a compiled binary.
	PrecisionBinarySymbols = "binary-symbols"
	// PackageImports: the import graph only (package-level scan).
	PrecisionPackageImports = "package-imports"
)

// VulnReachable reports whether a status means the vulnerable code can run.
func VulnReachable(status string) bool { return status == VulnCalled || status == VulnLinked }

// Severity levels, in increasing order.
var VulnSeverities = []string{"unknown", "low", "medium", "high", "critical"}

// VulnSeverityRank orders severities; unknown names rank -1.
func VulnSeverityRank(s string) int {
	for i, v := range VulnSeverities {
		if v == s {
			return i
		}
	}
	return -1
}

// VulnFinding is one known vulnerability of one module, as it concerns the
// scanned code.
type VulnFinding struct {
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
	Ignored *VulnIgnored `json:"ignored,omitempty"`
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

// VulnIgnored records the policy rule that accepts a finding.
type VulnIgnored struct {
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

// Summarize recounts the findings (after the policy marks some ignored).
func (d *VulnDocument) Summarize() {
	s := VulnSummary{Total: len(d.Findings), ReachableBySeverity: map[string]int{}}
	for _, f := range d.Findings {
		switch {
		case f.Ignored != nil:
			s.Ignored++
		case f.Reachable:
			s.Reachable++
			s.ReachableBySeverity[f.Severity]++
		case f.Status == VulnImported:
			s.Imported++
		default:
			s.Required++
		}
	}
	d.Summary = s
}

// JSON is vulns.json.
func (d *VulnDocument) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Advice says what to do about a finding, in one sentence.
func (f *VulnFinding) Advice() string {
	mod := f.Module
	if mod == StdlibModule {
		mod = "Go"
	}
	if f.Fixed == "" {
		return fmt.Sprintf("no fixed version of %s is known; avoid %s or accept the risk with a policy ignore rule", mod, strings.Join(f.affectedCode(3), ", "))
	}
	return fmt.Sprintf("upgrade %s to %s or later", mod, DisplayVersion(f.Module, f.Fixed))
}

// affectedCode names what the scanned code uses of the vulnerability, the
// first n and "…" when there are more.
func (f *VulnFinding) affectedCode(n int) []string {
	code := []string{f.Module}
	switch {
	case len(f.Symbols) > 0:
		code = f.Symbols
	case len(f.Packages) > 0:
		code = f.Packages
	}
	if len(code) > n {
		return append(code[:n:n], "…")
	}
	return code
}

// VulnRecord describes one run of the engine.
type VulnRecord struct {
	Subject   string   `json:"subject"` // "source" or a binary
	Patterns  []string `json:"patterns,omitempty"`
	Mode      string   `json:"mode"`      // source or binary
	Precision string   `json:"precision"` // call-graph, binary-symbols, package-imports
	// Estimate is the memory the scan was expected to need (source
	// call-graph scans), and PeakRSS what it used, in bytes.
	Estimate int64   `json:"estimatedBytes,omitempty"`
	PeakRSS  int64   `json:"peakRssBytes"`
	Seconds  float64 `json:"seconds"`
	// Note explains a fallback to a less precise scan.
	Note string `json:"note,omitempty"`
}
