// Package license finds the licences of the modules linked into a
// delivery, from the licence files in the module cache or vendor directory,
// with google/licensecheck, and applies the licence policy of hegui.yaml.
// It never uses the network.
//
// Which files it reads for a module (files.go):
//   - every licence-named file at the module root: a name that, split at
//     '.', '-' and '_', has a part LICENSE, LICENCE, COPYING, COPYRIGHT or
//     UNLICENSE (or a plural LICENSES, LICENCES), in any case, and is not
//     code or data (.go, .json, .sh, ...): LICENSE, LICENSE.txt,
//     LICENSE-APACHE, MIT-LICENSE, go.LICENSE, COPYING.LESSER;
//   - REUSE's LICENSES/*.txt at the root;
//   - when the linked packages are known (ModulesLinked; hegui deliver
//     knows them), the licence-named files in each linked package's
//     directory and in every directory between it and the module root:
//     code copied into a package keeps its licence beside it
//     (internal/snapref/LICENSE). Licence files of packages that are not
//     linked do not apply. A binary's build information names modules, not
//     packages, so for a binary only the root is read (Modules);
//   - for the standard library, GOROOT's root only.
//
// What it reports per module, kept apart as SPDX keeps them:
//   - declared: each licence found, once per file, with the file and how
//     much of the file's text it covers, sorted by file and licence;
//   - concluded: the SPDX expression hegui stands behind (the licences of
//     the licence files, joined with AND), or NOASSERTION when a licence file
//     is only partly recognised, holds several different licences (a choice
//     or a combination: hegui does not guess which), or none is found; a
//     file that holds one licence twice (Apache-2.0 and its appendix) holds
//     one licence;
//   - notices: NOTICE and PATENTS files, which carry attribution or patent
//     grants that travel with the binary but are not licences;
//   - unknown: licence files whose text matches no known licence.
//
// The common licence texts are classified without compiling licensecheck's
// patterns, with the same verdicts (knowntexts.go).
package license

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/google/licensecheck"
	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
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
	var pkgs []string
	for _, b := range d.Binaries {
		for _, m := range b.Modules {
			key := m.Path + "@" + m.Version
			if !seen[key] {
				seen[key] = true
				mods = append(mods, m)
			}
		}
		pkgs = append(pkgs, b.Packages...)
	}
	results, err := ModulesLinked(ctx, d.Go, d.ModuleDir, mods, pkgs)
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

// Modules finds the licences of modules and of the standard library from
// the licence files at each module's root, for when the linked packages are
// not known (a binary's build information names modules only). When they
// are, ModulesLinked also reads the licence files that sit with them.
func Modules(ctx context.Context, g gotool.Go, moduleDir string, mods []gotool.Module) ([]*format.ModuleLicense, error) {
	return ModulesLinked(ctx, g, moduleDir, mods, nil)
}

// ModulesLinked finds the licences of modules and of the standard library.
// pkgs are the import paths of the packages linked (as go list -deps
// reports them); a licence file in a package's directory, or in one between
// it and its module's root, applies too (code copied into a package keeps
// its own licence there, as klauspost/compress's internal/snapref does).
// Each module is reported once, in the order of mods, then the standard
// library. The standard library is read at GOROOT's root only: its vendored
// golang.org/x packages carry the same licence, and the LICENSE in
// crypto/internal/boring covers BoringCrypto objects that only a
// GOEXPERIMENT=boringcrypto build links.
func ModulesLinked(ctx context.Context, g gotool.Go, moduleDir string, mods []gotool.Module, pkgs []string) ([]*format.ModuleLicense, error) {
	paths := make([]string, 0, len(mods))
	for _, m := range mods {
		paths = append(paths, m.Path)
	}
	dirs := packageDirs(paths, pkgs)
	var results []*format.ModuleLicense
	reported := map[string]bool{}
	for _, m := range mods {
		dir, source := locate(m, moduleDir)
		r := &format.ModuleLicense{Module: m.Path, Version: m.Version, Source: source, Main: m.Main}
		if m.Replace != nil && m.Replace.Version != "" {
			r.Version = m.Replace.Version
		}
		if m.Replace != nil && m.Replace.Version == "" || r.Version == "" {
			r.Version = "(devel)" // a directory, as go version -m says
		}
		if reported[r.Module+"@"+r.Version] {
			continue
		}
		reported[r.Module+"@"+r.Version] = true
		if dir == "" {
			r.Concluded = "NOASSERTION"
			r.Source = "not found (module not in the module cache or vendor directory)"
			results = append(results, r)
			continue
		}
		if err := Scan(dir, dirs[m.Path], r); err != nil {
			return nil, fmt.Errorf("licences of %s: %w", m.Path, err)
		}
		results = append(results, r)
	}
	vars, err := g.EnvVars(ctx, "GOROOT", "GOVERSION")
	if err != nil {
		return nil, err
	}
	std := &format.ModuleLicense{Module: StdlibModule, Version: vars["GOVERSION"], Source: "GOROOT"}
	if err := Scan(vars["GOROOT"], nil, std); err != nil {
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

// Scan reads into r the licence and notice files of the module in dir that
// apply to the packages in pkgDirs (directories relative to dir,
// slash-separated; see licenseFiles). With no pkgDirs it reads those at the
// root only. Declared, Notices and Unknown come out sorted, each entry once.
func Scan(dir string, pkgDirs []string, r *format.ModuleLicense) error {
	files, err := licenseFiles(dir, pkgDirs)
	if err != nil {
		return err
	}
	conclusive := len(files) > 0
	ids := map[string]bool{}
	for _, rel := range files {
		if isNotice(path.Base(rel)) {
			r.Notices = append(r.Notices, rel)
			continue
		}
		text, err := readLicense(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		var cov licensecheck.Coverage
		if text != nil {
			cov = classify(text)
		}
		if len(cov.Match) == 0 && isCopyrightFile(path.Base(rel)) {
			// A COPYRIGHT file without licence text names the holders:
			// a notice (github.com/miekg/dns keeps one beside LICENSE).
			r.Notices = append(r.Notices, rel)
			continue
		}
		if len(cov.Match) == 0 {
			r.Unknown = append(r.Unknown, rel)
			conclusive = false
			continue
		}
		// A licence can match twice in one file: Apache-2.0 followed by
		// its own "how to apply" notice, or two BSD-3-Clause texts of
		// different holders. It is one licence of the file.
		inFile := map[string]bool{}
		for _, m := range cov.Match {
			inFile[SPDXID(m.ID)] = true
		}
		for _, id := range slices.Sorted(maps.Keys(inFile)) {
			r.Declared = append(r.Declared, format.LicenseMatch{ID: id, File: rel, Confidence: roundPercent(cov.Percent)})
			ids[id] = true
		}
		// Several licences in one file may be a choice ("either A or B")
		// or a combination; hegui does not guess which.
		if cov.Percent < MinConfidence || len(inFile) > 1 {
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
	r.Concluded = strings.Join(slices.Sorted(maps.Keys(ids)), " AND ")
	return nil
}

// maxLicenseBytes bounds the licence files read. The longest real ones,
// bundles of third-party licences, run to a few hundred kilobytes; a bigger
// file is left unclassified (listed as unknown) rather than read whole.
const maxLicenseBytes = 4 << 20

// readLicense reads a licence file, or returns nil for one larger than
// maxLicenseBytes.
func readLicense(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, maxLicenseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(text) > maxLicenseBytes {
		return nil, nil
	}
	return text, nil
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

// Evaluate applies a licence policy to the modules the project uses (not to
// its own main modules). A module breaks it when one of its declared
// licences is denied, or when an allow list is set and its concluded licence
// does not satisfy it (an unknown licence never does).
func Evaluate(p config.LicensePolicy, results []*format.ModuleLicense) []format.Violation {
	var vs []format.Violation
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
			vs = append(vs, format.Violation{
				Rule: "policy.licenses.deny", Subject: subject,
				Message: fmt.Sprintf("%s is licensed under %s, which the policy denies", subject, strings.Join(denied, ", ")),
				Remedy:  "remove or replace the module, or change policy.licenses.deny in hegui.yaml after legal review",
			})
			continue
		}
		if len(p.Allow) == 0 {
			continue
		}
		if r.Concluded == "NOASSERTION" && recognised(r) {
			// Several licences recognised in full: a choice or a
			// combination, which hegui does not guess. When every one is
			// allowed, whichever it is is allowed.
			var notAllowed, all []string
			for _, m := range r.Declared {
				all = append(all, m.ID)
				if ok, _ := spdxexp.Satisfies(m.ID, p.Allow); !ok && !slices.Contains(notAllowed, m.ID) {
					notAllowed = append(notAllowed, m.ID)
				}
			}
			if len(notAllowed) > 0 {
				vs = append(vs, format.Violation{
					Rule: "policy.licenses.allow", Subject: subject,
					Message: fmt.Sprintf("%s is licensed under %s together (a choice or a combination), and %s is not on the allow list", subject, strings.Join(all, ", "), strings.Join(notAllowed, ", ")),
					Remedy:  "remove or replace the module, or add the licence to policy.licenses.allow after legal review",
				})
			}
			continue
		}
		if r.Concluded == "NOASSERTION" {
			vs = append(vs, format.Violation{
				Rule: "policy.licenses.allow", Subject: subject,
				Message: fmt.Sprintf("the licence of %s could not be determined (%s)", subject, describeEvidence(r)),
				Remedy:  "check the module's licence by hand; if acceptable, vendor a clear LICENSE file or replace the module",
			})
		} else if ok, _ := spdxexp.Satisfies(r.Concluded, p.Allow); !ok {
			vs = append(vs, format.Violation{
				Rule: "policy.licenses.allow", Subject: subject,
				Message: fmt.Sprintf("%s is licensed under %s, which is not on the allow list", subject, r.Concluded),
				Remedy:  "remove or replace the module, or add the licence to policy.licenses.allow after legal review",
			})
		}
	}
	return vs
}

// recognised reports whether every licence file of r was recognised with
// confidence: its licences are known, only not which of them applies.
func recognised(r *format.ModuleLicense) bool {
	if len(r.Declared) == 0 || len(r.Unknown) > 0 {
		return false
	}
	for _, m := range r.Declared {
		if m.Confidence < MinConfidence {
			return false
		}
	}
	return true
}

func describeEvidence(r *format.ModuleLicense) string {
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
