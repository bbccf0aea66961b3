package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/internal/schematest"
)

func TestSBOMOfBinaryAndSource(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	bin := r.path("app")
	f.goCmd("build", "-o", bin, ".")
	want := goVersionModules(t, bin)

	spdx := r.ok("sbom", bin).stdout
	schematest.SPDX(t, "binary SPDX", []byte(spdx))
	if got := sbomModules(t, "x.spdx.json", []byte(spdx)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("binary SBOM modules %v, go version -m %v", got, want)
	}
	if !strings.Contains(spdx, `"ISC"`) || !strings.Contains(spdx, "SM3: ") {
		t.Error("binary SBOM lacks licences from the module cache or the SM3 digest")
	}
	r.ok("sbom", bin, "--format", "cyclonedx", "-o", r.path("app.cdx.json"))
	schematest.CycloneDX(t, "binary CycloneDX", r.read("app.cdx.json"))
	r.writesInPlace(func(out string) []string { return []string{"sbom", bin, "-o", out} })

	// The module source gives the same modules, with the dependency graph.
	src := r.ok("sbom", f.dir, "--format", "cyclonedx").stdout
	schematest.CycloneDX(t, "source CycloneDX", []byte(src))
	if got := sbomModules(t, "x.cdx.json", []byte(src)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("source SBOM modules %v, binary %v", got, want)
	}
	if !strings.Contains(src, `"dependsOn"`) {
		t.Error("source SBOM has no dependency relationships")
	}
	r.fails(2, []string{"--format"}, "sbom", bin, "--format", "xml")
	r.fails(2, []string{"apply to a module"}, "sbom", bin, "--target", "linux/arm64")
	r.fails(1, []string{"not a Go binary"}, "sbom", r.write("text", []byte("hello")))
}

func TestLicensesCommand(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	out := r.ok("licenses", f.dir).stdout
	for _, want := range []string{"github.com/davecgh/go-spew", "ISC", "golang.org/x/text", "BSD-3-Clause", "fixture.example/lib", "NOTICE"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	var results []format.ModuleLicense
	if err := json.Unmarshal([]byte(r.ok("licenses", f.dir, "--json").stdout), &results); err != nil || len(results) != 5 {
		t.Fatalf("--json: %v (%d results)", err, len(results))
	}
	f.write("hegui.yaml", "version: 1\npolicy:\n  licenses:\n    deny: [ISC]\n")
	r.ok("licenses", f.dir) // listing alone does not judge
	r.fails(1, []string{"break the licence policy", "github.com/davecgh/go-spew"}, "licenses", f.dir, "--check")
}

// TestSBOMOfSourceRunsEachLookupOnce (issue 10): hegui sbom DIR asks the go
// command once for the module, its programs and what the main package
// links, once for go env, once for the module graph, and git four times
// when HEAD carries its release tag. It used to take six go and seven git
// commands.
func TestSBOMOfSourceRunsEachLookupOnce(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	f.git("tag", "v1.0.0")
	runs := peertest.LogRuns(t, "go", "git")
	for _, args := range [][]string{{"sbom", f.dir}, {"sbom", f.dir, "--main", "."}} {
		r.ok(args...)
		var goRuns, gitRuns []string
		for _, line := range runs() {
			if strings.HasPrefix(line, "go ") {
				goRuns = append(goRuns, line)
			} else {
				gitRuns = append(gitRuns, line)
			}
		}
		if len(goRuns) != 3 || len(gitRuns) != 4 {
			t.Errorf("hegui %s ran %d go and %d git commands, want 3 and 4:\n%s\n%s", strings.Join(args, " "), len(goRuns), len(gitRuns), strings.Join(goRuns, "\n"), strings.Join(gitRuns, "\n"))
		}
	}
}
