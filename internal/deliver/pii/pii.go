// Package pii is the pii stage: it reads the module's own files
// (fixtures, configs, logs, docs) for personal information as `hegui pii
// scan` does, and writes the inventory, every value masked, as pii.json.
// The gate is the policy stage's (policy.pii); the compliance matrix cites
// the result for the controls on collecting only needed personal data.
package pii

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	inventory "hegui.dev/hegui/internal/pii"
)

// Stage fills d.PII.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return delivery.PIIStage }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	if d.Config.PII.Scan == config.Off {
		return delivery.SkipWithWarning("pii.scan is off in hegui.yaml", "personal-information scan skipped: pii.scan is off")
	}
	inv, err := inventory.Scan(ctx, []string{d.ModuleDir}, inventory.Options{
		Exclude: append(slices.Clone(d.Config.PII.Exclude), OthersDirs...), SkipDirs: SkipDirs(ctx, d), Progress: d.Log.Stepf,
	})
	if err != nil {
		return err
	}
	inv.RelativeTo(d.ModuleDir)
	d.PII = inv
	data, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.PIIJSONFile), append(data, '\n'), 0o644); err != nil {
		return err
	}
	failOn, _ := inventory.ParseKinds(d.Config.Policy.PII.FailOn)
	d.Log.Stepf("%d files read: %d finding(s), %d of kinds the policy fails on (%s); %s",
		inv.Files, inv.Total, len(inv.Gated(failOn)), strings.Join(inventory.KindList(failOn), ", "), format.PIIJSONFile)
	return nil
}

// OthersDirs are the names of directories that hold other projects'
// files wherever they are in the module: Go's and JavaScript's vendored
// dependencies.
var OthersDirs = []string{"vendor", "node_modules"}

// SkipDirs are the directories the stage passes over by their paths from
// the module root (a web/dist of the module's own is read): the delivery's
// output directory, and the go command's module and build caches and
// GOPATH when they are inside the module (CI jobs often keep them in the
// work tree, e.g. GOPATH=$CI_PROJECT_DIR/.go).
func SkipDirs(ctx context.Context, d *delivery.Delivery) []string {
	var dirs []string
	add := func(dir string) {
		if dir == "" {
			return
		}
		if rel, err := filepath.Rel(d.ModuleDir, dir); err == nil && rel != "." && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
			dirs = append(dirs, filepath.ToSlash(rel))
		}
	}
	add(d.OutputDir)
	if env, err := d.Go.EnvVars(ctx, "GOMODCACHE", "GOCACHE", "GOPATH"); err == nil {
		for _, v := range env {
			for _, dir := range filepath.SplitList(v) {
				add(dir)
			}
		}
	}
	return dirs
}
