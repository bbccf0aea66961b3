package tests

import (
	"io"
	"math"
	"path"

	"golang.org/x/tools/cover"

	"hegui.dev/hegui/internal/format"
)

// statements counts a package's statements and those its tests ran.
type statements struct{ total, covered int64 }

// coverage reads a coverage profile (go test -coverprofile) and counts
// the statements of each package in it. The profile names each file by
// its import path, so a file's package is its directory. Each package's
// own test binary instruments it alone, so the counts are the package's
// coverage by its own tests, as go test -cover prints it.
func coverage(r io.Reader) (map[string]statements, error) {
	profiles, err := cover.ParseProfilesFromReader(r)
	if err != nil {
		return nil, err
	}
	out := map[string]statements{}
	for _, p := range profiles {
		pkg := path.Dir(p.FileName)
		s := out[pkg]
		for _, b := range p.Blocks {
			if b.NumStmt < 0 {
				continue
			}
			s.total += int64(b.NumStmt)
			if b.Count > 0 {
				s.covered += int64(b.NumStmt)
			}
		}
		out[pkg] = s
	}
	return out, nil
}

// setCoverage records the coverage of each package, and the total over
// them, from the profile's counts.
func setCoverage(pkgs []*format.TestPackage, t *format.TestTotals, counts map[string]statements) {
	var all statements
	for _, p := range pkgs {
		s, ok := counts[p.Package]
		if !ok {
			continue
		}
		p.Coverage, p.Statements = percent(s), int(s.total)
		all.total += s.total
		all.covered += s.covered
	}
	if all.total > 0 {
		t.Coverage = percent(all)
	}
}

// percent is the share of statements covered, to a tenth of a percent;
// a package without statements has none to cover.
func percent(s statements) *float64 {
	if s.total <= 0 {
		return nil
	}
	v := math.Round(float64(s.covered)/float64(s.total)*1000) / 10
	return &v
}
