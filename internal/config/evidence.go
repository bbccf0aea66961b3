package config

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/format"
)

// validateEvidence checks the documents and attestations: module-relative
// paths that stay inside the module, known kinds, controls named as
// FRAMEWORK:CONTROL of the shipped catalogs, one statement per control,
// and only for a control whose vendor part takes a statement.
func (c *Config) validateEvidence(at func(string) string) error {
	if len(c.Documents) == 0 && len(c.Attestations) == 0 {
		return nil
	}
	cats, err := compliance.Catalogs()
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for i, d := range c.Documents {
		where := fmt.Sprintf("$.documents[%d]", i)
		if problem := moduleRelative(d.Path); problem != "" {
			return fmt.Errorf("%sdocuments[%d].path %s %s", at(where+".path"), i, quoteShort(d.Path), problem)
		}
		if base := path.Base(d.Path); names[base] {
			return fmt.Errorf("%sdocuments[%d].path %s: another document is also named %s; the delivery keeps them side by side under documents/", at(where+".path"), i, quoteShort(d.Path), base)
		} else {
			names[base] = true
		}
		if !slices.Contains(format.DocumentKinds, d.Kind) {
			return fmt.Errorf("%sdocuments[%d].kind %q: want one of %s", at(where+".kind"), i, d.Kind, strings.Join(format.DocumentKinds, ", "))
		}
		for j, ref := range d.Controls {
			if _, _, err := compliance.FindControl(cats, ref); err != nil {
				return fmt.Errorf("%sdocuments[%d].controls[%d]: %w", at(fmt.Sprintf("%s.controls[%d]", where, j)), i, j, err)
			}
		}
	}
	seen := map[string]bool{}
	for i, a := range c.Attestations {
		where := fmt.Sprintf("$.attestations[%d]", i)
		cat, ctl, err := compliance.FindControl(cats, a.Control)
		if err != nil {
			return fmt.Errorf("%sattestations[%d]: %w", at(where+".control"), i, err)
		}
		ref := format.ControlRef(cat.ID, ctl.ID)
		if ctl.Vendor.Attest == nil {
			return fmt.Errorf("%sattestations[%d]: %s takes no statement: %s", at(where+".control"), i, ref, compliance.WhyNoStatement(ctl))
		}
		if seen[ref] {
			return fmt.Errorf("%sattestations[%d]: %s has a statement already; write one statement per control", at(where), i, ref)
		}
		seen[ref] = true
		switch {
		case (a.Statement == "") == (a.File == ""):
			return fmt.Errorf("%sattestations[%d]: give the statement, or the file that holds it (not both)", at(where), i)
		case a.File != "":
			if problem := moduleRelative(a.File); problem != "" {
				return fmt.Errorf("%sattestations[%d].file %s %s", at(where+".file"), i, quoteShort(a.File), problem)
			}
		}
	}
	return nil
}

// moduleRelative says what is wrong with a path that must name a file
// inside the module, relative to its root ("" when nothing is).
func moduleRelative(p string) string {
	switch {
	case p == "":
		return "is empty: give the file's path relative to the module root"
	case path.IsAbs(p) || strings.HasPrefix(p, "/"):
		return "is absolute: give it relative to the module root"
	case strings.Contains(p, `\`):
		return "uses backslashes: write it with /"
	case path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../"):
		return "must be a clean path inside the module (no .., no ./, no trailing /)"
	}
	return ""
}
