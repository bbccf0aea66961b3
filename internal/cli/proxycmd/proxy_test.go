package proxycmd

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/cli/cmdutil/cmdtest"
	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/keys"
)

func TestTokenAdd(t *testing.T) {
	dir := t.TempDir()
	env, stdout, _ := cmdtest.Env(nil, nil)
	if err := RunTokenAdd(context.Background(), env, TokenAddOptions{Dir: dir, Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(token, modproxy.TokenPrefix) {
		t.Fatalf("token %q", token)
	}
	data, err := os.ReadFile(filepath.Join(dir, modproxy.TokensFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), token) {
		t.Fatal("the tokens file holds the token itself")
	}
	if fi, _ := os.Stat(filepath.Join(dir, modproxy.TokensFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("tokens file mode %v", fi.Mode().Perm())
	}
	if err := RunTokenAdd(context.Background(), env, TokenAddOptions{Dir: dir, Name: "ci"}); err == nil || !strings.Contains(err.Error(), "already has a token") {
		t.Errorf("second token for ci: %v", err)
	}
	var u cmdutil.UsageError
	if err := RunTokenAdd(context.Background(), env, TokenAddOptions{Dir: dir, Name: "bad name"}); !errors.As(err, &u) {
		t.Errorf("bad name: %v", err)
	}
	if err := RunTokenAdd(context.Background(), env, TokenAddOptions{Dir: dir, Name: "dev"}); err != nil {
		t.Fatal(err)
	}
	names, _, err := modproxy.ParseTokens(mustRead(t, filepath.Join(dir, modproxy.TokensFile)))
	if err != nil || strings.Join(names, ",") != "ci,dev" {
		t.Errorf("clients %v, %v", names, err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestUsageErrors(t *testing.T) {
	env, _, _ := cmdtest.Env(nil, nil)
	var u cmdutil.UsageError
	for name, err := range map[string]error{
		"offline and upstream": RunServe(context.Background(), env, ServeOptions{Dir: t.TempDir(), Offline: true, Upstream: "https://x", MaxConnections: 1}),
		"tls half":             RunServe(context.Background(), env, ServeOptions{Dir: t.TempDir(), TLSCert: "a", MaxConnections: 1}),
		"connections":          RunServe(context.Background(), env, ServeOptions{Dir: t.TempDir()}),
	} {
		if !errors.As(err, &u) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, modproxy.ConfigFile), []byte("offline: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(t.TempDir(), "list")
	os.WriteFile(list, []byte("github.com/google/uuid@v1.6.0\n"), 0o644)
	if err := RunWarm(context.Background(), env, WarmOptions{Dir: dir, Files: []string{list}}); !errors.As(err, &u) {
		t.Errorf("warm of an offline home: %v", err)
	}
	os.WriteFile(list, []byte("github.com/google/uuid@master\n"), 0o644)
	if err := RunWarm(context.Background(), env, WarmOptions{Dir: dir, Files: []string{list}}); err == nil || !strings.Contains(err.Error(), "not a semantic version") {
		t.Errorf("warm of a branch: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, modproxy.ConfigFile), []byte("ofline: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RunServe(context.Background(), env, ServeOptions{Dir: dir, MaxConnections: 1}); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("misspelt proxy.yaml: %v", err)
	}
}

// TestServeOffline runs the server over an empty home, offline, and reads
// its health and a 404 over HTTP.
func TestServeOffline(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithCancel(context.Background())
	env, _, stderr := cmdtest.Env(nil, nil)
	done := make(chan error, 1)
	go func() {
		done <- RunServe(ctx, env, ServeOptions{Dir: dir, Listen: "127.0.0.1:0", Offline: true, URLFile: urlFile, MaxConnections: 8})
	}()
	var url string
	for range 100 {
		if data, err := os.ReadFile(urlFile); err == nil {
			url = strings.TrimSpace(string(data))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if url == "" {
		cancel()
		t.Fatalf("no URL; stderr:\n%s", stderr)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(url + "/github.com/google/uuid/@v/v1.6.0.zip")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("zip of an empty offline proxy: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "offline") || !strings.Contains(stderr.String(), "anyone who reaches") {
		t.Errorf("startup message:\n%s", stderr)
	}
}

// TestImportRefusesFIFO: a named pipe given as the bundle is refused at
// once, not waited on.
func TestImportRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	k, err := keys.Generate(keys.SM2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := keys.MarshalPublicKeyPEM(k.Public())
	pub := filepath.Join(dir, "k.pub")
	os.WriteFile(pub, pem, 0o644)
	fifo := filepath.Join(dir, "bundle")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	env, _, _ := cmdtest.Env(nil, nil)
	done := make(chan error, 1)
	go func() {
		done <- RunImport(context.Background(), env, ImportOptions{Dir: dir, Bundle: fifo, Pubs: []string{pub}})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("import of a FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("import of a FIFO is still waiting on it")
	}
}
