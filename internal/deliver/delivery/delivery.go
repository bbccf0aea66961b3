// Package delivery holds the state of one `hegui deliver` run: the inputs
// (configuration, module, version), and everything the stages produce
// (binaries and their checks, licences, SBOMs, signers, policy violations).
// Stages read what earlier stages left here and add their own results; the
// report stage renders all of it. The types are plain data so that
// report.json can be written from them directly.
package delivery

import (
	"context"
	"crypto"
	"fmt"
	"hegui.dev/hegui/internal/buildrecipe"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/sast"
	"hegui.dev/hegui/internal/vuln"
	"hegui.dev/hegui/keys"
)

// Stage is one step of the pipeline. Run reads and extends d; an error
// stops the delivery.
type Stage interface {
	// Name is a short identifier shown in progress and in report.json.
	Name() string
	Run(ctx context.Context, d *Delivery) error
}

// Options are the command-line choices of a run.
type Options struct {
	Snapshot      bool // allow an untagged or dirty tree, versioned by a pseudo-version
	Force         bool // replace an existing delivery of the same version
	KeepFailed    bool // keep the staging directory of a failed delivery
	Parallel      int  // concurrent builds; default the number of CPUs
	SkipReproduce bool // skip the reproducibility double build (reported as skipped)
}

// Logger receives progress. Implementations print it; tests collect it.
type Logger interface {
	// Begin announces stage index (from 1) of total.
	Begin(stage string, index, total int)
	// Stepf reports progress within the current stage.
	Stepf(format string, args ...any)
	// Warnf reports something the user must notice.
	Warnf(format string, args ...any)
}

// Delivery is the state of one run.
type Delivery struct {
	Config  *config.Config
	Options Options
	Log     Logger
	// Go runs the go command in the module root.
	Go gotool.Go
	// Module is the module being delivered.
	Module *gotool.Module
	// ModuleDir is the absolute module root.
	ModuleDir string
	// Name is the project name.
	Name string
	// ConfigFile is the hegui.yaml used, or "" for built-in defaults.
	ConfigFile string
	// HeguiVersion identifies the tool in documents it writes.
	HeguiVersion string
	// Getenv reads the environment (secrets such as the audit log's
	// token); nil means the process environment.
	Getenv func(string) string
	// KeyringDir holds the development key when no key is configured.
	KeyringDir string
	// OpenKey opens a key reference (FILE, keyring:NAME|ID, pkcs11:URI) for
	// signing; the command line supplies it, with its password handling.
	OpenKey func(k KeyRequest) (*OpenedKey, error)

	Version Version
	// Dir is the staging directory everything is written to; it becomes
	// FinalDir, in OutputDir, when the delivery succeeds.
	Dir       string
	FinalDir  string
	OutputDir string
	Started   time.Time
	Finished  time.Time

	Signers  []*Signer
	Binaries []*Binary
	Licenses []*ModuleLicense
	// Vulns is the vulnerability scan's result (nil when there was none,
	// and VulnScan says why); VulnIgnores reports on the policy's ignore rules.
	Vulns       *vuln.Document
	VulnScan    ScanStatus
	VulnIgnores []IgnoreRule
	// SAST is the static analysis's result (nil when it did not run, and
	// SASTScan says why).
	SAST     *sast.Document
	SASTScan ScanStatus
	// Crypto is the cryptographic inventory.
	Crypto     *cryptoinv.Inventory
	Provenance string // path of the signed provenance, relative to Dir
	Bundles    []string
	Archive    string // path of the archive, outside Dir, when one was written

	mu         sync.Mutex
	Violations []Violation
	Warnings   []string
	Stages     []StageRecord
}

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

// Target is one platform to build for.
type Target = buildrecipe.Target

// ParseTarget reads "linux/amd64" or "linux/amd64/v3".
func ParseTarget(s string) (Target, error) { return buildrecipe.ParseTarget(s) }

// Binary is one built executable and everything known about it.
type Binary struct {
	Build   string  `json:"build"`  // the build's ID
	Main    string  `json:"main"`   // main package import path
	Target  Target  `json:"target"` //
	Path    string  `json:"path"`   // relative to the delivery directory
	Size    int64   `json:"size"`
	SHA256  string  `json:"sha256"`
	SM3     string  `json:"sm3"`
	Seconds float64 `json:"buildSeconds"`
	// Args are the go command arguments and Env the environment that
	// matter for reproducing the build.
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Tags []string `json:"tags,omitempty"`
	// Recipe is how it was built, as recorded in the provenance and used
	// by the reproducibility check; Args and Env are its command line.
	Recipe buildrecipe.Recipe `json:"-"`
	// GoVersion is the toolchain that built it.
	GoVersion string `json:"goVersion"`
	// Modules are the modules linked into it, from the source graph
	// (go list -deps for the target), main module first.
	Modules []gotool.Module `json:"-"`
	// Packages are the import paths of the packages linked into it.
	Packages     []string         `json:"-"`
	Reproducible *Reproducibility `json:"reproducibility,omitempty"`
	Hardening    *Hardening       `json:"hardening,omitempty"`
	SBOMs        []string         `json:"sboms,omitempty"`
	ModuleCount  int              `json:"moduleCount"`
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
	Key         crypto.Signer         `json:"-"`
	KeyID       string                `json:"keyId"`
	Algorithm   keys.Algorithm        `json:"algorithm"`
	Role        string                `json:"role"` // "primary" or "co-signer"
	Label       string                `json:"label"`
	Development bool                  `json:"development,omitempty"`
	Chain       []*smx509.Certificate `json:"-"` // leaf first, may be empty
	Subject     string                `json:"subject,omitempty"`
	Close       func()                `json:"-"`
}

// KeyRequest asks for a signing key.
type KeyRequest struct {
	Ref          string // FILE, keyring:NAME|ID or pkcs11:URI
	PasswordFile string // where its password is, if not the default sources
	PasswordEnv  string // the variable holding its password, if not the default
}

// OpenedKey is a key ready to sign.
type OpenedKey struct {
	Signer crypto.Signer
	Label  string // how to name it in messages
	Close  func()
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
}

// AddViolation records a policy violation; safe from concurrent stages.
func (d *Delivery) AddViolation(v Violation) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Violations = append(d.Violations, v)
}

// Warn records a warning for the report and shows it.
func (d *Delivery) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.mu.Lock()
	d.Warnings = append(d.Warnings, msg)
	d.mu.Unlock()
	d.Log.Warnf("%s", msg)
}

// Env reads an environment variable through Getenv.
func (d *Delivery) Env(name string) string {
	if d.Getenv == nil {
		return os.Getenv(name)
	}
	return d.Getenv(name)
}

// Path returns the absolute path of a file in the delivery.
func (d *Delivery) Path(rel string) string { return filepath.Join(d.Dir, filepath.FromSlash(rel)) }

// Primary is the signer of the manifest and provenance.
func (d *Delivery) Primary() *Signer {
	for _, s := range d.Signers {
		if s.Role == "primary" {
			return s
		}
	}
	return nil
}
