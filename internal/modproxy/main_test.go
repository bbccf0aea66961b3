package modproxy_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/peertest"
)

// The tests drive the real go command through the proxy, and the proxy
// fetches from this machine's own GOPROXY (read from the environment, so
// no host is named here), which also serves the checksum database.

var (
	upstreamOnce sync.Once
	upstreamURL  string
	upstreamErr  error
)

// upstream returns the GOPROXY the go command here uses, checked to answer
// for the checksum database. Without one the test skips, or fails under
// HEGUI_REQUIRE_PEERS=1.
func upstream(t *testing.T) string {
	t.Helper()
	upstreamOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOPROXY").Output()
		if err != nil {
			upstreamErr = fmt.Errorf("go env GOPROXY: %v", err)
			return
		}
		upstreamURL, upstreamErr = modproxy.ParseUpstream(strings.TrimSpace(string(out)))
		if upstreamErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, upstreamURL+"/sumdb/sum.golang.org/supported", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			upstreamErr = err
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			upstreamErr = fmt.Errorf("%s does not proxy the checksum database (%s)", upstreamURL, resp.Status)
		}
	})
	if upstreamErr != nil {
		if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
			t.Fatalf("no upstream module proxy: %v", upstreamErr)
		}
		t.Skipf("no upstream module proxy: %v", upstreamErr)
	}
	return upstreamURL
}

// testProxy is a proxy under test, served on loopback.
type testProxy struct {
	*modproxy.Proxy
	URL   string
	Store *modstore.Dir
	// CertFile is the PEM certificate of a TLS proxy (withTLS).
	CertFile string
}

// withTLS serves the proxy over HTTPS.
const withTLS = true

// startProxy serves a proxy over the store in dir (a new one when dir is
// empty) with opts; Store and TempDir are filled in.
func startProxy(t *testing.T, dir string, opts modproxy.Options, tls ...bool) *testProxy {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	store, err := modstore.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts.Store = store
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	p, err := modproxy.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() }) // prefetches end before the store's directory is removed
	if len(tls) == 0 || !tls[0] {
		srv := httptest.NewServer(p)
		t.Cleanup(srv.Close)
		return &testProxy{Proxy: p, URL: srv.URL, Store: store}
	}
	srv := httptest.NewTLSServer(p)
	t.Cleanup(srv.Close)
	certFile := filepath.Join(t.TempDir(), "proxy.crt")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(certFile, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	return &testProxy{Proxy: p, URL: srv.URL, Store: store, CertFile: certFile}
}

// goEnv is a clean environment for the go command: its own HOME, GOPATH
// and module cache, modules only from proxyURL, GOSUMDB left at its
// default (so the checksum database is reached through the proxy).
func goEnv(t *testing.T, proxyURL string, extra ...string) []string {
	t.Helper()
	home := peertest.GoHome(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"GOPATH=" + filepath.Join(home, "go"),
		"GOMODCACHE=" + filepath.Join(home, "go", "pkg", "mod"),
		"GOCACHE=" + goCache(t),
		"GOPROXY=" + proxyURL,
		"GOFLAGS=-mod=mod",
		"GOTOOLCHAIN=local",
		"GOTELEMETRY=off",
		"GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=", "GOINSECURE=",
		"CGO_ENABLED=0",
	}
	return append(env, extra...)
}

// goCache is the build cache the go commands share (builds, not modules).
func goCache(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// runGo runs the go command in dir with env and returns its combined
// output; it fails the test when the command fails unless wantErr.
func runGo(t *testing.T, dir string, env []string, wantErr bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if (err != nil) != wantErr {
		t.Fatalf("go %s: err=%v, want error %v\n%s", strings.Join(args, " "), err, wantErr, out)
	}
	return string(out)
}

// writeModule writes a small main module requiring mods.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// get fetches a URL and returns the status and body.
func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
