// Package attest is the stage that signs the vendor's statements
// (hegui.yaml's attestations): for a control whose vendor part no artefact
// can show, what the vendor states, bound to the control and to the
// delivery's binaries, signed with the delivery's keys as an in-toto
// statement (predicate format.VendorStatementType) in
// attestations/FRAMEWORK_CONTROL.intoto.jsonl. The compliance matrix shows
// such a control as attested, never as evidenced; a statement for a
// control whose vendor part rules decide is refused, so a statement can
// never stand in for evidence.
package attest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/statement"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/inputfile"
)

// MaxStatementSize bounds a statement read from a file.
const MaxStatementSize = 64 << 10

// Stage signs the statements.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "attest" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	atts := d.Config.Attestations
	if len(atts) == 0 {
		return delivery.Skip("no attestations in hegui.yaml")
	}
	cats, err := compliance.Catalogs()
	if err != nil {
		return err
	}
	root, err := inputfile.OpenDir(d.ModuleDir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := os.MkdirAll(d.Path(format.AttestationsDir), 0o755); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, a := range atts {
		cat, ctl, err := compliance.FindControl(cats, a.Control)
		if err != nil {
			return fmt.Errorf("attestation: %w", err)
		}
		ref := format.ControlRef(cat.ID, ctl.ID)
		if seen[ref] {
			return fmt.Errorf("attestation for %s: written twice (once under an alias?)", ref)
		}
		seen[ref] = true
		if ctl.Vendor.Attest == nil {
			return fmt.Errorf("attestation for %s: %s", ref, compliance.WhyNoStatement(ctl))
		}
		text := a.Statement
		if a.File != "" {
			data, err := root.Read(ctx, a.File, MaxStatementSize)
			if err != nil {
				return fmt.Errorf("attestation for %s: %w", ref, err)
			}
			text = string(data)
		}
		if text = strings.TrimSpace(text); text == "" || !utf8.ValidString(text) {
			return fmt.Errorf("attestation for %s: the statement is empty or not UTF-8 text", ref)
		}
		stmt, err := statement.New(d, format.VendorStatementType, format.VendorStatement{
			Framework: cat.ID, Control: ctl.ID, Statement: text,
			Module: d.Module.Path, Version: d.Version.Version, Commit: d.Version.Commit,
		})
		if err != nil {
			return err
		}
		rel := format.AttestationPath(cat.ID, ctl.ID)
		if _, err := statement.Write(ctx, d, rel, stmt); err != nil {
			return err
		}
		d.Attestations = append(d.Attestations, format.Attestation{Framework: cat.ID, Control: ctl.ID, File: rel, Statement: text})
		d.Log.Stepf("%s: %s", ref, rel)
	}
	return nil
}
