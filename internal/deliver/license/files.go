package license

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Which files are licence files, and which directories of a module hold
// the ones that apply to the linked code.
//
// A file is a licence file when its name, split at '.', '-' and '_', has a
// part that is LICENSE, LICENSES, LICENCE, LICENCES, COPYING, COPYRIGHT or
// UNLICENSE (in any case): LICENSE, LICENSE.txt, LICENSE-APACHE, MIT-LICENSE,
// go.LICENSE (code copied from the Go project), LICENSE.docs, COPYING.LESSER,
// LICENSE_list. Code and data files are never licence files, whatever their
// name (license.go, licenses.json, check-license.sh). NOTICE files and
// PATENTS are notices, kept apart from licences.

// licenseWords are the name parts that make a file a licence file.
var licenseWords = map[string]bool{
	"LICENSE": true, "LICENSES": true, "LICENCE": true, "LICENCES": true,
	"COPYING": true, "COPYRIGHT": true, "UNLICENSE": true,
}

// notLicenseText are extensions of files that are code, data or images,
// never licence texts, even when named like one.
var notLicenseText = map[string]bool{
	".go": true, ".c": true, ".h": true, ".cc": true, ".cpp": true, ".s": true, ".py": true, ".js": true,
	".ts": true, ".sh": true, ".json": true, ".yaml": true, ".yml": true, ".proto": true, ".rs": true,
	".java": true, ".rb": true, ".lre": true, ".tmpl": true, ".tpl": true, ".xml": true, ".toml": true,
	".mod": true, ".sum": true, ".csv": true, ".tsv": true, ".pdf": true, ".png": true, ".jpg": true,
	".jpeg": true, ".gif": true, ".svg": true, ".t1": true, ".t2": true,
}

func nameParts(name string) []string {
	return strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool { return r == '.' || r == '-' || r == '_' })
}

func isLicense(name string) bool {
	if notLicenseText[strings.ToLower(filepath.Ext(name))] || isNotice(name) {
		return false
	}
	for _, p := range nameParts(name) {
		if licenseWords[p] {
			return true
		}
	}
	return false
}

// isNotice matches NOTICE, NOTICES, PATENTS and names that start with one
// of them (NOTICE.txt, NOTICE-THIRD-PARTY).
func isNotice(name string) bool {
	if notLicenseText[strings.ToLower(filepath.Ext(name))] {
		return false
	}
	parts := nameParts(name)
	return len(parts) > 0 && (parts[0] == "NOTICE" || parts[0] == "NOTICES" || parts[0] == "PATENTS")
}

// licenseFiles lists the licence and notice files that apply to the code
// of the packages in pkgDirs (slash-separated, relative to dir; "" is the
// root): every one at the root of dir and in its LICENSES directory (as
// REUSE lays them out), and every one in a package's directory or in a
// directory between it and the root. The paths are relative to dir,
// slash-separated and sorted.
func licenseFiles(dir string, pkgDirs []string) ([]string, error) {
	files, err := licenseFilesIn(dir, "")
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Join(dir, "LICENSES")); err == nil && fi.IsDir() {
		// REUSE (reuse.software) keeps one LICENSES/<SPDX-ID>.txt per licence.
		sub, err := os.ReadDir(filepath.Join(dir, "LICENSES"))
		if err != nil {
			return nil, err
		}
		for _, s := range sub {
			if s.Type().IsRegular() && strings.HasSuffix(s.Name(), ".txt") {
				files = append(files, "LICENSES/"+s.Name())
			}
		}
	}
	seen := map[string]bool{"": true, ".": true}
	for _, pd := range pkgDirs {
		for d := path.Clean(pd); !seen[d] && d != "/" && !strings.HasPrefix(d, ".."); d = path.Dir(d) {
			seen[d] = true
			more, err := licenseFilesIn(dir, d)
			if err != nil {
				return nil, err
			}
			files = append(files, more...)
		}
	}
	sort.Strings(files)
	return files, nil
}

// licenseFilesIn lists the licence and notice files in the directory rel of
// dir. A directory that does not exist holds none: a package's directory
// always exists, but a go.mod may name packages the module no longer has.
func licenseFilesIn(dir, rel string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(rel)))
	if os.IsNotExist(err) && rel != "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if name := e.Name(); e.Type().IsRegular() && (isLicense(name) || isNotice(name)) {
			files = append(files, path.Join(rel, name))
		}
	}
	return files, nil
}

// packageDirs maps each module in mods to the directories, relative to the
// module root, of its packages among pkgs (import paths). A package belongs
// to the module with the longest path that is a prefix of its import path;
// standard-library packages belong to none.
func packageDirs(modPaths []string, pkgs []string) map[string][]string {
	dirs := map[string][]string{}
	for _, p := range pkgs {
		best := ""
		for _, m := range modPaths {
			if (p == m || strings.HasPrefix(p, m+"/")) && len(m) > len(best) {
				best = m
			}
		}
		if best == "" {
			continue
		}
		dirs[best] = append(dirs[best], strings.TrimPrefix(strings.TrimPrefix(p, best), "/"))
	}
	return dirs
}

// IsLicenseFile reports whether a file name is one Scan reads: a licence
// or a notice file.
func IsLicenseFile(name string) bool { return isLicense(name) || isNotice(name) }

// isCopyrightFile matches COPYRIGHT and names that start with it
// (COPYRIGHT.txt).
func isCopyrightFile(name string) bool {
	parts := nameParts(name)
	return len(parts) > 0 && parts[0] == "COPYRIGHT"
}
