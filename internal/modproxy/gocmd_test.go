package modproxy_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
)

// cobra is the real multi-module project the go command builds through
// the proxy: github.com/spf13/cobra and the modules it requires.
const (
	cobraModule  = "github.com/spf13/cobra"
	cobraVersion = "v1.10.2"
)

// fetchProject downloads mod@version through the proxy and returns a
// writable copy of its source.
func fetchProject(t *testing.T, proxyURL, mod, version string) string {
	t.Helper()
	env := goEnv(t, proxyURL)
	out := runGo(t, t.TempDir(), env, false, "mod", "download", "-json", mod+"@"+version)
	var dir string
	for line := range strings.SplitSeq(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), `"Dir": "`); ok {
			dir = strings.TrimSuffix(v, `",`)
		}
	}
	if dir == "" {
		t.Fatalf("go mod download printed no Dir:\n%s", out)
	}
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chmod(p, 0o755)
	}); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestGoCommandOnlineThenOffline builds a real project through the proxy:
// go mod download and go build with a fresh module cache, the checksum
// database reached only through the proxy; then go list -m -versions and
// go get of a newer version; then the same build against an offline proxy
// over the same store, with another fresh module cache and checksum-database
// cache.
func TestGoCommandOnlineThenOffline(t *testing.T) {
	up := upstream(t)
	storeDir := t.TempDir()
	online := startProxy(t, storeDir, modproxy.Options{Upstream: up})

	src := fetchProject(t, online.URL, cobraModule, cobraVersion)
	env := goEnv(t, online.URL)
	runGo(t, src, env, false, "mod", "download")
	runGo(t, src, env, false, "build", "./...")

	// Every module file the go command took is stored with a record that
	// names its go.sum hash, checked against the checksum database.
	sum, err := os.ReadFile(filepath.Join(src, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(sum)), "\n") {
		f := strings.Fields(line)
		mod, version, kind := f[0], f[1], modstore.Zip
		if v, ok := strings.CutSuffix(version, "/go.mod"); ok {
			version, kind = v, modstore.Mod
		}
		rec, err := modstore.ReadRecord(context.Background(), online.Store, mod, version, kind)
		if kind == modstore.Zip && err != nil {
			continue // go.sum lists zips the build did not need
		}
		if err != nil {
			t.Fatalf("%s: no record: %v", line, err)
		}
		if rec.Hash != f[2] || rec.VerifiedBy != "sum.golang.org" || rec.Source != modstore.SourceUpstream {
			t.Errorf("%s: record %+v", line, rec)
		}
		checked++
	}
	if checked < 8 {
		t.Fatalf("only %d go.sum lines have records", checked)
	}

	// A version list, and an upgrade.
	out := runGo(t, src, env, false, "list", "-m", "-versions", "github.com/spf13/pflag")
	if !strings.Contains(out, "v1.0.9") || !strings.Contains(out, "v1.0.5") {
		t.Errorf("go list -m -versions: %s", out)
	}
	app := writeModule(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n\nrequire github.com/google/uuid v1.5.0\n",
		"main.go": "package main\n\nimport \"github.com/google/uuid\"\n\nfunc main() { println(uuid.NewString()) }\n",
	})
	appEnv := goEnv(t, online.URL)
	runGo(t, app, appEnv, false, "build", "./...")
	runGo(t, app, appEnv, false, "get", "github.com/google/uuid@v1.6.0")
	runGo(t, app, appEnv, false, "build", "./...")
	if gomod, _ := os.ReadFile(filepath.Join(app, "go.mod")); !strings.Contains(string(gomod), "github.com/google/uuid v1.6.0") {
		t.Errorf("go get did not upgrade:\n%s", gomod)
	}

	// Offline, over the same store: the same build, from nothing but the
	// store, the checksum database included.
	offline := startProxy(t, storeDir, modproxy.Options{Offline: true})
	offEnv := goEnv(t, offline.URL)
	runGo(t, src, offEnv, false, "mod", "download")
	runGo(t, src, offEnv, false, "build", "./...")
	out = runGo(t, src, offEnv, false, "list", "-m", "-versions", "github.com/google/uuid")
	if strings.TrimSpace(out) != "github.com/google/uuid v1.5.0 v1.6.0" {
		t.Errorf("offline list = %q, want the stored versions", out)
	}
	out = runGo(t, app, offEnv, false, "list", "-m", "github.com/google/uuid@latest")
	if strings.TrimSpace(out) != "github.com/google/uuid v1.6.0" {
		t.Errorf("offline @latest = %q", out)
	}
	out = runGo(t, app, offEnv, true, "get", "github.com/google/uuid@v1.4.0")
	if !strings.Contains(out, "not stored in this proxy (it is offline") {
		t.Errorf("offline get of a version not stored:\n%s", out)
	}
}

// TestCorruptedZip flips a byte in a stored zip. Online, the proxy
// quarantines it, fetches it again and the go command succeeds; offline,
// the go command fails with the proxy's reason and nothing corrupted is
// served.
func TestCorruptedZip(t *testing.T) {
	up := upstream(t)
	storeDir := t.TempDir()
	online := startProxy(t, storeDir, modproxy.Options{Upstream: up})
	app := writeModule(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n",
		"main.go": "package main\n\nimport \"github.com/google/uuid\"\n\nfunc main() { println(uuid.NewString()) }\n",
	})
	runGo(t, app, goEnv(t, online.URL), false, "mod", "download", "github.com/google/uuid")

	zipKey, _ := modstore.ModuleKey("github.com/google/uuid", "v1.6.0", modstore.Zip)
	corrupt := func() {
		t.Helper()
		p := filepath.Join(storeDir, filepath.FromSlash(zipKey))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0x01
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	corrupt()
	runGo(t, app, goEnv(t, online.URL), false, "build", "./...")
	if n := countFiles(t, filepath.Join(storeDir, "quarantine")); n != 1 {
		t.Errorf("%d files in quarantine, want the corrupted zip", n)
	}

	offline := startProxy(t, storeDir, modproxy.Options{Offline: true})
	corrupt()
	out := runGo(t, app, goEnv(t, offline.URL), true, "build", "./...")
	if !strings.Contains(out, "502 Bad Gateway") || !strings.Contains(out, "does not match its record") {
		t.Errorf("offline build of a corrupted zip:\n%s", out)
	}
	if code, _ := get(t, offline.URL+"/github.com/google/uuid/@v/v1.6.0.zip"); code != http.StatusNotFound {
		t.Errorf("after quarantine the zip answers %d, want 404", code)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
