// Package deliver runs `hegui deliver`: a list of small stages, each in its
// own package, run in order on one delivery.Delivery. A stage that does
// nothing returns delivery.Skip (or SkipWithWarning); the run records why.
// Adding a stage: README.md, "Adding a stage", lists what to touch.
//
// Everything is written to a staging directory outside the module (so the
// work tree stays clean while the go command stamps VCS information), and
// moved to OUTPUT/NAME_VERSION only when every stage has passed; a failed
// delivery leaves nothing behind unless --keep-failed asks for it.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/archive"
	"hegui.dev/hegui/internal/deliver/attest"
	"hegui.dev/hegui/internal/deliver/build"
	"hegui.dev/hegui/internal/deliver/bundle"
	"hegui.dev/hegui/internal/deliver/cbom"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/documents"
	"hegui.dev/hegui/internal/deliver/harden"
	"hegui.dev/hegui/internal/deliver/image"
	"hegui.dev/hegui/internal/deliver/license"
	"hegui.dev/hegui/internal/deliver/manifest"
	"hegui.dev/hegui/internal/deliver/pii"
	"hegui.dev/hegui/internal/deliver/policy"
	"hegui.dev/hegui/internal/deliver/provenance"
	"hegui.dev/hegui/internal/deliver/report"
	"hegui.dev/hegui/internal/deliver/reproduce"
	"hegui.dev/hegui/internal/deliver/sbom"
	"hegui.dev/hegui/internal/deliver/signers"
	"hegui.dev/hegui/internal/deliver/tests"
	"hegui.dev/hegui/internal/deliver/transparency"
	"hegui.dev/hegui/internal/deliver/verdict"
	"hegui.dev/hegui/internal/deliver/version"
	"hegui.dev/hegui/internal/deliver/vet"
	"hegui.dev/hegui/internal/deliver/vulns"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

// Stages is the pipeline, in the order it runs.
var Stages = []delivery.Stage{
	version.Stage{},      // name the delivery: tag or pseudo-version, commit time
	documents.Stage{},    // the vendor's documents, tagged with the controls they answer
	signers.Stage{},      // open the signing keys before anything slow
	build.Stage{},        // build every main package for every target
	reproduce.Stage{},    // build again elsewhere and compare digests
	harden.Stage{},       // ELF hardening and build-information checks
	license.Stage{},      // licences of the linked modules
	sbom.Stage{},         // SPDX 2.3 and CycloneDX 1.6 per binary
	vulns.Stage{},        // known vulnerabilities, reachability; SARIF, OpenVEX
	vet.Stage{},          // go vet and gosec; SARIF
	tests.Stage{},        // the module's own go test: race, coverage, fuzz seeds
	pii.Stage{},          // personal information in the module's files (pii.json)
	provenance.Stage{},   // in-toto / SLSA v1 provenance, signed (DSSE)
	bundle.Stage{},       // Sigstore bundles for ECDSA signers (cosign)
	cbom.Stage{},         // cryptographic inventory, CycloneDX CBOM
	attest.Stage{},       // the vendor's signed statements for controls no artefact shows
	image.Stage{},        // optional OCI image layout of the binary, SBOMs and provenance attached
	policy.Stage{},       // every gate of the policy: violations and remedies
	report.Stage{},       // report.json and report.html, compliance matrix
	verdict.Stage{},      // fail on policy violations (enforce mode)
	manifest.Stage{},     // SHA256SUMS, SM3SUMS, manifest.json, signed
	transparency.Stage{}, // record in the audit log; inclusion proof
	archive.Stage{},      // optional single-file copy
}

// Prepare reads the module in dir and its configuration: configPath if
// given, else hegui.yaml in the module root if present, else the built-in
// defaults.
func Prepare(ctx context.Context, dir, configPath string) (*delivery.Delivery, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	g := gotool.Go{Dir: abs}
	mod, err := g.MainModule(ctx)
	if err != nil {
		return nil, err
	}
	d := &delivery.Delivery{Module: mod, ModuleDir: mod.Dir, Go: gotool.Go{Dir: mod.Dir}}
	if d.Config, d.ConfigFile, err = config.Find(mod.Dir, configPath); err != nil {
		return nil, err
	}
	if err := checkTargets(ctx, d); err != nil {
		return nil, err
	}
	d.Name = d.Config.Project.Name
	if d.Name == "" {
		d.Name = DefaultName(mod.Path)
	}
	d.OutputDir = d.Config.Output
	if !filepath.IsAbs(d.OutputDir) {
		d.OutputDir = filepath.Join(mod.Dir, d.OutputDir)
	}
	return d, nil
}

// checkTargets refuses, before anything is built, a target the go command
// cannot build for.
func checkTargets(ctx context.Context, d *delivery.Delivery) error {
	ports, err := d.Go.Platforms(ctx)
	if err != nil {
		return err
	}
	targets := slices.Clone(d.Config.Targets)
	for _, b := range d.Config.Builds {
		targets = append(targets, b.Targets...)
	}
	for _, ts := range targets {
		t, err := delivery.ParseTarget(ts)
		if err != nil {
			return err
		}
		if !ports[t.OS+"/"+t.Arch] {
			return fmt.Errorf("target %s in %s: the go command cannot build for %s/%s (go tool dist list names the platforms it can)", ts, configName(d), t.OS, t.Arch)
		}
	}
	return nil
}

func configName(d *delivery.Delivery) string {
	if d.ConfigFile == "" {
		return "the default targets"
	}
	return d.ConfigFile
}

// DefaultName is the last element of a module path, without a /vN suffix.
func DefaultName(modulePath string) string {
	if prefix, _, ok := module.SplitPathVersion(modulePath); ok {
		modulePath = prefix
	}
	return filepath.Base(modulePath)
}

// Run runs every stage on d and publishes the result to d.FinalDir.
func Run(ctx context.Context, d *delivery.Delivery) (err error) {
	d.Started = time.Now()
	if d.Dir, err = os.MkdirTemp("", "hegui-deliver-"); err != nil {
		return err
	}
	defer func() {
		for _, s := range d.Signers {
			if s.Close != nil {
				s.Close()
			}
		}
		if err != nil {
			cleanUp(d)
		}
	}()
	for i, s := range Stages {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.Log.Begin(s.Name(), i+1, len(Stages))
		start := time.Now()
		rec := format.StageRecord{Name: s.Name()}
		if err := s.Run(ctx, d); err != nil {
			var pe *verdict.PolicyError
			var skip *delivery.SkipError
			switch {
			case errors.As(err, &pe):
				return err
			case errors.As(err, &skip):
				rec.Skipped = skip.Reason
				d.Log.Stepf("skipped: %s", skip.Reason)
				if skip.Warning != "" {
					d.Warn("%s", skip.Warning)
				}
			default:
				return fmt.Errorf("%s: %w", s.Name(), err)
			}
		}
		rec.Seconds = time.Since(start).Seconds()
		d.Stages = append(d.Stages, rec)
	}
	d.Finished = time.Now()
	return publish(d)
}

// cleanUp removes the staging directory of a failed delivery, or keeps it
// and says where.
func cleanUp(d *delivery.Delivery) {
	if d.Options.KeepFailed && d.Dir != "" {
		d.Log.Warnf("the failed delivery is kept for inspection in %s", d.Dir)
		return
	}
	os.RemoveAll(d.Dir)
	if d.Dir != "" {
		os.Remove(d.Dir + ".tar.gz")
	}
}

// outputIgnore is the .gitignore hegui puts in an output directory it
// creates: it ignores everything there, itself included, so that deliveries
// under the module (the default dist/) never dirty the work tree and the
// next tagged delivery, `hegui sbom` and `verify --rebuild` see a clean one.
const outputIgnore = "# Written by hegui deliver: deliveries are build output, not source.\n*\n"

// makeOutputDir creates the output directory, with its own .gitignore when
// hegui is the one creating it. A directory that exists is left as it is.
func makeOutputDir(d *delivery.Delivery) error {
	if _, err := os.Stat(d.OutputDir); err == nil {
		return nil
	}
	if err := os.MkdirAll(d.OutputDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.OutputDir, ".gitignore"), []byte(outputIgnore), 0o644); err != nil {
		return err
	}
	d.Log.Stepf("created %s with a .gitignore of its own, so deliveries never dirty the work tree", d.OutputDir)
	return nil
}

// publish moves the staging directory (and archive) into place.
func publish(d *delivery.Delivery) error {
	if err := makeOutputDir(d); err != nil {
		return err
	}
	if d.Options.Force {
		os.RemoveAll(d.FinalDir)
		os.Remove(d.FinalDir + ".tar.gz")
	}
	if err := move(d.Dir, d.FinalDir); err != nil {
		return fmt.Errorf("publish the delivery: %w", err)
	}
	d.Dir = d.FinalDir
	if d.Archive != "" {
		if err := move(d.Archive, d.FinalDir+".tar.gz"); err != nil {
			return fmt.Errorf("publish the archive: %w", err)
		}
		d.Archive = d.FinalDir + ".tar.gz"
	}
	return nil
}

// move renames, or copies and removes across file systems.
func move(from, to string) error {
	err := os.Rename(from, to)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	tmp := to + ".partial"
	os.RemoveAll(tmp)
	if err := os.CopyFS(tmp, os.DirFS(from)); err != nil {
		if fi, serr := os.Stat(from); serr == nil && !fi.IsDir() {
			return copyFile(from, to)
		}
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, to); err != nil {
		return err
	}
	return os.RemoveAll(from)
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to+".partial", data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(to+".partial", to); err != nil {
		return err
	}
	return os.Remove(from)
}

// StageNames lists the stages for help texts.
func StageNames() string {
	var names []string
	for _, s := range Stages {
		names = append(names, s.Name())
	}
	return strings.Join(names, " → ")
}
