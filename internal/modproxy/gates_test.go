package modproxy_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/vulndb"
)

// TestVulnerabilityGate refuses a version the Go vulnerability database
// (the repository's copy, imported as hegui vulndb import does) says is
// affected, names the fix, still serves its go.mod, and serves it once the
// risk is accepted; the go command prints the refusal.
func TestVulnerabilityGate(t *testing.T) {
	up := upstream(t)
	db := filepath.Join(t.TempDir(), "vulndb")
	if _, err := vulndb.Import(context.Background(), "../../testdata/govulndb/osv.tar.gz", db, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	gate := func(accept ...string) *modproxy.Policy {
		g := &modproxy.VulnGate{Dir: db, Accept: accept}
		if err := g.Open(); err != nil {
			t.Fatal(err)
		}
		return &modproxy.Policy{Vulns: g}
	}
	p := startProxy(t, "", modproxy.Options{Upstream: up, Policy: gate()})
	code, body := get(t, p.URL+"/golang.org/x/text/@v/v0.3.0.zip")
	t.Logf("%d %s", code, body)
	if code != http.StatusForbidden || !strings.Contains(body, "GO-2020-0015") || !strings.Contains(body, "upgrade: go get golang.org/x/text@v") {
		t.Errorf("vulnerable zip: %d %s", code, body)
	}
	if code, _ := get(t, p.URL+"/golang.org/x/text/@v/v0.3.0.mod"); code != http.StatusOK {
		t.Errorf("go.mod of a vulnerable version: %d, want 200", code)
	}
	if code, body := get(t, p.URL+"/github.com/google/uuid/@v/v1.6.0.zip"); code != http.StatusOK {
		t.Errorf("a version with no known vulnerability: %d %s", code, body)
	}
	out := runGo(t, writeModule(t, map[string]string{"go.mod": "module example.com/m\n"}), goEnv(t, p.URL), true, "mod", "download", "golang.org/x/text@v0.3.0")
	if !strings.Contains(out, "GO-2020-0015") {
		t.Errorf("the go command does not show the refusal:\n%s", out)
	}
	// The same store, every risk accepted, one by an alias.
	found := strings.Fields(strings.NewReplacer(",", " ", ";", " ").Replace(body[strings.Index(body, "affected by")+len("affected by") : strings.Index(body, "; upgrade")]))
	for i, id := range found {
		if id == "GO-2020-0015" {
			found[i] = "CVE-2020-14040"
		}
	}
	if len(found) < 2 {
		t.Fatalf("affected by %q", found)
	}
	partly := startProxy(t, p.Store.Root(), modproxy.Options{Upstream: up, Policy: gate(found[1:]...)})
	if code, body := get(t, partly.URL+"/golang.org/x/text/@v/v0.3.0.zip"); code != http.StatusForbidden || strings.Contains(body, found[1]) {
		t.Errorf("one risk not accepted: %d %s", code, body)
	}
	accepted := startProxy(t, p.Store.Root(), modproxy.Options{Upstream: up, Policy: gate(found...)})
	if code, body := get(t, accepted.URL+"/golang.org/x/text/@v/v0.3.0.zip"); code != http.StatusOK {
		t.Errorf("accepted risk: %d %s", code, body)
	}
}

// TestLicenseGate admits and refuses a module (github.com/google/uuid,
// BSD-3-Clause) by its licence, found in its zip as hegui deliver finds it.
func TestLicenseGate(t *testing.T) {
	up := upstream(t)
	store := t.TempDir()
	for _, c := range []struct {
		allow, deny []string
		want        int
		text        string
	}{
		{allow: []string{"MIT", "Apache-2.0"}, want: http.StatusForbidden, text: "BSD-3-Clause, which is not on the allow list"},
		{allow: []string{"MIT", "BSD-3-Clause"}, want: http.StatusOK},
		{deny: []string{"BSD-3-Clause"}, want: http.StatusForbidden, text: "which the policy denies"},
	} {
		p := startProxy(t, store, modproxy.Options{Upstream: up, Policy: &modproxy.Policy{Licenses: &modproxy.LicenseGate{Allow: c.allow, Deny: c.deny}}})
		code, body := get(t, p.URL+"/github.com/google/uuid/@v/v1.6.0.zip")
		if code != c.want || !strings.Contains(body, c.text) {
			t.Errorf("allow %v deny %v: %d %s", c.allow, c.deny, code, body)
		}
		if c.want == http.StatusForbidden && !strings.Contains(body, "proxy.yaml") {
			t.Errorf("the refusal does not say where to change the policy: %s", body)
		}
	}
}

// TestGatesConfig reads the gates from proxy.yaml's policy section and
// refuses settings that cannot work.
func TestGatesConfig(t *testing.T) {
	getenv := func(string) string { return "" }
	for yaml, want := range map[string]string{
		"policy:\n  licenses:\n    allow: [MIT, Not-A-Licence]\n":                   "Not-A-Licence",
		"policy:\n  vulnerabilities:\n    refuse: true\n    database: no-such-db\n": "hegui vulndb update",
		"policy:\n  vulnerabilities:\n    refuse: yes-please\n":                     "",
	} {
		c, err := modproxy.ParseConfig([]byte(yaml))
		if err == nil {
			_, err = c.CompilePolicy(t.TempDir(), getenv)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error about %q", yaml, err, want)
		}
	}
	c, err := modproxy.ParseConfig([]byte("policy:\n  licenses:\n    allow: [MIT, BSD-3-Clause]\n    deny: [AGPL-3.0-only]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CompilePolicy(t.TempDir(), getenv)
	if err != nil || p == nil || p.Licenses == nil || len(p.Licenses.Allow) != 2 || p.Vulns != nil {
		t.Errorf("CompilePolicy = %+v, %v", p, err)
	}
}
