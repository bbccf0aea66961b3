// Package license finds the licences of the modules linked into a
// delivery, from the licence files in the module cache or vendor directory,
// with google/licensecheck, and applies the licence policy of hegui.yaml.
// It never uses the network.
//
// What it reports per module, kept apart as SPDX keeps them:
//   - declared: each licence found, with the file and how much of the file's
//     text it covers;
//   - concluded: the SPDX expression hegui stands behind (the licences of
//     the licence files, joined with AND), or NOASSERTION when a licence file
//     is only partly recognised, holds several licences (a choice or a
//     combination: hegui does not guess which), or none is found;
//   - notices: NOTICE and PATENTS files, which carry attribution or patent
//     grants that travel with the binary but are not licences;
//   - unknown: licence files whose text matches no known licence.
package license

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/gotool"
)

// MinConfidence is the share of a licence file's words that must match known
// licence texts for hegui to conclude a licence from it.
const MinConfidence = 75

// StdlibModule is the name under which the Go standard library is reported.
const StdlibModule = "stdlib"

// Stage fills d.Licenses; the policy stage applies the licence policy.
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
	for _, r := range results {
		if r.Main && r.Module == d.Module.Path {
			r.Version = d.Version.Version // the main module is the delivery
		}
	}
	d.Licenses = results
	unknown := 0
	for _, r := range results {
		if r.Concluded == "NOASSERTION" {
			unknown++
		}
	}
	d.Log.Stepf("%d modules (and the standard library); %d without a concluded licence", len(results)-1, unknown)
	return nil
}

// Modules finds the licences of modules and of the standard library.
func Modules(ctx context.Context, g gotool.Go, moduleDir string, mods []gotool.Module) ([]*delivery.ModuleLicense, error) {
	var results []*delivery.ModuleLicense
	for _, m := range mods {
		dir, source := locate(m, moduleDir)
		r := &delivery.ModuleLicense{Module: m.Path, Version: m.Version, Source: source, Main: m.Main}
		if m.Replace != nil && m.Replace.Version != "" {
			r.Version = m.Replace.Version
		}
		if m.Replace != nil && m.Replace.Version == "" || r.Version == "" {
			r.Version = "(devel)" // a directory, as go version -m says
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
		cov := classify(text)
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
		// Several licences in one file may be a choice ("either A or B")
		// or a combination; hegui does not guess which.
		if cov.Percent < MinConfidence || len(cov.Match) > 1 {
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
		case e.IsDir() && name == "LICENSES":
			// REUSE (reuse.software) keeps one LICENSES/<SPDX-ID>.txt per licence.
			sub, err := os.ReadDir(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			for _, s := range sub {
				if s.Type().IsRegular() && strings.HasSuffix(s.Name(), ".txt") {
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

// sourceExtensions mark files that are code or data, never licence texts,
// even when named like one (license.go, licenses.json).
var sourceExtensions = map[string]bool{
	".go": true, ".c": true, ".h": true, ".cc": true, ".cpp": true, ".s": true, ".py": true, ".js": true,
	".ts": true, ".sh": true, ".json": true, ".yaml": true, ".yml": true, ".proto": true, ".rs": true,
	".java": true, ".rb": true, ".lre": true, ".tmpl": true, ".xml": true, ".toml": true, ".mod": true, ".sum": true,
}

func isLicense(name string) bool {
	if sourceExtensions[strings.ToLower(filepath.Ext(name))] {
		return false
	}
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

// Evaluate applies a licence policy to the modules the project uses (not to
// its own main modules). A module breaks it when one of its declared
// licences is denied, or when an allow list is set and its concluded licence
// does not satisfy it (an unknown licence never does).
func Evaluate(p config.LicensePolicy, results []*delivery.ModuleLicense) []delivery.Violation {
	var vs []delivery.Violation
	for _, r := range results {
		if r.Main {
			continue // the project's own code: its licence is its owner's choice
		}
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
		return fmt.Sprintf("licence text in %s is only partly recognised or holds several licences", r.Declared[0].File)
	}
	return "no licence file"
}

// ModulesOf locates, in the module cache (or moduleDir's vendor directory),
// the modules a binary's build information lists, for scanning their
// licences. Modules not found there are returned without a directory.
func ModulesOf(ctx context.Context, g gotool.Go, info *buildinfo.BuildInfo) ([]gotool.Module, error) {
	vars, err := g.EnvVars(ctx, "GOMODCACHE")
	if err != nil {
		return nil, err
	}
	cacheDir := func(path, version string) string {
		ep, err1 := module.EscapePath(path)
		ev, err2 := module.EscapeVersion(version)
		if err1 != nil || err2 != nil || version == "" {
			return ""
		}
		dir := filepath.Join(vars["GOMODCACHE"], filepath.FromSlash(ep)+"@"+ev)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return ""
		}
		return dir
	}
	var mods []gotool.Module
	for _, d := range info.Deps {
		m := gotool.Module{Path: d.Path, Version: d.Version, Dir: cacheDir(d.Path, d.Version)}
		if d.Replace != nil {
			m.Replace = &gotool.Module{Path: d.Replace.Path, Version: d.Replace.Version, Dir: cacheDir(d.Replace.Path, d.Replace.Version)}
		}
		mods = append(mods, m)
	}
	return mods, nil
}
