package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/delivercmd"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
)

// oneTarget keeps the delivery tests that are not about targets quick.
const oneTarget = "version: 1\ntargets: [linux/amd64]\n"

func TestDeliverVersioning(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	f.write("hegui.yaml", oneTarget)
	f.git("add", "hegui.yaml")
	f.commit("config")
	out := r.path("out")

	r.fails(1, []string{"no release tag", "--snapshot"}, "deliver", f.dir, "--output", out)
	f.write("main.go", strings.Replace(readFile(t, filepath.Join(f.dir, "main.go")), "dev", "dev2", 1))
	r.fails(1, []string{"uncommitted changes (M main.go)", "--snapshot"}, "deliver", f.dir, "--output", out)

	var res delivercmd.Result
	json.Unmarshal([]byte(r.ok("deliver", f.dir, "--output", out, "--snapshot", "--json").stdout), &res)
	if !strings.HasPrefix(res.Version, "v0.0.0-20261101080000-") || !strings.HasSuffix(res.Version, "+dirty") || !res.DevelopmentKey {
		t.Errorf("snapshot result %+v", res)
	}
	r.fails(1, []string{"already exists", "--force"}, "deliver", f.dir, "--output", out, "--snapshot")
	r.ok("deliver", f.dir, "--output", out, "--snapshot", "--force")

	// A tag on a clean tree is a release.
	f.git("checkout", "--", "main.go")
	f.git("tag", "v0.9.0")
	json.Unmarshal([]byte(r.ok("deliver", f.dir, "--output", out, "--json").stdout), &res)
	if res.Version != "v0.9.0" {
		t.Errorf("release version %q", res.Version)
	}
}

// TestDeliverOutputKeepsTheTreeClean: with the default output (dist/ in
// the module) and nothing in .gitignore about it, one delivery must not
// make the next tagged one fail as "uncommitted changes".
func TestDeliverOutputKeepsTheTreeClean(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	f.git("rm", "-q", ".gitignore")
	f.write("hegui.yaml", oneTarget+"reproducibility:\n  check: false\n")
	f.git("add", "hegui.yaml")
	f.commit("no .gitignore")
	f.git("tag", "v1.0.0")
	first := r.ok("deliver", f.dir)
	if !strings.Contains(first.stderr, ".gitignore of its own") {
		t.Errorf("the first delivery does not say it keeps dist/ ignored:\n%s", first.stderr)
	}
	if status := f.git("status", "--porcelain"); strings.TrimSpace(status) != "" {
		t.Errorf("the work tree is dirty after a delivery:\n%s", status)
	}
	f.git("commit", "-q", "--allow-empty", "-m", "next")
	f.git("tag", "v1.0.1")
	r.ok("deliver", f.dir)

	// Other changes are named.
	f.write("notes.txt", "x")
	f.git("add", "notes.txt")
	f.commit("after")
	f.write("notes.txt", "y")
	f.git("tag", "v1.0.2")
	r.fails(1, []string{"uncommitted changes (M notes.txt)"}, "deliver", f.dir)
}

func TestDeliverDefaultsUseDevelopmentKey(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	// No hegui.yaml at all: default targets would cost three builds here,
	// so the test passes the one-target setting through --config instead
	// of committing a configuration.
	cfg := r.write("one-target.yaml", []byte(oneTarget))
	res := r.run("deliver", f.dir, "--snapshot", "--config", cfg, "--output", r.path("out"), "--json")
	if res.code != 0 {
		t.Fatalf("deliver: %s", res.stderr)
	}
	if !strings.Contains(res.stderr, "DEVELOPMENT KEY") {
		t.Errorf("no loud warning about the development key:\n%s", res.stderr)
	}
	var dr delivercmd.Result
	json.Unmarshal([]byte(res.stdout), &dr)
	// The hint never points at the key inside the delivery: a forgery
	// re-signed with another key carries that key too.
	text := r.ok("deliver", f.dir, "--snapshot", "--config", cfg, "--output", r.path("out-text"))
	if !strings.Contains(text.stdout, "verify:  hegui verify") || strings.Contains(text.stdout, "signers/") {
		t.Errorf("verify hint:\n%s", text.stdout)
	}
	var rep format.Report
	json.Unmarshal([]byte(readFile(t, filepath.Join(dr.Directory, "report.json"))), &rep)
	if !rep.Development || rep.Signers[0].Algorithm != "sm2" {
		t.Errorf("report: development %v, signers %+v", rep.Development, rep.Signers)
	}
	html := readFile(t, filepath.Join(dr.Directory, "report.html"))
	if !strings.Contains(html, `id="development-key"`) {
		t.Error("report.html does not flag the development key")
	}
	pubs, _ := filepath.Glob(filepath.Join(r.env["HEGUI_KEYRING"], "*.pub"))
	if len(pubs) != 1 {
		t.Fatalf("keyring public keys %v", pubs)
	}
	out := r.ok("verify", dr.Directory, "--pub", pubs[0])
	if !strings.Contains(out.stdout, "development key") {
		t.Errorf("verify does not mention the development key:\n%s", out.stdout)
	}
	// The default set of targets is the 信创 one.
	if rep.Binaries[0].Target.String() != "linux/amd64" {
		t.Errorf("target %s", rep.Binaries[0].Target)
	}
}

func TestDeliverLicensePolicy(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	f.write("hegui.yaml", oneTarget+"policy:\n  licenses:\n    deny: [ISC]\n")
	f.git("add", "hegui.yaml")
	f.commit("deny ISC")
	out := r.path("out")
	msg := r.fails(1, []string{"breaks its policy", "github.com/davecgh/go-spew@v1.1.1", "ISC", "policy.licenses.deny"}, "deliver", f.dir, "--snapshot", "--output", out)
	if strings.Contains(msg, "golang.org/x/text") {
		t.Errorf("x/text (BSD-3-Clause) reported: %s", msg)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed delivery left %v", entries)
	}

	// An allow list that forgets BSD-3-Clause fails on x/text and the
	// standard library; --keep-failed keeps the report to look at.
	f.write("hegui.yaml", oneTarget+"policy:\n  licenses:\n    allow: [ISC, MIT]\n")
	f.git("commit", "-q", "-am", "allow list")
	res := r.run("deliver", f.dir, "--snapshot", "--output", out, "--keep-failed")
	if res.code != 1 || !strings.Contains(res.stderr, "golang.org/x/text") || !strings.Contains(res.stderr, "stdlib") {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	kept := ""
	for _, line := range strings.Split(res.stderr, "\n") {
		if _, dir, ok := strings.Cut(line, "kept for inspection in "); ok {
			kept = strings.TrimSpace(dir)
		}
	}
	if kept == "" {
		t.Fatalf("no kept directory named:\n%s", res.stderr)
	}
	defer os.RemoveAll(kept)
	var rep format.Report
	json.Unmarshal([]byte(readFile(t, filepath.Join(kept, "report.json"))), &rep)
	if rep.Verdict.Passed || len(rep.Verdict.Violations) != 2 || strings.Contains(res.stderr, "fixture.example/app") {
		t.Errorf("kept report verdict %+v", rep.Verdict)
	}
}

func TestDeliverConfigErrors(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	f.write("hegui.yaml", "version: 1\ntargets: [linux/amd64]\nsigning:\n  kee: x.pem\n")
	r.fails(1, []string{"hegui.yaml", "line 4", `unknown field "kee"`}, "deliver", f.dir, "--snapshot")
	f.write("hegui.yaml", "version: 1\ntargets: [linux/amd64, linux/z80]\n")
	r.fails(1, []string{"target linux/z80", "cannot build for linux/z80"}, "deliver", f.dir, "--snapshot")
	r.fails(1, []string{"does not exist"}, "deliver", filepath.Join(f.dir, "missing"), "--snapshot")
	f.write("hegui.yaml", oneTarget+"signing:\n  key: "+r.path("missing.key")+"\n")
	r.fails(1, []string{"signing key", "missing.key"}, "deliver", f.dir, "--snapshot", "--output", r.path("out"))
	f.write("hegui.yaml", "version: 1\ntargets: [plan9/mips64x]\n")
	r.fails(1, []string{"build", "plan9/mips64x"}, "deliver", f.dir, "--snapshot", "--output", r.path("out"))
}

func TestDeliverVendoredModule(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	f.write("hegui.yaml", oneTarget)
	f.goCmd("mod", "vendor")
	f.git("add", ".")
	f.commit("vendor")
	var res delivercmd.Result
	json.Unmarshal([]byte(r.ok("deliver", f.dir, "--snapshot", "--output", r.path("out"), "--json").stdout), &res)
	var rep format.Report
	json.Unmarshal([]byte(readFile(t, filepath.Join(res.Directory, "report.json"))), &rep)
	sources := map[string]string{}
	for _, l := range rep.Licenses.Modules {
		sources[l.Module] = l.Source + " " + l.Concluded
	}
	if sources["github.com/davecgh/go-spew"] != "vendor ISC" || sources["golang.org/x/text"] != "vendor BSD-3-Clause" {
		t.Errorf("licence sources %v", sources)
	}
	b := rep.Binaries[0]
	if b.Reproducible.Status != "identical" {
		t.Errorf("reproducibility %+v", b.Reproducible)
	}
	spdx := readFile(t, filepath.Join(res.Directory, b.SBOMs[0]))
	if !strings.Contains(spdx, `"name": "github.com/davecgh/go-spew"`) || !strings.Contains(spdx, `"versionInfo": "v1.1.1"`) {
		t.Error("vendored module missing from the SBOM")
	}
	r.ok("verify", res.Directory, "--pub", mustGlob(t, filepath.Join(r.env["HEGUI_KEYRING"], "*.pub")))
}

func TestDeliverWorkspace(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	// Turn the local replacement into a workspace module: the workspace
	// provides it, so go.mod neither requires nor replaces it.
	gomod := readFile(t, filepath.Join(f.dir, "go.mod"))
	gomod = strings.Replace(gomod, "replace fixture.example/lib => ./lib\n", "", 1)
	gomod = strings.Replace(gomod, "\tfixture.example/lib v0.0.0\n", "", 1)
	f.write("go.mod", gomod)
	f.write("go.work", "go 1.26.0\n\nuse (\n\t.\n\t./lib\n)\n")
	f.write("hegui.yaml", oneTarget)
	f.git("add", ".")
	f.commit("workspace")
	var res delivercmd.Result
	json.Unmarshal([]byte(r.ok("deliver", f.dir, "--snapshot", "--output", r.path("out"), "--json").stdout), &res)
	var rep format.Report
	json.Unmarshal([]byte(readFile(t, filepath.Join(res.Directory, "report.json"))), &rep)
	found := false
	for _, l := range rep.Licenses.Modules {
		if l.Module == "fixture.example/lib" {
			found = l.Concluded == "MIT"
		}
	}
	if !found {
		t.Errorf("workspace module licence missing: %+v", rep.Licenses.Modules)
	}
	for _, c := range rep.Binaries[0].Hardening.Checks {
		if c.Name == "build-info" && c.Status != "pass" {
			t.Errorf("build-info check: %s", c.Detail)
		}
	}
	r.ok("verify", res.Directory, "--pub", mustGlob(t, filepath.Join(r.env["HEGUI_KEYRING"], "*.pub")))
}

func TestInit(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	out := r.ok("init", f.dir)
	if !strings.Contains(out.stderr, "hegui.yaml (1 build(s): .)") {
		t.Errorf("init: %s", out.stderr)
	}
	if out := r.ok("init", f.dir, "--force", "-q"); out.stdout+out.stderr != "" {
		t.Errorf("init -q printed %q", out.stdout+out.stderr)
	}
	text := readFile(t, filepath.Join(f.dir, "hegui.yaml"))
	if !strings.Contains(text, "name: app") || !strings.Contains(text, "- main: .") || !strings.Contains(text, "linux/loong64") {
		t.Errorf("hegui.yaml:\n%s", text)
	}
	golden.Check(t, "init-hegui.yaml.golden", []byte(text))
	r.fails(1, []string{"already exists", "--force"}, "init", f.dir)
	r.ok("init", f.dir, "--force")

	// A library has nothing to deliver: init says so and writes nothing.
	lib := filepath.Join(f.dir, "lib")
	r.fails(1, []string{"fixture.example/lib has no main package"}, "init", lib)
	if _, err := os.Stat(filepath.Join(lib, "hegui.yaml")); err == nil {
		t.Error("init wrote a hegui.yaml for a library")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mustGlob(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		t.Fatalf("%s matches %v", pattern, m)
	}
	return m[0]
}

// TestDeliverOutsideGit: a module outside any repository is delivered only
// as a snapshot, dated by SOURCE_DATE_EPOCH, and says so.
func TestDeliverOutsideGit(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.CopyFS(plain, os.DirFS(f.dir)); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(plain, ".git"))
	os.WriteFile(filepath.Join(plain, "hegui.yaml"), []byte(oneTarget), 0o644)
	r.fails(1, []string{"not in a git repository", "--snapshot"}, "deliver", plain)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	res := r.run("deliver", plain, "--snapshot", "--output", r.path("out"), "--json")
	if res.code != 0 || !strings.Contains(res.stderr, "not in a git repository") {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	var dr delivercmd.Result
	json.Unmarshal([]byte(res.stdout), &dr)
	var rep format.Report
	json.Unmarshal([]byte(readFile(t, filepath.Join(dr.Directory, "report.json"))), &rep)
	if rep.Version.Version != "v0.0.0-snapshot" || rep.Version.VCS || rep.Version.CommitTime.Unix() != 1700000000 {
		t.Errorf("version %+v", rep.Version)
	}
	if b := rep.Binaries[0]; b.Reproducible.Status != "identical" {
		t.Errorf("reproducibility %+v", b.Reproducible)
	}
}

// TestDeliverTests: a failing test of the module is, under the default
// policy, a warning naming it: the delivery is published with tests.json,
// listed in the manifest and verified, and the report's tests section and
// the security-tests rule say what failed. With policy.tests: fail the
// delivery fails, naming the test and what went wrong.
func TestDeliverTests(t *testing.T) {
	r := newRunner(t)
	f := newFixture(t)
	f.write("main_test.go", "package main\n\nimport \"testing\"\n\nfunc TestGreeting(t *testing.T) {}\n\nfunc TestBroken(t *testing.T) { t.Error(\"the greeting is not English\") }\n")
	f.write("hegui.yaml", oneTarget+"reproducibility:\n  check: false\n")
	f.git("add", ".")
	f.commit("tests")
	out := r.path("out")
	res := r.run("deliver", f.dir, "--snapshot", "--output", out, "--json")
	if res.code != 0 || !strings.Contains(res.stderr, "1 failing test(s) (TestBroken in fixture.example/app)") {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	var del delivercmd.Result
	if err := json.Unmarshal([]byte(res.stdout), &del); err != nil {
		t.Fatal(err)
	}
	var rep format.Report
	json.Unmarshal([]byte(readFile(t, filepath.Join(del.Directory, format.ReportJSONFile))), &rep)
	run := rep.Tests.Run
	if rep.Tests.Status != format.TestsRan || run == nil || run.Totals.Tests != 2 || run.Totals.Failed != 1 || len(run.Packages) != 1 ||
		run.Packages[0].Failures[0].Test != "TestBroken" || rep.Policy.Tests != "warn" {
		t.Fatalf("tests section %+v", rep.Tests)
	}
	if !strings.Contains(readFile(t, filepath.Join(del.Directory, format.ManifestFile)), `"path": "tests.json"`) {
		t.Error("tests.json is not in the manifest")
	}
	found := false
	for _, fw := range rep.Compliance {
		for _, c := range fw.Controls {
			for _, rule := range c.Vendor.Rules {
				if rule.Rule == "security-tests" {
					found = true
					if rule.Status != format.Gap || !strings.Contains(rule.Detail.EN, "1 of 2 tests failed") {
						t.Errorf("%s %s: security-tests %+v", fw.ID, c.ID, rule)
					}
				}
			}
		}
	}
	if !found {
		t.Error("no control cites security-tests")
	}
	pub := mustGlob(t, filepath.Join(r.env["HEGUI_KEYRING"], "*.pub"))
	r.ok("verify", del.Directory, "--pub", pub)

	f.write("hegui.yaml", oneTarget+"reproducibility:\n  check: false\npolicy:\n  tests: fail\n")
	f.git("commit", "-q", "-am", "fail on failing tests")
	r.fails(1, []string{"breaks its policy", "policy.tests", "TestBroken failed in fixture.example/app: main_test.go:7: the greeting is not English"}, "deliver", f.dir, "--snapshot", "--output", out)
}
