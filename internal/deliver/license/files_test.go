package license

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

func TestLicenseFileNames(t *testing.T) {
	for name, want := range map[string]string{
		"LICENSE": "licence", "LICENSE.txt": "licence", "LICENSE.md": "licence", "license": "licence",
		"LICENCE": "licence", "COPYING": "licence", "COPYING.LESSER": "licence", "COPYRIGHT": "licence",
		"UNLICENSE": "licence", "go.LICENSE": "licence", "LICENSE-APACHE": "licence", "LICENSE-MIT": "licence",
		"MIT-LICENSE.txt": "licence", "LICENSE.docs": "licence", "LICENSE_list": "licence",
		"LICENSE-THIRD-PARTY": "licence", "ZSTD_LICENSE": "licence", "THIRD_PARTY_LICENSES.md": "licence",
		"NOTICE": "notice", "NOTICE.txt": "notice", "NOTICES": "notice", "PATENTS": "notice",
		"license.go": "", "licenses.json": "", "check-license.sh": "", "license-check.yml": "", "LICENSE.png": "",
		"README.md": "", "licensed.go": "", "copyrights.go": "", "go.mod": "", "unlicensed.txt": "",
	} {
		got := ""
		switch {
		case isLicense(name):
			got = "licence"
		case isNotice(name):
			got = "notice"
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestPackageDirs(t *testing.T) {
	got := packageDirs(
		[]string{"example.com/a", "example.com/a/b", "example.com/ab"},
		[]string{"fmt", "example.com/a", "example.com/a/x/y", "example.com/a/b/c", "example.com/ab", "vendor/golang.org/x/net/dns"},
	)
	want := map[string][]string{"example.com/a": {"", "x/y"}, "example.com/a/b": {"c"}, "example.com/ab": {""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("packageDirs = %v, want %v", got, want)
	}
}

// TestModulesLinked runs the go command on testdata/linked/app, which
// links example.com/copied (MIT, with a go.LICENSE for code from the Go
// project, a package with a licence of its own, one under a licensed
// directory, and an unlinked package with an unknown licence) and
// example.com/apache (the same Apache-2.0 text twice: LICENSE and
// LICENSE.txt, each holding the licence and its appendix). The findings
// are compared with testdata/linked.golden (-update rewrites it).
func TestModulesLinked(t *testing.T) {
	ctx := context.Background()
	dir, err := filepath.Abs("testdata/linked/app")
	if err != nil {
		t.Fatal(err)
	}
	g := gotool.Go{Dir: dir, Env: []string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off"}}
	mods, pkgs, err := g.Linked(ctx, ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	results, err := ModulesLinked(ctx, g, dir, mods, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(results); n != 4 || results[n-1].Module != StdlibModule || results[n-1].Concluded != "BSD-3-Clause" {
		t.Fatalf("want app, apache, copied and the standard library (BSD-3-Clause), got %+v", results)
	}
	got, err := json.MarshalIndent(results[:3], "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const golden = "testdata/linked.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("findings differ from %s (go test -run TestModulesLinked -update rewrites it):\n%s", golden, got)
	}

	// A module listed twice is reported once.
	if twice, err := ModulesLinked(ctx, g, dir, append(mods, mods...), pkgs); err != nil || len(twice) != len(results) {
		t.Errorf("modules listed twice: %d results, want %d (%v)", len(twice), len(results), err)
	}

	// Without the packages, only the files at each module's root count.
	results, err = Modules(ctx, g, dir, mods)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Module == "example.com/copied" {
			want := []format.LicenseMatch{{ID: "MIT", File: "LICENSE", Confidence: 100}, {ID: "BSD-3-Clause", File: "go.LICENSE", Confidence: 100}}
			if !reflect.DeepEqual(r.Declared, want) || r.Concluded != "BSD-3-Clause AND MIT" {
				t.Errorf("root only: %+v", r)
			}
		}
	}
}
