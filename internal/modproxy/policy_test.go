package modproxy_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/modlist"
	"hegui.dev/hegui/internal/modproxy"
)

// TestPolicyThroughGoCommand refuses by deny rule and by release age, and
// checks what the go command prints and what the list leaves out.
func TestPolicyThroughGoCommand(t *testing.T) {
	up := upstream(t)
	policy := &modproxy.Policy{
		Deny: []modproxy.Rule{{Module: "github.com/google/uuid", Versions: "<v1.6.0", Reason: "CVE-0000-0000 in this test"}},
	}
	if err := policy.Compile(); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, "", modproxy.Options{Upstream: up, Policy: policy})
	app := writeModule(t, map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n"})
	env := goEnv(t, p.URL)
	out := runGo(t, app, env, true, "get", "github.com/google/uuid@v1.5.0")
	for _, want := range []string{"403 Forbidden", "hegui proxy refused (deny)", `deny rule "github.com/google/uuid <v1.6.0"`, "CVE-0000-0000 in this test"} {
		if !strings.Contains(out, want) {
			t.Errorf("go get of a denied version: want %q in\n%s", want, out)
		}
	}
	out = runGo(t, app, env, false, "list", "-m", "-versions", "github.com/google/uuid")
	if strings.TrimSpace(out) != "github.com/google/uuid v1.6.0" {
		t.Errorf("list with denied versions = %q", out)
	}
	runGo(t, app, env, false, "get", "github.com/google/uuid@latest")

	// Release age: with a clock at uuid v1.6.0's release (2024-01-23) plus
	// a day, a minimum age of 30 days refuses v1.6.0 and lets @latest fall
	// back to an older version.
	aged := &modproxy.Policy{MinAge: 30 * 24 * time.Hour}
	if err := aged.Compile(); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2024, 1, 24, 12, 0, 0, 0, time.UTC) }
	p2 := startProxy(t, "", modproxy.Options{Upstream: up, Policy: aged, Now: now})
	app2 := writeModule(t, map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n"})
	env2 := goEnv(t, p2.URL)
	out = runGo(t, app2, env2, true, "get", "github.com/google/uuid@v1.6.0")
	if !strings.Contains(out, "hegui proxy refused (min-age)") || !strings.Contains(out, "the minimum release age is 720h0m0s") {
		t.Errorf("go get of a too-young version:\n%s", out)
	}
	runGo(t, app2, env2, false, "get", "github.com/google/uuid@latest")
	gomod, _ := os.ReadFile(filepath.Join(app2, "go.mod"))
	if !strings.Contains(string(gomod), "github.com/google/uuid v1.5.0") {
		t.Errorf("@latest under a minimum age should pick v1.5.0:\n%s", gomod)
	}
	// A go.mod is served whatever the policy.
	if code, body := get(t, p2.URL+"/github.com/google/uuid/@v/v1.6.0.mod"); code != http.StatusOK {
		t.Errorf("go.mod of a refused version: %d %s", code, body)
	}
}

// TestAuthWithGOAUTH reads through a proxy that needs a token: the go
// command without one gets 401; with the token from a GOAUTH command
// (bearer) or from .netrc (basic) it reads.
func TestAuthWithGOAUTH(t *testing.T) {
	up := upstream(t)
	token, err := modproxy.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	line, err := modproxy.TokenLine("ci", token)
	if err != nil {
		t.Fatal(err)
	}
	_, auth, err := modproxy.ParseTokens([]byte("# clients\n" + line + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The go command sends credentials over HTTPS only: the proxy serves
	// TLS, with a certificate the go command is told to trust.
	p := startProxy(t, "", modproxy.Options{Upstream: up, Auth: auth}, withTLS)
	app := writeModule(t, map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n"})
	goEnv := func(t *testing.T, url string, extra ...string) []string {
		return goEnv(t, url, append([]string{"SSL_CERT_FILE=" + p.CertFile}, extra...)...)
	}

	out := runGo(t, app, goEnv(t, p.URL, "GOAUTH=off"), true, "mod", "download", "github.com/google/uuid@v1.6.0")
	if !strings.Contains(out, "401 Unauthorized") || !strings.Contains(out, "give your proxy token through GOAUTH") {
		t.Errorf("without a token:\n%s", out)
	}
	out = runGo(t, app, goEnv(t, p.URL, "GOAUTH="+goauthCommand(t, p.URL, "hgp_wrong")), true, "mod", "download", "github.com/google/uuid@v1.6.0")
	if !strings.Contains(out, "authentication failed") {
		t.Errorf("with a wrong token:\n%s", out)
	}

	runGo(t, app, goEnv(t, p.URL, "GOAUTH="+goauthCommand(t, p.URL, token)), false, "mod", "download", "github.com/google/uuid@v1.6.0")

	netrcEnv := goEnv(t, p.URL, "GOAUTH=netrc")
	var home string
	for _, kv := range netrcEnv {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	// The go command matches a .netrc machine against the proxy URL's
	// host and port.
	host := strings.TrimPrefix(p.URL, "https://")
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine "+host+" login ci password "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runGo(t, app, netrcEnv, false, "mod", "download", "github.com/google/uuid@v1.5.0")
}

// goauthCommand writes a GOAUTH command that prints a bearer token for
// url, as `go help goauth` describes, and returns the GOAUTH value.
func goauthCommand(t *testing.T, url, token string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "goauth.sh")
	content := "#!/bin/sh\nprintf '%s\\n\\nAuthorization: Bearer %s\\n\\n' '" + url + "' '" + token + "'\n"
	if err := os.WriteFile(script, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// TestWarmThenOffline warms a store from a go.sum and builds from it
// offline.
func TestWarmThenOffline(t *testing.T) {
	up := upstream(t)
	storeDir := t.TempDir()
	p := startProxy(t, storeDir, modproxy.Options{Upstream: up})
	gosum := "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n" +
		"github.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n" +
		"github.com/google/uuid v1.5.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"
	items, err := modlist.Parse("go.sum", []byte(gosum))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Version != "v1.5.0" || !items[0].ModOnly || items[1].ModOnly {
		t.Fatalf("ParseWarmList = %+v", items)
	}
	s := p.Warm(t.Context(), items, nil)
	if s.Fetched != 2 || s.Failed != 0 {
		t.Fatalf("first warm: %+v", s)
	}
	if s = p.Warm(t.Context(), items, nil); s.AlreadyStored != 2 || s.Fetched != 0 {
		t.Fatalf("second warm: %+v", s)
	}
	bad, _ := modlist.Parse("list", []byte("github.com/google/uuid@v0.0.99\n"))
	if s = p.Warm(t.Context(), bad, nil); s.Failed != 1 || len(s.Failures) != 1 {
		t.Fatalf("warm of a version that does not exist: %+v", s)
	}

	off := startProxy(t, storeDir, modproxy.Options{Offline: true})
	app := writeModule(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n",
		"go.sum":  gosum,
		"main.go": "package main\n\nimport \"github.com/google/uuid\"\n\nfunc main() { println(uuid.NewString()) }\n",
	})
	runGo(t, app, goEnv(t, off.URL, "GOFLAGS=-mod=readonly"), false, "build", "./...")
}
