package format

import (
	"strings"
	"testing"
)

// provenanceStatement is a statement as the provenance stage writes it,
// cut to what the verifier reads.
const provenanceStatement = `{"_type":"https://in-toto.io/Statement/v1",
"subject":[{"name":"bin/linux_amd64/app","digest":{"sha256":"aa","sm3":"bb"}}],
"predicateType":"https://slsa.dev/provenance/v1",
"predicate":{"buildDefinition":{"buildType":"https://hegui.dev/buildtypes/go/v2",
"externalParameters":{"builds":[{"output":"bin/linux_amd64/app","main":"./cmd/app","target":"linux/amd64",
"ldflags":{"stripSymbols":true,"stripDWARF":true,"define":[{"name":"main.version","value":"v1.2.3"}]},"trimpath":true,"buildvcs":true,"cgo":false}]},
"internalParameters":{"goVersion":"go1.26.8","sourceDateEpoch":"1700000000","dirty":false}}}}`

func TestParseProvenance(t *testing.T) {
	p, err := ParseProvenance([]byte(provenanceStatement))
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Subjects["bin/linux_amd64/app"]; d["sha256"] != "aa" || d["sm3"] != "bb" || p.BuildType != BuildType {
		t.Errorf("parsed %+v", p)
	}
	bad := map[string]struct{ doc, want string }{
		"another statement type": {strings.Replace(provenanceStatement, "Statement/v1", "Statement/v0.1", 1), "want an in-toto Statement v1"},
		"another predicate":      {strings.Replace(provenanceStatement, "provenance/v1", "provenance/v0.2", 1), "SLSA Provenance v1"},
		"a subject twice":        {strings.Replace(provenanceStatement, `"subject":[{"name":"bin/linux_amd64/app","digest":{"sha256":"aa","sm3":"bb"}}]`, `"subject":[{"name":"a","digest":{}},{"name":"a","digest":{}}]`, 1), "twice"},
		"a member twice":         {strings.Replace(provenanceStatement, `"predicateType"`, `"_type":"x","predicateType"`, 1), "duplicate"},
		"trailing data":          {provenanceStatement + "{}", "after top-level value"},
	}
	for name, c := range bad {
		if _, err := ParseProvenance([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}

func TestProvenanceRecipes(t *testing.T) {
	p, err := ParseProvenance([]byte(provenanceStatement))
	if err != nil {
		t.Fatal(err)
	}
	recipes, tc, dirty, err := p.Recipes()
	if err != nil {
		t.Fatal(err)
	}
	if len(recipes) != 1 || recipes[0].Output != "bin/linux_amd64/app" || tc.GoVersion != "go1.26.8" || tc.SourceDateEpoch != 1700000000 || dirty {
		t.Errorf("recipes %+v, toolchain %+v, dirty %v", recipes, tc, dirty)
	}
	bad := map[string]struct{ doc, want string }{
		"another build type": {strings.Replace(provenanceStatement, "go/v2", "go/v1", 1), "rebuilds https://hegui.dev/buildtypes/go/v2 only"},
		"an unknown member":  {strings.Replace(provenanceStatement, `"trimpath":true`, `"trimpath":true,"asmflags":"-S"`, 1), "builds[0]"},
		"a bad epoch":        {strings.Replace(provenanceStatement, `"1700000000"`, `"yesterday"`, 1), "not a number of seconds"},
	}
	for name, c := range bad {
		p, err := ParseProvenance([]byte(c.doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, _, _, err := p.Recipes(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}

// FuzzParseProvenance: the statement is read before the rebuild trusts
// anything in it, and its recipes are checked before anything runs.
func FuzzParseProvenance(f *testing.F) {
	f.Add([]byte(provenanceStatement))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProvenance(data)
		if err != nil {
			return
		}
		p.Recipes()
	})
}
