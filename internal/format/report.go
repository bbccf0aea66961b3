package format

import (
	"time"

	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/keys"
)

// Version is what the delivery is called and where its source came from.
type Version struct {
	Version     string    `json:"version"`
	Commit      string    `json:"commit,omitempty"`
	CommitTime  time.Time `json:"commitTime"` // SOURCE_DATE_EPOCH of every build
	Tag         string    `json:"tag,omitempty"`
	Snapshot    bool      `json:"snapshot"`
	Dirty       bool      `json:"dirty"`
	VCS         bool      `json:"vcs"`
	RemoteURL   string    `json:"remoteUrl,omitempty"`
	ShortCommit string    `json:"-"`
}

// Binary is one built executable and everything known about it.
type Binary struct {
	Build   string             `json:"build"`  // the build's ID
	Main    string             `json:"main"`   // main package import path
	Target  buildrecipe.Target `json:"target"` //
	Path    string             `json:"path"`   // relative to the delivery directory
	Size    int64              `json:"size"`
	SHA256  string             `json:"sha256"`
	SM3     string             `json:"sm3"`
	Seconds float64            `json:"buildSeconds"`
	// Args are the go command arguments and Env the environment that
	// matter for reproducing the build.
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Tags []string `json:"tags,omitempty"`
	// GoVersion is the toolchain that built it.
	GoVersion    string           `json:"goVersion"`
	Reproducible *Reproducibility `json:"reproducibility,omitempty"`
	Hardening    *Hardening       `json:"hardening,omitempty"`
	SBOMs        []string         `json:"sboms,omitempty"`
	// RuntimePackages are the runtime packages (RuntimeCapabilities) the
	// binary links.
	RuntimePackages []string `json:"runtimePackages,omitempty"`
	ModuleCount     int      `json:"moduleCount"`
}

// Reproducibility is the result of building a binary a second time.
type Reproducibility struct {
	Status       ReproducibilityStatus `json:"status"`
	SecondSHA256 string                `json:"secondSha256,omitempty"`
	Difference   string                `json:"difference,omitempty"` // where the two builds differ
	Reason       string                `json:"reason,omitempty"`     // why it failed or was skipped
}

// ReproducibilityStatus is how a binary's second build came out.
type ReproducibilityStatus string

// The reproducibility statuses; report.json's schema allows exactly these
// (TestStatusesMatchTheSchema).
const (
	Identical         ReproducibilityStatus = "identical" // the same SHA-256 twice
	Different         ReproducibilityStatus = "different" // Difference says where
	SecondBuildFailed ReproducibilityStatus = "failed"    // Reason says why
	NotReproduced     ReproducibilityStatus = "skipped"   // not checked; Reason says why
)

// ReproducibilityStatuses are all the reproducibility statuses.
var ReproducibilityStatuses = []ReproducibilityStatus{Identical, Different, SecondBuildFailed, NotReproduced}

// Hardening is the result of inspecting a binary.
type Hardening struct {
	Format string  `json:"format"` // "ELF", "PE", "Mach-O"
	Checks []Check `json:"checks"`
}

// CheckStatus is the outcome of a hardening or verification check.
type CheckStatus string

// The check statuses; report.json's schema allows exactly these
// (TestStatusesMatchTheSchema).
const (
	Pass          CheckStatus = "pass"
	Fail          CheckStatus = "fail"
	Warn          CheckStatus = "warn"
	NotApplicable CheckStatus = "n/a"
)

// CheckStatuses are all the check statuses.
var CheckStatuses = []CheckStatus{Pass, Fail, Warn, NotApplicable}

// Check is one hardening or verification item.
type Check struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail,omitempty"`
}

// Failed reports whether any check failed.
func (h *Hardening) Failed() bool {
	for _, c := range h.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// ModuleLicense is the licence finding for one module.
type ModuleLicense struct {
	Module  string `json:"module"`
	Version string `json:"version,omitempty"`
	// Declared are the licences the module's licence files state, one entry
	// per file and licence.
	Declared []LicenseMatch `json:"declared"`
	// Concluded is the SPDX expression hegui concludes for the module, or
	// "NOASSERTION" when the evidence does not support one.
	Concluded string `json:"concluded"`
	// Notices are NOTICE-style files (attribution that must travel with the
	// binary), which are not licences.
	Notices []string `json:"notices,omitempty"`
	// Unknown lists licence files whose text matched no known licence.
	Unknown []string `json:"unknown,omitempty"`
	// Source says where the files were read: "module cache", "vendor", "module".
	Source string `json:"source"`
	// Main marks the project's own module(s), which the licence policy
	// does not apply to.
	Main bool `json:"main,omitempty"`
}

// LicenseMatch is one licence found in one file.
type LicenseMatch struct {
	ID         string  `json:"id"`         // SPDX identifier, or LicenseRef-...
	File       string  `json:"file"`       // relative to the module root
	Confidence float64 `json:"confidence"` // share of the file's words matched, 0 to 100
}

// Violation is a policy rule the delivery breaks. Any violation fails it.
type Violation struct {
	Rule    string `json:"rule"`    // e.g. "licenses.deny"
	Subject string `json:"subject"` // what breaks it, e.g. the module
	Message string `json:"message"`
	Remedy  string `json:"remedy"` // what to do about it
}

// Signer is a key that signs the delivery.
type Signer struct {
	KeyID       string         `json:"keyId"`
	Algorithm   keys.Algorithm `json:"algorithm"`
	Role        string         `json:"role"` // "primary" or "co-signer"
	Label       string         `json:"label"`
	Development bool           `json:"development,omitempty"`
	Subject     string         `json:"subject,omitempty"`
}

// ScanStatus says whether a scan ran.
type ScanStatus struct {
	Status ScanState `json:"status"`
	Reason string    `json:"reason,omitempty"` // why it was skipped
}

// ScanState is whether a scan ran.
type ScanState string

// The scan states; report.json's schema allows exactly these
// (TestStatusesMatchTheSchema).
const (
	Scanned ScanState = "scanned"
	Skipped ScanState = "skipped"
)

// ScanStates are all the scan states.
var ScanStates = []ScanState{Scanned, Skipped}

// IgnoreRule is a policy rule accepting a vulnerability, and what it did.
type IgnoreRule struct {
	ID      string   `json:"id"`
	Reason  string   `json:"reason"`
	Expires string   `json:"expires"`
	Expired bool     `json:"expired"`
	Matched []string `json:"matched"` // the findings it applies to
}

// StageRecord is how long a stage took.
type StageRecord struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	// Skipped says why the stage did nothing ("" when it ran).
	Skipped string `json:"skipped,omitempty"`
}

// ReportSchema identifies the report.json format.
const ReportSchema = "hegui.dev/report/v2"

// Report is report.json (docs/report.md, schemas/report-v2.schema.json).
type Report struct {
	Schema      string         `json:"schema"`
	Project     string         `json:"project"`
	Module      string         `json:"module"`
	Version     Version        `json:"version"`
	Hegui       string         `json:"hegui"`
	Started     time.Time      `json:"started"`
	Finished    time.Time      `json:"finished"`
	Development bool           `json:"developmentKey"`
	Verdict     Verdict        `json:"verdict"`
	Warnings    []string       `json:"warnings"`
	Binaries    []*Binary      `json:"binaries"`
	Licenses    LicenseSection `json:"licenses"`
	Signers     []*Signer      `json:"signers"`
	Provenance  string         `json:"provenance"`
	Bundles     []string       `json:"cosignBundles"`
	Stages      []StageRecord  `json:"stages"`

	Vulnerabilities VulnSection          `json:"vulnerabilities"`
	StaticAnalysis  SASTSection          `json:"staticAnalysis"`
	Tests           TestsSection         `json:"tests"`
	PersonalData    PIISection           `json:"personalData"`
	Cryptography    *cryptoinv.Inventory `json:"cryptography"`
	Policy          PolicySettings       `json:"policy"`
	Compliance      []Framework          `json:"compliance"`
	// Documents are the vendor's documents the delivery carries;
	// Attestations its signed vendor statements.
	Documents    []Document    `json:"documents"`
	Attestations []Attestation `json:"attestations"`
	// AuditLog is the transparency log the delivery is recorded in after
	// signing ("" when none); its proof is transparency/entry.tlog-proof.
	AuditLog string `json:"auditLog,omitempty"`
	// OperatorEvidence is what the operator attached when rendering the
	// report (hegui report --evidence); never in a delivery's own
	// report.json.
	OperatorEvidence []OperatorEvidence `json:"operatorEvidence,omitempty"`
}

// Verdict is the policy outcome.
type Verdict struct {
	Passed bool `json:"passed"`
	// Mode is enforce (violations fail the delivery) or warn.
	Mode       string      `json:"mode"`
	Violations []Violation `json:"violations"`
}

// VulnSection is the vulnerability scan: its status, the documents
// written, the policy's ignore rules and, when it ran, the scan itself.
type VulnSection struct {
	Status  ScanState     `json:"status"`
	Reason  string        `json:"reason,omitempty"`
	Files   []string      `json:"files"`
	Ignores []IgnoreRule  `json:"ignoreRules"`
	Scan    *VulnDocument `json:"scan,omitempty"`
}

// SASTSection is the static analysis.
type SASTSection struct {
	Status ScanState     `json:"status"`
	Reason string        `json:"reason,omitempty"`
	Files  []string      `json:"files"`
	Scan   *SASTDocument `json:"scan,omitempty"`
}

// TestsSection is the module's own tests, as the tests stage ran them.
type TestsSection struct {
	Status TestsState     `json:"status"`
	Reason string         `json:"reason,omitempty"` // why they did not run
	Files  []string       `json:"files"`
	Run    *TestsDocument `json:"run,omitempty"`
}

// TestsState is whether the module's tests ran.
type TestsState string

// The states of the tests section; report.json's schema allows exactly
// these (TestStatusesMatchTheSchema).
const (
	TestsRan     TestsState = "ran"
	TestsSkipped TestsState = "skipped"
)

// TestsStates are all the states of the tests section.
var TestsStates = []TestsState{TestsRan, TestsSkipped}

// PolicySettings are the policy the delivery was held to.
type PolicySettings struct {
	Mode               string   `json:"mode"`
	LicenseAllow       []string `json:"licenseAllow"`
	LicenseDeny        []string `json:"licenseDeny"`
	VulnFailOn         string   `json:"vulnerabilityFailOn"`
	UnknownSeverity    string   `json:"unknownSeverity"`
	DatabaseMaxAge     string   `json:"databaseMaxAge"`
	DatabaseMaxAgeDays float64  `json:"databaseMaxAgeDays"`
	StaticGate         string   `json:"staticAnalysisGate,omitempty"`
	StaticFailOn       string   `json:"staticAnalysisFailOn"`
	StaticConfidence   string   `json:"staticAnalysisMinConfidence,omitempty"`
	StaticRules        []string `json:"staticAnalysisRules"`
	Hardening          string   `json:"hardening"`
	Reproducibility    string   `json:"reproducibility"`
	Tests              string   `json:"tests"`
	PIIGate            string   `json:"piiGate,omitempty"`
}

// LicenseSection summarises the licence findings.
type LicenseSection struct {
	Modules []*ModuleLicense `json:"modules"`
	// Counts maps each concluded licence expression to its number of modules.
	Counts     map[string]int `json:"counts"`
	Unresolved int            `json:"unresolved"`
}
