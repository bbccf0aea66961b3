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
		Exclude: d.Config.PII.Exclude, SkipDirs: SkipDirs(d), Progress: d.Log.Stepf,
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

// SkipDirs are the directories the stage passes over besides pii.exclude:
// vendor/ (other modules' files) and the delivery's output directory when
// it is inside the module, by their paths from the module root (a web/dist
// of the module's own is read).
func SkipDirs(d *delivery.Delivery) []string {
	dirs := []string{"vendor"}
	if rel, err := filepath.Rel(d.ModuleDir, d.OutputDir); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		dirs = append(dirs, filepath.ToSlash(rel))
	}
	return dirs
}
