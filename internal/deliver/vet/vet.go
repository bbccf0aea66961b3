// Package vet is the static-analysis stage: go vet's analyzers and gosec's
// security rules over the module's packages (package sast), written as
// sast.json and sast.sarif. The gate is the policy stage's.
package vet

import (
	"context"
	"os"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/sast"
)

// Stage fills d.SAST.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return delivery.VetStage }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	cfg := d.Config.StaticAnalysis
	if cfg.Analyzers == config.Off {
		return delivery.SkipWithWarning("static-analysis.analyzers is off in hegui.yaml", "static analysis skipped: static-analysis.analyzers is off")
	}
	req := &sast.Request{
		Dir: d.ModuleDir, Tests: cfg.Tests, Analyzers: cfg.Analyzers, Exclude: cfg.Exclude, Progress: d.Log.Stepf,
	}
	if len(d.Binaries) > 0 {
		// Analyse the files the first target compiles, with its tags.
		b := d.Binaries[0]
		req.Env, req.Tags = b.Target.Env(), b.Tags
	}
	doc, err := sast.Analyze(ctx, req)
	if err != nil {
		return err
	}
	d.SAST = doc
	for _, e := range doc.Errors {
		d.Warn("static analysis: %s", e)
	}
	data, err := doc.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.SASTJSONFile), data, 0o644); err != nil {
		return err
	}
	if data, err = sast.SARIF(doc, d.HeguiVersion); err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.SASTSARIFFile), data, 0o644); err != nil {
		return err
	}
	s := doc.Summary
	d.Log.Stepf("%d packages: %d findings (%d high, %d medium, %d low), %d suppressed; %s, %s",
		doc.Packages, s.Total, s.BySeverity["high"], s.BySeverity["medium"], s.BySeverity["low"], s.Suppressed, format.SASTJSONFile, format.SASTSARIFFile)
	return nil
}
