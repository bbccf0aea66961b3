// Package license finds the licences of the modules linked into a
// delivery, from the licence files in the module cache or vendor directory,
// with google/licensecheck, and applies the licence policy of hegui.yaml.
// It never uses the network.
//
// What it reports per module, kept apart as SPDX keeps them:
//   - declared: each licence found, with the file and how much of the file's
//     text it covers;
//   - concluded: the SPDX expression hegui stands behind (the declared
//     licences joined with AND), or NOASSERTION when a licence file is only
//     partly recognised or none is found;
//   - notices: NOTICE and PATENTS files, which carry attribution or patent
//     grants that travel with the binary but are not licences;
//   - unknown: licence files whose text matches no known licence.
package license

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/google/licensecheck"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/gotool"
)

// MinConfidence is the share of a licence file's words that must match known
// licence texts for hegui to conclude a licence from it.
const MinConfidence = 75

// StdlibModule is the name under which the Go standard library is reported.
const StdlibModule = "stdlib"

// Stage fills d.Licenses and records policy violations.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "licenses" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	seen := map[string]bool{}
	var mods []gotool.Module
	for _, b := range d.Binaries {
		for _, m := range b.Modules {
			key := m.Path + "@" + m.Version
			if !seen[key] {
				seen[key] = true
				mods = append(mods, m)
			}
		}
	}
	results, err := Modules(ctx, d.Go, d.ModuleDir, mods)
	if err != nil {
		return err
	}
	d.Licenses = results
	unknown := 0
	for _, r := range results {
		if r.Concluded == "NOASSERTION" {
			unknown++
		}
	}
	d.Log.Stepf("%d modules (and the standard library); %d without a concluded licence", len(results)-1, unknown)
	for _, v := range Evaluate(d.Config.Policy.Licenses, results) {
		d.AddViolation(v)
	}
	return nil
}

// Modules finds the licences of modules and of the standard library.
func Modules(ctx context.Context, g gotool.Go, moduleDir string, mods []gotool.Module) ([]*delivery.ModuleLicense, error) {
	var results []*delivery.ModuleLicense
	for _, m := range mods {
		dir, source := locate(m, moduleDir)
		r := &delivery.ModuleLicense{Module: m.Path, Version: m.Version, Source: source}
		if m.Replace != nil && m.Replace.Version != "" {
			r.Version = m.Replace.Version
		}
		if dir == "" {
			r.Concluded = "NOASSERTION"
			r.Source = "not found (module not in the module cache or vendor directory)"
			results = append(results, r)
			continue
		}
		if err := Scan(dir, r); err != nil {
			return nil, fmt.Errorf("licences of %s: %w", m.Path, err)
		}
		results = append(results, r)
	}
	vars, err := g.EnvVars(ctx, "GOROOT", "GOVERSION")
	if err != nil {
		return nil, err
	}
	std := &delivery.ModuleLicense{Module: StdlibModule, Version: vars["GOVERSION"], Source: "GOROOT"}
	if err := Scan(vars["GOROOT"], std); err != nil {
		return nil, fmt.Errorf("licence of the standard library: %w", err)
	}
	results = append(results, std)
	return results, nil
}

// locate finds a module's files: its directory as the go command reports
// it (module cache, or a local replacement), else the vendor directory.
func locate(m gotool.Module, moduleDir string) (string, string) {
	switch {
	case m.Main:
		return m.Dir, "module"
	case m.Replace != nil && m.Replace.Dir != "":
		return m.Replace.Dir, "replacement"
	case m.Dir != "":
		return m.Dir, "module cache"
	}
	vendored := filepath.Join(moduleDir, "vendor", filepath.FromSlash(m.Path))
	if fi, err := os.Stat(vendored); err == nil && fi.IsDir() {
		return vendored, "vendor"
	}
	return "", ""
}

// Scan reads the licence and notice files at the root of dir (and in a
// LICENSES directory, as REUSE lays them out) into r.
func Scan(dir string, r *delivery.ModuleLicense) error {
	files, err := licenseFiles(dir)
	if err != nil {
		return err
	}
	conclusive := len(files) > 0
	ids := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		rel = filepath.ToSlash(rel)
		if isNotice(filepath.Base(f)) {
			r.Notices = append(r.Notices, rel)
			continue
		}
		text, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		cov := licensecheck.Scan(text)
		if len(cov.Match) == 0 {
			r.Unknown = append(r.Unknown, rel)
			conclusive = false
			continue
		}
		for _, m := range cov.Match {
			id := SPDXID(m.ID)
			r.Declared = append(r.Declared, delivery.LicenseMatch{ID: id, File: rel, Confidence: roundPercent(cov.Percent)})
			ids[id] = true
		}
		if cov.Percent < MinConfidence {
			conclusive = false
		}
	}
	if len(ids) == 0 && len(r.Notices) > 0 && len(r.Unknown) == 0 {
		conclusive = false
	}
	if !conclusive || len(ids) == 0 {
		r.Concluded = "NOASSERTION"
		return nil
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	r.Concluded = strings.Join(list, " AND ")
	return nil
}

func roundPercent(p float64) float64 { return float64(int(p*10+0.5)) / 10 }

// SPDXID returns licensecheck's identifier when it is an SPDX licence ID,
// else a LicenseRef- of it (licensecheck knows some non-SPDX licences).
func SPDXID(id string) string {
	if ok, _ := spdxexp.ValidateLicenses([]string{id}); ok {
		return id
	}
	return "LicenseRef-" + strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
			return r
		}
		return '-'
	}, id)
}

// licenseFiles lists the licence-like files at the root of dir.
func licenseFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() && strings.EqualFold(name, "LICENSES"):
			sub, err := os.ReadDir(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			for _, s := range sub {
				if s.Type().IsRegular() {
					files = append(files, filepath.Join(dir, name, s.Name()))
				}
			}
		case e.Type().IsRegular() && (isLicense(name) || isNotice(name)):
			files = append(files, filepath.Join(dir, name))
		}
	}
	sort.Strings(files)
	return files, nil
}

func stem(name string) string {
	upper := strings.ToUpper(name)
	for _, ext := range []string{".MD", ".TXT", ".RST", ".HTML"} {
		upper = strings.TrimSuffix(upper, ext)
	}
	return upper
}

func isLicense(name string) bool {
	s := stem(name)
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "COPYRIGHT", "UNLICENSE", "MIT-LICENSE"} {
		if s == p || strings.HasPrefix(s, p+"-") || strings.HasPrefix(s, p+".") || strings.HasPrefix(s, p+"_") {
			return true
		}
	}
	return false
}

func isNotice(name string) bool {
	s := stem(name)
	return s == "NOTICE" || strings.HasPrefix(s, "NOTICE-") || strings.HasPrefix(s, "NOTICE.") || s == "PATENTS"
}

// Evaluate applies a licence policy. A module breaks it when one of its
// declared licences is denied, or when an allow list is set and its
// concluded licence does not satisfy it (an unknown licence never does).
func Evaluate(p config.LicensePolicy, results []*delivery.ModuleLicense) []delivery.Violation {
	var vs []delivery.Violation
	for _, r := range results {
		subject := r.Module
		if r.Version != "" {
			subject += "@" + r.Version
		}
		var denied []string
		for _, m := range r.Declared {
			if len(p.Deny) > 0 && !slices.Contains(denied, m.ID) {
				if ok, _ := spdxexp.Satisfies(m.ID, p.Deny); ok {
					denied = append(denied, m.ID)
				}
			}
		}
		if len(denied) > 0 {
			vs = append(vs, delivery.Violation{
				Rule: "policy.licenses.deny", Subject: subject,
				Message: fmt.Sprintf("%s is licensed under %s, which the policy denies", subject, strings.Join(denied, ", ")),
				Remedy:  "remove or replace the module, or change policy.licenses.deny in hegui.yaml after legal review",
			})
			continue
		}
		if len(p.Allow) == 0 {
			continue
		}
		if r.Concluded == "NOASSERTION" {
			vs = append(vs, delivery.Violation{
				Rule: "policy.licenses.allow", Subject: subject,
				Message: fmt.Sprintf("the licence of %s could not be determined (%s)", subject, describeEvidence(r)),
				Remedy:  "check the module's licence by hand; if acceptable, vendor a clear LICENSE file or replace the module",
			})
		} else if ok, _ := spdxexp.Satisfies(r.Concluded, p.Allow); !ok {
			vs = append(vs, delivery.Violation{
				Rule: "policy.licenses.allow", Subject: subject,
				Message: fmt.Sprintf("%s is licensed under %s, which is not on the allow list", subject, r.Concluded),
				Remedy:  "remove or replace the module, or add the licence to policy.licenses.allow after legal review",
			})
		}
	}
	return vs
}

func describeEvidence(r *delivery.ModuleLicense) string {
	switch {
	case len(r.Unknown) > 0:
		return "unrecognised licence text in " + strings.Join(r.Unknown, ", ")
	case len(r.Declared) > 0:
		return fmt.Sprintf("licence text only partly recognised in %s", r.Declared[0].File)
	}
	return "no licence file"
}
