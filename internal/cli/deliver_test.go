package cli

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/delivercmd"
	"hegui.dev/hegui/internal/deliver/bundle"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/schematest"
	"hegui.dev/hegui/keys"
)

// releaseConfig configures the fixture for a signed release: two targets,
// an SM2 key with its certificate chain, an ECDSA co-signer, an archive.
func releaseConfig(s signingFiles, extra string) string {
	return `version: 1
project:
  name: app
builds:
  - main: .
targets: [linux/amd64, linux/arm64]
signing:
  key: ` + s.signerKey + `
  certificate: ` + s.signerChain + `
  co-signers:
    - key: ` + s.ecKey + `
archive:
  format: tar.gz
image:
  enabled: true
  ca-certificates: none
` + extra
}

// releaseEvidence is what the release carries besides its artefacts: a
// security policy and a signed vendor statement.
const releaseEvidence = `documents:
  - path: SECURITY.md
    kind: security-policy
    controls: ["ssdf:RV.1.3"]
attestations:
  - control: "密评:8.4 h"
    file: docs/statements/non-repudiation.md
`

type deliveryRun struct {
	r      *runner
	f      *fixture
	s      signingFiles
	dir    string // the delivery
	report format.Report
}

// deliverRelease tags the fixture v1.2.3 and delivers it.
func deliverRelease(t *testing.T) *deliveryRun {
	t.Helper()
	r := newRunner(t)
	f := newFixture(t)
	s := makeSigning(t, r.dir)
	f.write("hegui.yaml", releaseConfig(s, releaseEvidence))
	f.write("SECURITY.md", "Report vulnerabilities to security@example.com; we answer within 3 days.\n")
	f.write("docs/statements/non-repudiation.md", "app handles no data for which legal liability may be at stake, so it signs no business records.\n")
	f.git("add", "hegui.yaml", "SECURITY.md", "docs")
	f.commit("configure hegui")
	f.git("tag", "v1.2.3")
	out := r.ok("deliver", f.dir, "--json")
	var res delivercmd.Result
	if err := json.Unmarshal([]byte(out.stdout), &res); err != nil {
		t.Fatalf("deliver --json: %v\n%s", err, out.stdout)
	}
	d := &deliveryRun{r: r, f: f, s: s, dir: res.Directory}
	if res.Version != "v1.2.3" || res.DevelopmentKey || filepath.Base(res.Directory) != "app_v1.2.3" {
		t.Fatalf("result %+v", res)
	}
	data, err := os.ReadFile(filepath.Join(d.dir, format.ReportJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &d.report); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeliverRelease(t *testing.T) {
	d := deliverRelease(t)
	rep := d.report
	if !rep.Verdict.Passed || rep.Version.Tag != "v1.2.3" || rep.Version.Dirty || len(rep.Binaries) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, b := range rep.Binaries {
		if b.Reproducible == nil || b.Reproducible.Status != "identical" {
			t.Errorf("%s: reproducibility %+v", b.Path, b.Reproducible)
		}
		for _, c := range b.Hardening.Checks {
			if c.Status == "fail" {
				t.Errorf("%s: hardening check %s failed: %s", b.Path, c.Name, c.Detail)
			}
		}
		// The SBOMs list exactly the modules `go version -m` reports.
		want := goVersionModules(t, filepath.Join(d.dir, b.Path))
		for _, doc := range b.SBOMs {
			data, _ := os.ReadFile(filepath.Join(d.dir, doc))
			if strings.HasSuffix(doc, ".spdx.json") {
				schematest.SPDX(t, doc, data)
			} else {
				schematest.CycloneDX(t, doc, data)
			}
			got := sbomModules(t, doc, data)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s lists %v, go version -m %v", doc, got, want)
			}
		}
	}
	lic := map[string]string{}
	notices := map[string][]string{}
	for _, l := range rep.Licenses.Modules {
		lic[l.Module] = l.Concluded
		notices[l.Module] = l.Notices
		if l.Module == "fixture.example/app" && l.Version != "v1.2.3" {
			t.Errorf("the main module's licence entry has version %q, want the delivery's v1.2.3", l.Version)
		}
		if l.Version == "" {
			t.Errorf("licence entry of %s has no version", l.Module)
		}
	}
	for mod, want := range map[string]string{
		"github.com/davecgh/go-spew": "ISC", // not 0BSD
		"golang.org/x/text":          "BSD-3-Clause",
		"fixture.example/lib":        "MIT",
		"stdlib":                     "BSD-3-Clause",
	} {
		if lic[mod] != want {
			t.Errorf("licence of %s: %q, want %s", mod, lic[mod], want)
		}
	}
	if len(notices["fixture.example/lib"]) != 1 || len(notices["golang.org/x/text"]) != 1 {
		t.Errorf("notices %v", notices)
	}

	// SHA256SUMS is checkable with coreutils.
	cmd := exec.Command("sha256sum", "--quiet", "-c", "SHA256SUMS")
	cmd.Dir = d.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
	// The archive holds the delivery.
	if _, err := os.Stat(d.dir + ".tar.gz"); err != nil {
		t.Error(err)
	}
	// The ECDSA co-signer's bundles carry valid signatures over the binaries.
	if len(rep.Bundles) != 2 {
		t.Fatalf("bundles %v", rep.Bundles)
	}
	pubData, _ := os.ReadFile(d.s.ecPub)
	pub, _ := keys.ParsePublicKey(pubData)
	for _, b := range rep.Bundles {
		data, _ := os.ReadFile(filepath.Join(d.dir, b))
		digest, sig, _, err := bundle.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := hex.DecodeString(digest)
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), raw, sig) {
			t.Errorf("%s: signature does not verify", b)
		}
	}

	// The security policy and the signed statement are in the delivery and
	// in the matrix: RV.1.3 evidenced by the document, 密评 8.4 h attested.
	if len(rep.Documents) != 1 || rep.Documents[0].File != "documents/SECURITY.md" || len(rep.Attestations) != 1 {
		t.Errorf("documents %+v, attestations %+v", rep.Documents, rep.Attestations)
	}
	for _, c := range []struct {
		fw, id string
		want   format.ControlStatus
	}{{"nist-ssdf-1.1", "RV.1.3", format.Evidenced}, {"gbt39786-2021-l3", "8.4 h", format.Attested}} {
		for _, f := range rep.Compliance {
			for _, o := range f.Controls {
				if f.ID == c.fw && o.ID == c.id && o.Vendor.Status != c.want {
					t.Errorf("%s %s: vendor part %s, want %s", c.fw, c.id, o.Vendor.Status, c.want)
				}
			}
		}
	}

	// hegui verify passes with the trust root, with the public key, and
	// after a rebuild from the source; it checks the compliance matrix's
	// and the vendor statement's signatures.
	out := d.r.ok("verify", d.dir, "--trust-root", d.s.root)
	if !strings.Contains(out.stdout, "Verified: every check holds.") || !strings.Contains(out.stdout, "Fixture Release Signing") ||
		!strings.Contains(out.stdout, "2 signed by a trusted key, about the binaries (attestations/gbt39786-2021-l3_8.4_h.intoto.jsonl, compliance.intoto.jsonl)") ||
		!strings.Contains(out.stdout, "runs the delivery's binary on linux/amd64, linux/arm64 as user 65532:65532; 6 attachments are the delivery's files") {
		t.Errorf("verify:\n%s", out.stdout)
	}
	d.r.ok("verify", d.dir, "--pub", d.s.ecPub)
	if out := d.r.ok("verify", d.dir, "--pub", d.s.ecPub, "-q"); out.stdout+out.stderr != "" {
		t.Errorf("verify -q of a good delivery printed %q", out.stdout+out.stderr)
	}
	out = d.r.ok("verify", d.dir, "--trust-root", d.s.root, "--source", d.f.dir, "--rebuild", "--json")
	var res struct {
		Passed bool
		Checks []struct{ Name string }
	}
	json.Unmarshal([]byte(out.stdout), &res)
	if !res.Passed || len(res.Checks) != 9 || res.Checks[7].Name != "image" || res.Checks[8].Name != "rebuild" {
		t.Errorf("verify --rebuild --json: %s", out.stdout)
	}
	// Against another root, or another key, it fails.
	other := makeSigning(t, t.TempDir())
	d.r.verifyFails(d.dir, []string{"signature"}, "--trust-root", other.root)
	d.r.verifyFails(d.dir, []string{"signature"}, "--pub", other.ecPub)
}

// goVersionModules lists "path@version" of the dependencies `go version -m`
// reports for a binary (replacements by their replacement's version).
func goVersionModules(t *testing.T, bin string) []string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "dep" {
			continue
		}
		version := f[2]
		if i+1 < len(lines) {
			if r := strings.Fields(lines[i+1]); len(r) >= 2 && r[0] == "=>" {
				version = "(devel)"
				if len(r) >= 3 && r[2] != "(devel)" {
					version = r[2]
				}
			}
		}
		mods = append(mods, f[1]+"@"+version)
	}
	sort.Strings(mods)
	return mods
}

// sbomModules lists "path@version" of the library components of an SBOM.
func sbomModules(t *testing.T, name string, data []byte) []string {
	t.Helper()
	var mods []string
	if strings.HasSuffix(name, ".spdx.json") {
		var doc struct {
			Packages []struct {
				Name, VersionInfo, PrimaryPackagePurpose string
			}
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range doc.Packages {
			if p.PrimaryPackagePurpose == "LIBRARY" && p.Name != "stdlib" {
				mods = append(mods, p.Name+"@"+p.VersionInfo)
			}
		}
	} else {
		var bom struct {
			Components []struct{ Name, Version string }
		}
		if err := json.Unmarshal(data, &bom); err != nil {
			t.Fatal(err)
		}
		for _, c := range bom.Components {
			if c.Name != "stdlib" {
				mods = append(mods, c.Name+"@"+c.Version)
			}
		}
	}
	sort.Strings(mods)
	return mods
}

// TestVerifyDetectsTampering changes, removes or adds one file, or swaps a
// signature or a certificate, and checks that verification fails naming it.
func TestVerifyDetectsTampering(t *testing.T) {
	d := deliverRelease(t)
	// A second, independently signed delivery to take signatures from.
	d2 := deliverRelease(t)

	cases := []struct {
		name   string
		tamper func(dir string)
		want   []string
	}{
		{"change a binary", func(dir string) { appendTo(t, filepath.Join(dir, "bin/linux_amd64/app"), "x") }, []string{"files", "bin/linux_amd64/app"}},
		{"change the report", func(dir string) { appendTo(t, filepath.Join(dir, "report.html"), "<!-- -->") }, []string{"files", "report.html"}},
		{"change an SBOM", func(dir string) { appendTo(t, filepath.Join(dir, "sbom/app_linux_arm64.spdx.json"), " ") }, []string{"files", "app_linux_arm64.spdx.json"}},
		{"remove a file", func(dir string) { os.Remove(filepath.Join(dir, "SM3SUMS")) }, []string{"files", "SM3SUMS"}},
		{"add a file", func(dir string) { os.WriteFile(filepath.Join(dir, "bin/linux_amd64/extra"), []byte("x"), 0o755) }, []string{"files", "bin/linux_amd64/extra"}},
		{"change the manifest", func(dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
			os.WriteFile(filepath.Join(dir, "manifest.json"), bytes.Replace(data, []byte("v1.2.3"), []byte("v1.2.4"), 1), 0o644)
		}, []string{"manifest"}},
		{"swap the manifest signature", func(dir string) {
			copyFrom(t, filepath.Join(d2.dir, "manifest.dsse.json"), filepath.Join(dir, "manifest.dsse.json"))
		}, []string{"manifest"}},
		{"swap manifest and signature together", func(dir string) {
			copyFrom(t, filepath.Join(d2.dir, "manifest.dsse.json"), filepath.Join(dir, "manifest.dsse.json"))
			copyFrom(t, filepath.Join(d2.dir, "manifest.json"), filepath.Join(dir, "manifest.json"))
		}, []string{"signature"}},
		{"swap the provenance", func(dir string) {
			copyFrom(t, filepath.Join(d2.dir, "provenance.intoto.jsonl"), filepath.Join(dir, "provenance.intoto.jsonl"))
		}, []string{"provenance.intoto.jsonl"}},
		{"swap the certificate", func(dir string) {
			chains, _ := filepath.Glob(filepath.Join(dir, "signers", "*.chain.pem"))
			other, _ := filepath.Glob(filepath.Join(d2.dir, "signers", "*.chain.pem"))
			copyFrom(t, other[0], chains[0])
		}, []string{"signature", "certificate"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "delivery")
			if err := os.CopyFS(dir, os.DirFS(d.dir)); err != nil {
				t.Fatal(err)
			}
			c.tamper(dir)
			d.r.t = t
			d.r.verifyFails(dir, c.want, "--trust-root", d.s.root)
		})
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

func copyFrom(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// verifyFails runs hegui verify on dir and expects it to fail, with the
// checklist or the error naming every fragment.
func (r *runner) verifyFails(dir string, want []string, args ...string) {
	r.t.Helper()
	res := r.run(append([]string{"verify", dir}, args...)...)
	if res.code != 1 {
		r.t.Errorf("verify %s: exit %d, want 1\n%s%s", dir, res.code, res.stdout, res.stderr)
	}
	all := res.stdout + res.stderr
	for _, w := range want {
		if !strings.Contains(all, w) {
			r.t.Errorf("verify output does not mention %q:\n%s", w, all)
		}
	}
}
