package sbom

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/schematest"
)

// input is a fixed binary description covering every kind of module: a
// plain dependency, one replaced by another module, one replaced by another
// version of itself, one replaced by a local directory, and a licence that
// is not on the SPDX list.
func input() Input {
	info := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "example.com/app/cmd/app",
		Main:      debug.Module{Path: "example.com/app", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "golang.org/x/text", Version: "v0.31.0", Sum: "h1:aC8ghyu4JhP8VojJ2lEHBnochRno1sgL6nEi9WGFGMM="},
			{Path: "github.com/davecgh/go-spew", Version: "v1.1.1", Sum: "h1:vj9j/u1bqnvCEfJOwUhtlOARqs3+rkHYY13jYWTU97c="},
			{Path: "example.com/forked", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1", Sum: "h1:AAAA"}},
			{Path: "example.com/pinned", Version: "v2.0.0", Replace: &debug.Module{Path: "example.com/pinned", Version: "v2.0.1", Sum: "h1:BBBB"}},
			{Path: "example.com/local", Version: "v0.0.0", Replace: &debug.Module{Path: "./local", Version: "(devel)"}},
		},
	}
	lic := func(mod, id string, concluded string) *format.ModuleLicense {
		return &format.ModuleLicense{Module: mod, Declared: []format.LicenseMatch{{ID: id, File: "LICENSE", Confidence: 100}}, Concluded: concluded}
	}
	return Input{
		File: "bin/linux_amd64/app", SHA256: strings.Repeat("ab", 32), SM3: strings.Repeat("cd", 32), Target: "linux/amd64",
		Version: "v1.2.3", Info: info,
		Graph: []gotool.Edge{
			{From: "example.com/app", To: "golang.org/x/text@v0.31.0"},
			{From: "example.com/app", To: "github.com/davecgh/go-spew@v1.1.1"},
			{From: "example.com/app", To: "example.com/forked@v1.0.0"},
			{From: "example.com/forked@v1.0.0", To: "golang.org/x/text@v0.30.0"},
			{From: "example.com/forked@v0.9.0", To: "github.com/davecgh/go-spew@v1.1.0"}, // not the selected version: ignored
			{From: "example.com/app", To: "go@1.26"},                                     // not a module: ignored
		},
		Licenses: map[string]*format.ModuleLicense{
			"golang.org/x/text":          lic("golang.org/x/text", "BSD-3-Clause", "BSD-3-Clause"),
			"github.com/davecgh/go-spew": lic("github.com/davecgh/go-spew", "ISC", "ISC"),
			"example.com/forked":         lic("example.com/forked", "LicenseRef-GooglePatentsFile", "NOASSERTION"),
			format.StdlibModule:          lic(format.StdlibModule, "BSD-3-Clause", "BSD-3-Clause"),
		},
		Created:   time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC),
		Tool:      "hegui-v0.1.0",
		SourceURL: "https://git.example.com/app.git",
	}
}

func TestSPDXGolden(t *testing.T) {
	data, err := SPDX(input())
	if err != nil {
		t.Fatal(err)
	}
	schematest.SPDX(t, "spdx", data)
	golden.Check(t, "app.spdx.json.golden", data)
	again, _ := SPDX(input())
	if !bytes.Equal(data, again) {
		t.Error("SPDX output is not deterministic")
	}
}

func TestCycloneDXGolden(t *testing.T) {
	data, err := CycloneDX(input())
	if err != nil {
		t.Fatal(err)
	}
	schematest.CycloneDX(t, "cyclonedx", data)
	golden.Check(t, "app.cdx.json.golden", data)
}

// TestSchemasCatchErrors makes sure the schema check can fail: documents
// with a required field removed or a wrong value are rejected.
func TestSchemasCatchErrors(t *testing.T) {
	spdxDoc, _ := SPDX(input())
	cdxDoc, _ := CycloneDX(input())
	mutate := func(doc []byte, f func(map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(doc, &m)
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	if err := schematest.ValidateSPDX(mutate(spdxDoc, func(m map[string]any) { delete(m, "creationInfo") })); err == nil {
		t.Error("SPDX without creationInfo validated")
	}
	if err := schematest.ValidateSPDX(mutate(spdxDoc, func(m map[string]any) { m["packages"].([]any)[0].(map[string]any)["SPDXID"] = "bad id" })); err == nil {
		t.Error("SPDX with a malformed SPDXID validated")
	}
	if err := schematest.ValidateCycloneDX(mutate(cdxDoc, func(m map[string]any) { m["specVersion"] = 1.6 })); err == nil {
		t.Error("CycloneDX with a numeric specVersion validated")
	}
	if err := schematest.ValidateCycloneDX(mutate(cdxDoc, func(m map[string]any) {
		m["components"].([]any)[0].(map[string]any)["type"] = "gadget"
	})); err == nil {
		t.Error("CycloneDX with an unknown component type validated")
	}
}

func TestComponents(t *testing.T) {
	comps := components(input())
	got := map[string]*component{}
	for _, c := range comps {
		got[c.path] = c
	}
	if comps[0].path != "example.com/app" || comps[0].version != "v1.2.3" || comps[len(comps)-1].path != format.StdlibModule {
		t.Errorf("order: first %s, last %s", comps[0].path, comps[len(comps)-1].path)
	}
	cases := []struct{ path, version, purl, replace string }{
		{"example.com/forked", "v1.0.0", "pkg:golang/example.com/fork@v1.0.1", "=> example.com/fork@v1.0.1"},
		{"example.com/pinned", "v2.0.1", "pkg:golang/example.com/pinned@v2.0.1", "=> example.com/pinned@v2.0.1"},
		{"example.com/local", "(devel)", "pkg:golang/example.com/local", "=> ./local"},
		{"github.com/davecgh/go-spew", "v1.1.1", "pkg:golang/github.com/davecgh/go-spew@v1.1.1", ""},
		{format.StdlibModule, "go1.26.8", "pkg:golang/stdlib@go1.26.8", ""},
	}
	for _, c := range cases {
		g := got[c.path]
		if g == nil || g.version != c.version || g.purl != c.purl || g.replace != c.replace {
			t.Errorf("%s: %+v", c.path, g)
		}
	}
	// Edges: the main module requires three modules; forked@v1.0.0 requires
	// x/text; the edge from forked@v0.9.0 is not the selected version.
	if n := len(comps[0].dependsOn); n != 3 {
		t.Errorf("main module depends on %d modules", n)
	}
	if f := got["example.com/forked"]; len(f.dependsOn) != 1 || f.dependsOn[0] != got["golang.org/x/text"].ref {
		t.Errorf("forked depends on %v", f.dependsOn)
	}
	// The verifier's reading of a binary (format.ModuleVersions) names
	// every module with the version its SBOM records.
	v := format.ModuleVersions(input().Info)
	if len(v) != 5 || v["example.com/local"] != "(devel)" {
		t.Errorf("ModuleVersions %v", v)
	}
	for _, c := range comps[1 : len(comps)-1] {
		if v[c.path] != c.version {
			t.Errorf("%s: the SBOM records %s, the verifier expects %s", c.path, c.version, v[c.path])
		}
	}
}
