package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/internal/peertest"
)

// TestPublishServeVerify is the internal-module story as a team runs it:
// `hegui key generate` makes the publisher's SM2 key, `hegui log init` the
// audit log, `hegui proxy publish` signs and logs a version (from the
// working tree, then from a git tag), `hegui proxy serve` serves it to the
// go command with the trust proxy.yaml names, and `hegui mod verify` checks
// the go.sum the go command wrote.
func TestPublishServeVerify(t *testing.T) {
	out, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), "http") {
		if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
			t.Fatalf("no module proxy: %q %v", out, err)
		}
		t.Skipf("no module proxy: %q %v", out, err)
	}
	upstream := strings.Split(strings.TrimSpace(string(out)), ",")[0]

	r := newRunner(t)
	logHome, logURL, token := startLog(t, r, "module.*")
	r.genKey("release", "sm2")
	proxyHome := r.path("goproxy")
	for _, d := range []string{"goproxy", "auth", "app"} {
		if err := os.MkdirAll(r.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.write("goproxy/proxy.yaml", []byte(`internal:
  modules: [corp.example]
  publishers: [`+r.path("release.pub")+`]
  audit-log:
    url: `+logURL+`
    public-keys: `+filepath.Join(logHome, logserver.PublicKeyFile)+`
private-sumdb:
  name: sum.corp.example
  sm2-key: `+r.path("release.key")+`
`))
	lib := r.path("auth")
	r.write("auth/go.mod", []byte("module corp.example/auth\n\ngo 1.22\n"))
	r.write("auth/auth.go", []byte("package auth\n\n// Check reports whether the token is good.\nfunc Check(t string) bool { return t == \"ok\" }\n"))

	r.fails(1, []string{"HEGUI_LOG_TOKEN"}, "proxy", "publish", proxyHome, lib+"@v1.0.0", "--key", r.path("release.key"))
	r.env["HEGUI_LOG_TOKEN"] = token
	r.fails(2, []string{"--key"}, "proxy", "publish", proxyHome, lib+"@v1.0.0")
	r.fails(2, []string{"MODDIR@VERSION"}, "proxy", "publish", proxyHome, lib)
	r.fails(1, []string{"canonical"}, "proxy", "publish", proxyHome, lib+"@v1.0", "--key", r.path("release.key"))
	res := r.ok("proxy", "publish", proxyHome, lib+"@v1.0.0", "--key", r.path("release.key"))
	if !strings.HasPrefix(res.stdout, "corp.example/auth v1.0.0 h1:") || !strings.Contains(res.stderr, "audit-log entry") {
		t.Errorf("publish printed %q, %q", res.stdout, res.stderr)
	}
	r.write("auth/auth.go", []byte("package auth\n\n// Check reports whether the token is good.\nfunc Check(t string) bool { return t == \"yes\" }\n"))
	r.fails(1, []string{"immutable"}, "proxy", "publish", proxyHome, lib+"@v1.0.0", "--key", r.path("release.key"))

	// v1.1.0 from its git tag; the working tree's later change is not in it.
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = lib
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "auth")
	git("tag", "v1.1.0")
	r.fails(1, []string{"no git tag v1.2.0"}, "proxy", "publish", proxyHome, lib+"@v1.2.0", "--git", "--key", r.path("release.key"))
	r.write("auth/auth.go", []byte("package auth\n\nfunc Check(t string) bool { return true }\n"))
	tagged := r.ok("proxy", "publish", proxyHome, lib+"@v1.1.0", "--git", "--key", r.path("release.key")).stdout

	ctx, cancel := context.WithCancel(context.Background())
	urlFile := r.path("proxy.url")
	done := make(chan result, 1)
	go func() {
		done <- r.runContext(ctx, "proxy", "serve", proxyHome, "--listen", "127.0.0.1:0", "--upstream", upstream, "--url-file", urlFile)
	}()
	t.Cleanup(func() {
		cancel()
		if res := <-done; res.code != 0 {
			t.Errorf("proxy serve: exit %d: %s", res.code, res.stderr)
		}
	})
	proxyURL := waitForFile(t, urlFile)

	app := r.path("app")
	r.write("app/go.mod", []byte("module example.com/app\n\ngo 1.22\n\nrequire (\n\tcorp.example/auth v1.1.0\n\tgithub.com/google/uuid v1.6.0\n)\n"))
	r.write("app/main.go", []byte("package main\n\nimport (\n\t\"fmt\"\n\n\t\"corp.example/auth\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(auth.Check(\"ok\"), uuid.Nil) }\n"))
	home := r.path("home")
	peertest.TelemetryOff(t, home)
	goCmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	goCmd.Dir = app
	goCmd.Env = append(os.Environ(), "HOME="+home, "GOPATH="+filepath.Join(home, "go"), "GOMODCACHE="+filepath.Join(home, "mod"),
		"GOPROXY="+proxyURL, "GONOSUMDB=corp.example", "GOPRIVATE=", "GONOPROXY=", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if out, err := goCmd.CombinedOutput(); err != nil {
		t.Fatalf("go build through the proxy: %v\n%s", err, out)
	}
	sum := string(r.read("app/go.sum"))
	if !strings.Contains(sum, tagged) {
		t.Errorf("go.sum does not hold the published lines %q:\n%s", tagged, sum)
	}

	// The proxy's own checksum database: no GONOSUMDB, the go command
	// verifies the internal and the public module against it.
	vkey := strings.TrimSpace(string(r.read("goproxy/private-sumdb.key.vkey")))
	os.Remove(filepath.Join(app, "go.sum"))
	goCmd = exec.Command("go", "build", "-o", os.DevNull, ".")
	goCmd.Dir = app
	goCmd.Env = append(os.Environ(), "HOME="+home, "GOPATH="+filepath.Join(home, "go"), "GOMODCACHE="+filepath.Join(home, "mod2"),
		"GOPROXY="+proxyURL, "GOSUMDB="+vkey, "GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if out, err := goCmd.CombinedOutput(); err != nil {
		t.Fatalf("go build verifying against the proxy's checksum database: %v\n%s", err, out)
	}
	if again := string(r.read("app/go.sum")); again != sum {
		t.Errorf("go.sum verified by the private checksum database differs:\n%s\nwant\n%s", again, sum)
	}

	r.env["GOPROXY"], r.env["GONOSUMDB"] = proxyURL, "corp.example"
	r.fails(1, []string{"has no go.sum", "go mod tidy"}, "mod", "verify", lib)
	res = r.ok("mod", "verify", app, "--publisher", r.path("release.pub"), "--log-keys", filepath.Join(logHome, logserver.PublicKeyFile))
	if !strings.Contains(res.stdout, "2 internal lines are signed publications") {
		t.Errorf("mod verify: %s", res.stdout)
	}
	r.genKey("other", "sm2")
	r.fails(1, []string{"2 lines of go.sum did not verify"}, "mod", "verify", app, "--publisher", r.path("other.pub"), "--log-keys", filepath.Join(logHome, logserver.PublicKeyFile))
	res = r.run("mod", "verify", app, "--publisher", r.path("other.pub"), "--log-keys", filepath.Join(logHome, logserver.PublicKeyFile))
	if !strings.Contains(res.stdout, "FAIL") || !strings.Contains(res.stdout, "trusted publisher") {
		t.Errorf("mod verify with another publisher's key: %s", res.stdout)
	}
	r.write("app/go.sum", []byte(strings.Replace(sum, "github.com/google/uuid v1.6.0 h1:", "github.com/google/uuid v1.6.0 h1:X", 1)))
	res = r.run("mod", "verify", app, "--publisher", r.path("release.pub"), "--log-keys", filepath.Join(logHome, logserver.PublicKeyFile))
	if res.code != 1 || !strings.Contains(res.stdout, "SECURITY ERROR") {
		t.Errorf("mod verify of a changed public line: exit %d %s", res.code, res.stdout)
	}
	exportImport(t, r, proxyHome)
}

// exportImport carries the proxy home of the publish story across an
// "air gap" with hegui proxy export and import.
func exportImport(t *testing.T, r *runner, proxyHome string) {
	t.Helper()
	bundle := r.path("modules.bundle")
	r.fails(2, []string{"--out"}, "proxy", "export", proxyHome, "--key", r.path("release.key"))
	r.ok("proxy", "export", proxyHome, "--out", bundle, "--key", r.path("release.key"))
	r.fails(1, []string{"exists"}, "proxy", "export", proxyHome, "--out", bundle, "--key", r.path("release.key"))

	bare := r.path("bare")
	os.MkdirAll(bare, 0o755)
	r.fails(2, []string{"--pub"}, "proxy", "import", bare, bundle)
	r.fails(1, []string{"not signed by a trusted key", "nothing was stored"}, "proxy", "import", bare, bundle, "--pub", r.path("other.pub"))
	// A proxy that does not know the internal modules' publisher.
	r.fails(1, []string{"internal", "nothing was stored"}, "proxy", "import", bare, bundle, "--pub", r.path("release.pub"))
	if entries, _ := os.ReadDir(filepath.Join(bare, "store")); len(entries) != 0 {
		t.Errorf("a refused import stored %d entries", len(entries))
	}
	gapped := r.path("gapped")
	os.MkdirAll(gapped, 0o755)
	os.WriteFile(filepath.Join(gapped, "proxy.yaml"), r.read("goproxy/proxy.yaml"), 0o644)
	res := r.ok("proxy", "import", gapped, bundle, "--pub", r.path("release.pub"))
	if !strings.Contains(res.stderr, "imported") {
		t.Errorf("import: %s", res.stderr)
	}
}

// waitForFile waits for a server to write its URL.
func waitForFile(t *testing.T, file string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(file); err == nil && len(data) > 0 {
			return strings.TrimSpace(string(data))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s was not written", file)
	return ""
}
