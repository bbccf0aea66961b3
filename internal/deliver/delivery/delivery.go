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
	"os"
	"path/filepath"
	"sync"
	"time"

	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/format"

	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/pii"
)

// Stage is one step of the pipeline. Run reads and extends d; an error
// stops the delivery.
type Stage interface {
	// Name is a short identifier shown in progress and in report.json.
	Name() string
	Run(ctx context.Context, d *Delivery) error
}

// SkipError is what a stage returns to say that it did nothing, and why:
// the pipeline shows the reason, records it in report.json's stages
// (StageRecord.Skipped) and goes on. It is the one way a stage skips.
type SkipError struct {
	Reason string
	// Warning, when set, is shown and reported as a warning: a skip the
	// user must notice (a scan that did not run), not one they chose
	// quietly (no archive asked for).
	Warning string
}

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip says the stage did nothing because of reason, which is shown as a
// progress line.
func Skip(reason string) error { return &SkipError{Reason: reason} }

// SkipWithWarning says the stage did nothing because of reason, and warns
// with warning, which the report lists among its warnings.
func SkipWithWarning(reason, warning string) error {
	return &SkipError{Reason: reason, Warning: warning}
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

	Version format.Version
	// Dir is the staging directory everything is written to; it becomes
	// FinalDir, in OutputDir, when the delivery succeeds.
	Dir       string
	FinalDir  string
	OutputDir string
	Started   time.Time
	Finished  time.Time

	Signers  []*Signer
	Binaries []*Binary
	Licenses []*format.ModuleLicense
	// Vulns is the vulnerability scan's result (nil when the vulns stage
	// skipped, and its StageRecord says why); VulnIgnores reports on the
	// policy's ignore rules.
	Vulns       *format.VulnDocument
	VulnIgnores []format.IgnoreRule
	// SAST is the static analysis's result (nil when the vet stage
	// skipped).
	SAST *format.SASTDocument
	// Tests is the module's own tests' result (nil when the tests stage
	// skipped).
	Tests *format.TestsDocument
	// PII is the personal information in the module's own files (nil when
	// the pii stage skipped).
	PII *pii.Inventory
	// Crypto is the cryptographic inventory.
	Crypto     *cryptoinv.Inventory
	Provenance string // path of the signed provenance, relative to Dir
	Bundles    []string
	// Documents are the vendor's documents copied into the delivery;
	// Attestations the signed vendor statements.
	Documents    []format.Document
	Attestations []format.Attestation
	Archive      string // path of the archive, outside Dir, when one was written

	mu         sync.Mutex
	Violations []format.Violation
	Warnings   []string
	Stages     []format.StageRecord
}

// Binary is one built executable: what report.json records of it, and
// what the stages that follow the build need to know.
type Binary struct {
	format.Binary
	// Recipe is how it was built, as recorded in the provenance and used
	// by the reproducibility check; Args and Env are its command line.
	Recipe buildrecipe.Recipe `json:"-"`
	// Modules are the modules linked into it, from the source graph
	// (go list -deps for the target), main module first.
	Modules []gotool.Module `json:"-"`
	// Packages are the import paths of the packages linked into it.
	Packages []string `json:"-"`
}

// Target is one platform to build for.
type Target = buildrecipe.Target

// ParseTarget reads "linux/amd64" or "linux/amd64/v3".
func ParseTarget(s string) (Target, error) { return buildrecipe.ParseTarget(s) }

// Signer is a key that signs the delivery: what report.json records of
// it, and the key itself.
type Signer struct {
	format.Signer
	Key   crypto.Signer         `json:"-"`
	Chain []*smx509.Certificate `json:"-"` // leaf first, may be empty
	Close func()                `json:"-"`
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

// AddViolation records a policy violation; safe from concurrent stages.
func (d *Delivery) AddViolation(v format.Violation) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Violations = append(d.Violations, v)
}

// Warn records a warning for the report and shows it.
func (d *Delivery) Warn(msgFormat string, args ...any) {
	msg := fmt.Sprintf(msgFormat, args...)
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

// The names of the stages whose skips the report and the policy read.
const (
	VulnsStage = "vulns"
	VetStage   = "vet"
	TestsStage = "tests"
	PIIStage   = "pii"
)

// Skipped returns why the stage named stage did nothing, and whether it
// did: true only for a stage that has run and returned a SkipError.
func (d *Delivery) Skipped(stage string) (string, bool) {
	for _, r := range d.Stages {
		if r.Name == stage && r.Skipped != "" {
			return r.Skipped, true
		}
	}
	return "", false
}

// ScanStatus is report.json's status of a scan: scanned when it left a
// result, else skipped with the stage's reason.
func (d *Delivery) ScanStatus(scanned bool, stage string) format.ScanStatus {
	if scanned {
		return format.ScanStatus{Status: format.Scanned}
	}
	reason, _ := d.Skipped(stage)
	return format.ScanStatus{Status: format.Skipped, Reason: reason}
}

// Primary is the signer of the manifest and provenance.
func (d *Delivery) Primary() *Signer {
	for _, s := range d.Signers {
		if s.Role == "primary" {
			return s
		}
	}
	return nil
}
