package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := Default()
	if len(c.Targets) != 3 || c.Targets[2] != "linux/loong64" || !c.Reproducibility.Enabled() || c.Hardening.GlibcBaseline != "2.28" || c.Output != "dist" {
		t.Errorf("defaults %+v", c)
	}
	tests := c.Tests
	if !tests.Runs() || !tests.WithRace() || !tests.WithShort() || tests.TimeoutDuration() != 10*time.Minute ||
		len(tests.Packages) != 1 || tests.Packages[0] != "./..." || c.Policy.Tests != Warn {
		t.Errorf("tests defaults %+v, policy %q", tests, c.Policy.Tests)
	}
	off, err := Parse([]byte("version: 1\ntests:\n  enabled: false\n  race: false\n  short: false\n  timeout: 1h\n  flags: [-skip=TestNet, -p=1]\npolicy:\n  tests: fail\n"))
	if err != nil {
		t.Fatal(err)
	}
	if off.Tests.Runs() || off.Tests.WithRace() || off.Tests.WithShort() || off.Tests.TimeoutDuration() != time.Hour || off.Policy.Tests != Fail {
		t.Errorf("tests turned off: %+v, policy %q", off.Tests, off.Policy.Tests)
	}
}

func TestTemplateParses(t *testing.T) {
	c, err := Parse(Template("hello", []string{".", "./cmd/tool"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Project.Name != "hello" || len(c.Builds) != 2 || c.Builds[1].Main != "./cmd/tool" {
		t.Errorf("parsed %+v", c)
	}
	if got := c.Builds[0].Ldflags; len(got) != len(DefaultLdflags) {
		t.Errorf("default ldflags not applied: %v", got)
	}
	if len(c.Policy.Licenses.Deny) == 0 {
		t.Error("template deny list lost")
	}
	if !c.Tests.Runs() || !c.Tests.WithRace() || !c.Tests.WithShort() || c.Tests.Timeout != DefaultTestTimeout || c.Policy.Tests != Warn {
		t.Errorf("template tests %+v, policy.tests %q", c.Tests, c.Policy.Tests)
	}
	if c.Policy.Mode != Enforce || c.Policy.Vulnerabilities.FailOn != "high" || c.Vulnerabilities.MemoryBudget != "4GiB" || c.StaticAnalysis.Analyzers != "all" {
		t.Errorf("template policy %+v, vulnerabilities %+v", c.Policy, c.Vulnerabilities)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"version: 1\ntargets: [linux/amd64]\nbogus: 3\n", `line 3: unknown field "bogus"`},
		{"version: one\n", "line 1: "},
		{"version: 1\nbuilds:\n  - main: .\n    ldflag: [x]\n", `line 4: unknown field "ldflag"`},
		{"version: 1\ntargets: linux\n", "line 2: "},
		{"version: 2\n", "line 1: version must be 1"},
		{"version: 1\ntargets:\n  - linux/amd64\n  - linux\n", `line 4: targets[1] "linux"`},
		{"version: 1\nbuilds:\n  - binary: x\n", "line 3: builds[0]: main is required"},
		{"version: 1\nbuilds:\n  - main: .\n    env: [CGO_ENABLED]\n", "line 4: builds[0].env[0]"},
		{"version: 1\narchive:\n  format: zip\n", `line 3: archive.format "zip"`},
		{"version: 1\nhardening:\n  glibc-baseline: latest\n", "line 3: hardening.glibc-baseline"},
		{"version: 1\nsigning:\n  co-signers:\n    - certificate: x.pem\n", "line 4: signing.co-signers[0]: key is required"},
		{"", "empty configuration"},
		{"version: 1\npolicy:\n  mode: strict\n", `line 3: policy.mode "strict"`},
		{"version: 1\npolicy:\n  vulnerabilities:\n    fail-on: severe\n", "line 4: policy.vulnerabilities.fail-on"},
		{"version: 1\npolicy:\n  vulnerabilities:\n    ignore:\n      - id: GO-2021-0113\n        expires: 2027-01-01\n", "line 5: policy.vulnerabilities.ignore[0]: a reason is required"},
		{"version: 1\npolicy:\n  vulnerabilities:\n    ignore:\n      - id: GO-2021-0113\n        reason: ok\n", "an expiry date is required"},
		{"version: 1\npolicy:\n  vulnerabilities:\n    ignore:\n      - id: GO-2021-0113\n        reason: ok\n        expires: soon\n", `line 7: policy.vulnerabilities.ignore[0]: expires "soon"`},
		{"version: 1\npolicy:\n  vulnerabilities:\n    ignore:\n      - id: ../etc\n        reason: ok\n        expires: 2027-01-01\n", "is not an OSV"},
		{"version: 1\npolicy:\n  vulnerabilities:\n    database-max-age: forever\n", "line 4: policy.vulnerabilities.database-max-age"},
		{"version: 1\nvulnerabilities:\n  memory-budget: lots\n", "line 3: vulnerabilities.memory-budget"},
		{"version: 1\nstatic-analysis:\n  analyzers: lint\n", `line 3: static-analysis.analyzers "lint"`},
		{"version: 1\ncompliance:\n  frameworks: [iso27001]\n", `line 3: compliance.frameworks: unknown framework "iso27001"`},
		{"version: 1\n\tbad", "line "},
		{"version: 1\ndocuments:\n  - path: ../x.md\n    kind: design\n", "line 3: documents[0].path"},
		{"version: 1\ndocuments:\n  - path: x.md\n    kind: novel\n", `line 4: documents[0].kind "novel"`},
		{"version: 1\ndocuments:\n  - path: a/x.md\n    kind: design\n  - path: b/x.md\n    kind: design\n", "also named x.md"},
		{"version: 1\ndocuments:\n  - path: x.md\n    kind: design\n    controls: [\"ssdf:ZZ.1\"]\n", `line 5: documents[0].controls[0]: nist-ssdf-1.1 has no control "ZZ.1"`},
		{"version: 1\nattestations:\n  - control: 8.4 h\n    statement: x\n", "want FRAMEWORK:CONTROL"},
		{"version: 1\nattestations:\n  - control: \"ssdf:PS.2.1\"\n    statement: x\n", "takes no statement: its vendor part is shown by evidence"},
		{"version: 1\nattestations:\n  - control: \"密评:8.4 h\"\n", "give the statement, or the file"},
		{"version: 1\nattestations:\n  - control: \"密评:8.4 h\"\n    statement: x\n  - control: \"gbt39786-2021-l3:8.4 h\"\n    statement: y\n", "has a statement already"},
		{"version: 1\ntests:\n  packages: [../other/...]\n", `line 3: tests.packages[0] "../other/..."`},
		{"version: 1\ntests:\n  packages: [./a/../../b]\n", "tests.packages[0]"},
		{"version: 1\ntests:\n  packages: [example.com/x]\n", "tests.packages[0]"},
		{"version: 1\ntests:\n  timeout: forever\n", `line 3: tests.timeout "forever"`},
		{"version: 1\ntests:\n  timeout: 1ms\n", "at least a second"},
		{"version: 1\ntests:\n  tags: [\"a b\"]\n", "tests.tags[0]"},
		{"version: 1\ntests:\n  flags: [-exec=/bin/sh]\n", `line 3: tests.flags[0] "-exec=/bin/sh"`},
		{"version: 1\ntests:\n  flags: [-skip, TestNet]\n", `tests.flags[1] "TestNet"`},
		{"version: 1\ntests:\n  flags: [-json]\n", "tests.flags[0]"},
		{"version: 1\npolicy:\n  tests: maybe\n", `line 3: policy.tests "maybe"`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml))
		if err == nil {
			t.Errorf("%q parsed", c.yaml)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q, want %q", c.yaml, err, c.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines: %q", c.yaml, err)
		}
	}
}

// FuzzParse: configuration files may be written by anyone.
func FuzzParse(f *testing.F) {
	f.Add(Template("x", []string{"."}))
	f.Add([]byte("version: 1\nbuilds: [{main: .}]\n"))
	f.Add([]byte(aliasBomb()))
	f.Add([]byte(nestedMappings(MaxYAMLDepth + 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err == nil && (c.Version != SchemaVersion || len(c.Targets) == 0) {
			t.Fatalf("accepted %q as %+v", data, c)
		}
	})
}

func TestLoadResolvesPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hegui.yaml")
	os.WriteFile(path, []byte("version: 1\nsigning:\n  key: keys/release.key\n  certificate: /etc/release.pem\n  co-signers:\n    - key: keyring:ci\n    - key: \"pkcs11:token=t;object=o\"\n      password-file: ci.pass\n"), 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Signing
	if s.Key != filepath.Join(dir, "keys/release.key") || s.Certificate != "/etc/release.pem" ||
		s.CoSigners[0].Key != "keyring:ci" || s.CoSigners[1].Key != "pkcs11:token=t;object=o" || s.CoSigners[1].PasswordFile != filepath.Join(dir, "ci.pass") {
		t.Errorf("signing %+v", s)
	}
}

func TestParseAgeAndBytes(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "1.5d": 36 * time.Hour} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0d", "-1d", "d", "forever", "10"} {
		if _, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
	for in, want := range map[string]int64{"4GiB": 4 << 30, "512MiB": 512 << 20, "1G": 1 << 30, "2.5GB": 2_500_000_000, "1000": 1000} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1GiB", "0", "GiB"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) accepted", bad)
		}
	}
	rule := VulnIgnore{Expires: "2027-01-31"}
	if !rule.ExpiresAt().After(time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC)) || rule.ExpiresAt().After(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ExpiresAt = %v, want the end of 2027-01-31", rule.ExpiresAt())
	}
}
