package modproxy_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
)

// The tests here send the proxy what an attacker, a broken client or a
// compromised upstream would: paths that try to leave the store, files
// whose content is not the checksum database's, zips that break the
// module zip rules, bodies that stall or stop short, and a store whose
// files or records were tampered with. Each must be refused with a reason,
// and nothing of it may be stored or served.

// rawResponse is an answer read off a raw connection.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawRequest sends method and target to addr exactly as given, so that no
// HTTP client cleans or escapes the path first, and reads the answer.
func rawRequest(t *testing.T, addr, method, target string) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, method+" "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %q: reading the answer: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %q: reading the body: %v", method, target, err)
	}
	return rawResponse{resp.StatusCode, resp.Header, string(body)}
}

// storeFiles lists the files under dir, as slash-separated relative paths.
func storeFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkReason checks that an error answer is a one-line plain-text reason,
// which is what the go command prints after "server response:".
func checkReason(t *testing.T, what string, header http.Header, body string) {
	t.Helper()
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("%s: Content-Type %q, want text/plain", what, ct)
	}
	line := strings.TrimSuffix(body, "\n")
	if strings.TrimSpace(line) == "" || strings.Contains(line, "\n") {
		t.Errorf("%s: body %q is not a one-line reason", what, body)
	}
}

// TestHostilePaths sends an offline proxy request paths that are not
// module proxy paths, over a raw connection so that they arrive as
// written. Each is refused with a 4xx and a reason, and nothing is stored.
func TestHostilePaths(t *testing.T) {
	// A stored module makes the store's directories exist, as they do on
	// any proxy in use.
	dir := t.TempDir()
	storeFile(t, dir, "example.com/m", "v1.0.0", modstore.Info, []byte(`{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}`), false)
	p := startProxy(t, dir, modproxy.Options{Offline: true})
	addr := strings.TrimPrefix(p.URL, "http://")
	long := "/golang.org/x/" + strings.Repeat("a", 5000) + "/@v/list"
	// A module path element longer than a file name may be (255 bytes)
	// passes module.CheckPath and the request length limit, but no store
	// can hold it.
	longElem := "/example.com/" + strings.Repeat("a", 300)

	tests := []struct {
		name, method, target string
		want                 []int // the answers that are right
	}{
		{"dot-dot after @v", "GET", "/x/@v/../../etc/passwd", []int{404}},
		{"no module path", "GET", "/@v/list", []int{404}},
		{"percent-encoded dot-dot", "GET", "/github.com/%2e%2e/@v/list", []int{400, 404}},
		{"double-encoded dot-dot", "GET", "/github.com/%252e%252e/@v/list", []int{400}},
		{"fragment in a query", "GET", "/github.com/google/uuid/@v/list%23.info", []int{404}},
		{"question mark in a query", "GET", "/github.com/google/uuid/@v/list%3F.info", []int{404}},
		{"percent-encoded dot-dot version", "GET", "/golang.org/x/mod/@v/%2e%2e%2f%2e%2e.zip", []int{400}},
		{"percent-encoded slash", "GET", "/golang.org%2fx/mod/@v/list", []int{400}},
		{"upper case not escaped", "GET", "/github.com/Azure/x/@v/list", []int{404}},
		{"escaped upper case then dot-dot", "GET", "/github.com/!azure/../@v/list", []int{404}},
		{"dot-dot in module path", "GET", "/golang.org/x/../x/mod/@v/list", []int{404}},
		{"5000-byte path", "GET", long, []int{404}},
		{"unknown file kind", "GET", "/golang.org/x/mod/@v/v0.42.0.exe", []int{404}},
		{"upper-case version", "GET", "/golang.org/x/mod/@v/V1.0.0.zip", []int{404}},
		{"query as .mod", "GET", "/golang.org/x/mod/@v/latest.mod", []int{404}},
		{"query as .zip", "GET", "/golang.org/x/mod/@v/master.zip", []int{404}},
		{"non-canonical .zip", "GET", "/golang.org/x/mod/@v/v1.0.zip", []int{404}},
		{"query .info offline", "GET", "/golang.org/x/mod/@v/master.info", []int{404}},
		{"hidden version file", "GET", "/golang.org/x/mod/@v/.v1.0.0.zip", []int{404}},
		{"tile with dot-dot", "GET", "/sumdb/sum.golang.org/tile/8/0/../../x", []int{404}},
		{"lookup of dot-dot", "GET", "/sumdb/sum.golang.org/lookup/..@v1", []int{404}},
		{"lookup without version", "GET", "/sumdb/sum.golang.org/lookup/golang.org/x/mod", []int{404}},
		{"other checksum database", "GET", "/sumdb/other.db/supported", []int{404}},
		{"checksum database dot-dot", "GET", "/sumdb/../modules/x", []int{404}},
		{"sumdb file outside the protocol", "GET", "/sumdb/sum.golang.org/../../etc/passwd", []int{404}},
		{"percent-encoded NUL", "GET", "/golang.org/x/mod/@v/v1.0.0%00.zip", []int{400, 404}},
		{"NUL byte", "GET", "/golang.org/x/mod/@v/v1.0.0\x00.zip", []int{400}},
		{"control byte", "GET", "/golang.org/x/mod/@v/\x01.info", []int{400}},
		{"DEL byte", "GET", "/golang.org/x/\x7f/@v/list", []int{400}},
		{"long module path element list", "GET", longElem + "/@v/list", []int{404}},
		{"long module path element zip", "GET", longElem + "/@v/v1.0.0.zip", []int{404}},
		{"long version", "GET", "/example.com/m/@v/v1.0.0-" + strings.Repeat("a", 300) + ".info", []int{404}},
		{"long module path element latest", "GET", longElem + "/@latest", []int{404}},
		{"POST", "POST", "/golang.org/x/mod/@v/list", []int{405}},
		{"DELETE", "DELETE", "/golang.org/x/mod/@v/v0.42.0.zip", []int{405}},
	}
	before := storeFiles(t, p.Store.Root())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawRequest(t, addr, tt.method, tt.target)
			if !slices.Contains(tt.want, resp.status) {
				t.Errorf("%s %q: %d %q, want %v", tt.method, tt.target, resp.status, resp.body, tt.want)
			}
			checkReason(t, tt.target, resp.header, resp.body)
			if resp.status == http.StatusMethodNotAllowed && resp.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %q: Allow %q, want \"GET, HEAD\"", tt.method, tt.target, resp.header.Get("Allow"))
			}
		})
	}
	if after := storeFiles(t, p.Store.Root()); !slices.Equal(after, before) {
		t.Errorf("the store holds %q after the hostile requests, %q before", after, before)
	}
}

// storeFile stores a module file and its record directly, as a proxy
// would have; with wrongSum the record's SHA-256 is not the content's.
func storeFile(t *testing.T, dir, mod, version, kind string, content []byte, wrongSum bool) {
	t.Helper()
	store, err := modstore.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := modstore.ModuleKey(mod, version, kind)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Create(ctx, key, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if wrongSum {
		sum = sha256.Sum256([]byte("something else"))
	}
	rec := &modstore.Record{
		Module: mod, Version: version, Kind: kind,
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
		Source: modstore.SourceUpstream, VerifiedBy: "sum.golang.org", Stored: time.Now().UTC(),
	}
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Create(ctx, key+modstore.RecordSuffix, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

// TestEscapedUpperCasePath asks for a stored module whose path has upper
// case, as the go command escapes it ("!burnt!sushi"), over a raw
// connection and through Go's HTTP client: both are served.
func TestEscapedUpperCasePath(t *testing.T) {
	const mod, version = "github.com/BurntSushi/toml", "v1.4.0"
	info := []byte(`{"Version":"v1.4.0","Time":"2024-06-06T12:00:00Z"}`)
	dir := t.TempDir()
	storeFile(t, dir, mod, version, modstore.Info, info, false)
	p := startProxy(t, dir, modproxy.Options{Offline: true})
	path := "/github.com/!burnt!sushi/toml/@v/v1.4.0.info"

	if resp := rawRequest(t, strings.TrimPrefix(p.URL, "http://"), "GET", path); resp.status != http.StatusOK || resp.body != string(info) {
		t.Errorf("raw GET %s: %d %q, want 200 and the stored .info", path, resp.status, resp.body)
	}
	if code, _, body := fetch(t, p.URL+path); code != http.StatusOK || body != string(info) {
		t.Errorf("GET %s: %d %q, want 200 and the stored .info", path, code, body)
	}
	// The go command percent-encodes the '!'.
	encoded := strings.ReplaceAll(path, "!", "%21")
	if resp := rawRequest(t, strings.TrimPrefix(p.URL, "http://"), "GET", encoded); resp.status != http.StatusOK || resp.body != string(info) {
		t.Errorf("raw GET %s: %d %q, want 200 and the stored .info", encoded, resp.status, resp.body)
	}
}

// TestGoCommandUpperCaseModule downloads a module whose path has upper
// case through the proxy with the real go command, which sends the
// case-encoded path percent-encoded ("%21burnt%21sushi"), online and then
// offline.
func TestGoCommandUpperCaseModule(t *testing.T) {
	up := upstream(t)
	dir := t.TempDir()
	p := startProxy(t, dir, modproxy.Options{Upstream: up})
	m := writeModule(t, map[string]string{"go.mod": "module example.com/m\n"})
	runGo(t, m, goEnv(t, p.URL), false, "mod", "download", "github.com/BurntSushi/toml@v1.4.0")
	off := startProxy(t, dir, modproxy.Options{Offline: true})
	runGo(t, m, goEnv(t, off.URL), false, "mod", "download", "github.com/BurntSushi/toml@v1.4.0")
	if out := runGo(t, m, goEnv(t, off.URL), false, "list", "-m", "-versions", "github.com/BurntSushi/toml"); !strings.Contains(out, "v1.4.0") {
		t.Errorf("offline list: %s", out)
	}
}

// TestLongVersionsStored asks an online proxy for the .info of versions
// whose request path element is around the longest the proxy accepts.
// Each must be stored and served, or refused at the door (404): the names
// the proxy writes (the record, and the temporary file beside it) must fit
// the file system's 255 bytes.
func TestLongVersionsStored(t *testing.T) {
	const mod = "example.com/m"
	prefix := "/" + mod + "/@v/"
	info := func(version string) string {
		return `{"Version":"` + version + `","Time":"2024-01-02T03:04:05Z"}`
	}
	// The .info is not in the checksum database, so this upstream needs no
	// network.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, prefix), ".info")
		if !ok || !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, info(version))
	}))
	t.Cleanup(up.Close)
	tmp := t.TempDir()
	p := startProxy(t, "", modproxy.Options{Upstream: up.URL, TempDir: tmp})

	for elemLen := 225; elemLen <= 256; elemLen++ {
		version := "v1.0.0-" + strings.Repeat("a", elemLen-len("v1.0.0-")-len(".info"))
		code, _, body := fetch(t, p.URL+prefix+version+".info")
		switch {
		case code == http.StatusOK && body != info(version):
			t.Errorf("GET the .info of a %d-byte path element: 200 %q, want the upstream's .info", elemLen, body)
		case code != http.StatusOK && code != http.StatusNotFound:
			t.Errorf("GET the .info of a %d-byte path element: %d %q, want it served (200) or the path refused (404)", elemLen, code, body)
		}
	}
	checkEmpty(t, tmp)
}

// Module of the hostile-upstream tests: small, and in the checksum
// database.
const (
	uuidModule  = "github.com/google/uuid"
	uuidVersion = "v1.6.0"
)

// uuidPath is the GOPROXY path of one of the module's files.
func uuidPath(kind string) string {
	return "/" + uuidModule + "/@v/" + uuidVersion + "." + kind
}

// hostileUpstream is an upstream proxy that passes every request on to the
// real one except the paths its tamper function answers.
type hostileUpstream struct {
	URL    string
	tamper atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

// startHostileUpstream serves a hostile upstream in front of up; tamper,
// when it reports true, has answered the request itself.
func startHostileUpstream(t *testing.T, up string, tamper func(w http.ResponseWriter, r *http.Request) bool) *hostileUpstream {
	t.Helper()
	target, err := url.Parse(up)
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileUpstream{}
	h.tamper.Store(&tamper)
	forward := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := *h.tamper.Load(); f != nil && f(w, r) {
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// serving answers path with content (a 200) and passes the rest on.
func serving(path string, content []byte) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != path {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.Write(content)
		return true
	}
}

// moduleZip builds a valid module zip of uuid's module path and version
// whose content is not the real one's.
func moduleZip(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":  "module " + uuidModule + "\n",
		"uuid.go": "package uuid\n\n// New is not what the real module has.\nfunc New() string { return \"not random\" }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := modzip.CreateFromDir(&buf, module.Version{Path: uuidModule, Version: uuidVersion}, dir); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawZip writes a zip of the named files, each holding a line of Go,
// without the module zip rules' checks.
func rawZip(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, "package uuid\n")
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fetch GETs a proxy URL with a bounded wait and returns the status and
// body.
func fetch(t *testing.T, target string) (int, http.Header, string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", target, err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// checkNotStored fails the test if the store holds the module file of
// kind or its record.
func checkNotStored(t *testing.T, p *testProxy, kind string) {
	t.Helper()
	key, err := modstore.ModuleKey(uuidModule, uuidVersion, kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{key, key + modstore.RecordSuffix} {
		if obj, err := p.Store.Open(context.Background(), k); err == nil {
			obj.Close()
			t.Errorf("the store holds %s", k)
		} else if !errors.Is(err, modstore.ErrNotExist) {
			t.Errorf("open %s: %v", k, err)
		}
	}
}

// checkEmpty fails the test if dir holds anything.
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s holds %s after the request", dir, e.Name())
	}
}

// TestHostileUpstreamZip serves the proxy module zips that are not the
// module's: one whose content differs from what the checksum database
// holds, and ones that break the module zip rules. Each is refused with a
// 403 whose text says why, and none is stored.
func TestHostileUpstreamZip(t *testing.T) {
	up := upstream(t)
	prefix := uuidModule + "@" + uuidVersion + "/"
	tests := []struct {
		name    string
		zip     func(t *testing.T) []byte
		want    string
		goCheck bool
	}{
		{"different content", moduleZip, "checksum database", true},
		{"path traversal", func(t *testing.T) []byte {
			return rawZip(t, prefix+"go.mod", prefix+"../../evil.go")
		}, "not a valid module zip", false},
		{"case collision", func(t *testing.T) []byte {
			return rawZip(t, prefix+"go.mod", prefix+"uuid.go", prefix+"UUID.go")
		}, "not a valid module zip", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hostile := startHostileUpstream(t, up, serving(uuidPath(modstore.Zip), tt.zip(t)))
			tmp := t.TempDir()
			p := startProxy(t, "", modproxy.Options{Upstream: hostile.URL, TempDir: tmp})

			code, header, body := fetch(t, p.URL+uuidPath(modstore.Zip))
			if code != http.StatusForbidden || !strings.Contains(body, tt.want) {
				t.Errorf("tampered zip: %d %q, want 403 naming %q", code, body, tt.want)
			}
			checkReason(t, "tampered zip", header, body)
			checkNotStored(t, p, modstore.Zip)
			checkEmpty(t, tmp)

			if !tt.goCheck {
				return
			}
			out := runGo(t, t.TempDir(), goEnv(t, p.URL), true, "mod", "download", uuidModule+"@"+uuidVersion)
			if !strings.Contains(out, "403 Forbidden") || !strings.Contains(out, "checksum database") {
				t.Errorf("go mod download of a tampered zip does not print the proxy's reason:\n%s", out)
			}
			checkNotStored(t, p, modstore.Zip)
		})
	}
}

// TestHostileUpstreamMod serves a go.mod larger than the go command
// accepts, with and without a Content-Length. It is refused without being
// read whole, and not stored.
func TestHostileUpstreamMod(t *testing.T) {
	up := upstream(t)
	big := bytes.Repeat([]byte("// padding padding padding padding\n"), modzip.MaxGoMod/35+2)
	if len(big) <= modzip.MaxGoMod {
		t.Fatalf("the go.mod is %d bytes, not over the limit", len(big))
	}
	for _, withLength := range []bool{true, false} {
		t.Run(fmt.Sprintf("content-length=%v", withLength), func(t *testing.T) {
			hostile := startHostileUpstream(t, up, func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != uuidPath(modstore.Mod) {
					return false
				}
				if withLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				}
				w.Write(big)
				return true
			})
			p := startProxy(t, "", modproxy.Options{Upstream: hostile.URL})
			code, header, body := fetch(t, p.URL+uuidPath(modstore.Mod))
			// An upstream that sends what no proxy may is a bad gateway
			// (502) or a refusal (403), never the proxy's own failure.
			if code != http.StatusBadGateway && code != http.StatusForbidden {
				t.Errorf("oversized go.mod: %d %q, want 502 or 403", code, body)
			}
			if !strings.Contains(body, "allowed") {
				t.Errorf("oversized go.mod: the reason %q does not say the file is too large", body)
			}
			checkReason(t, "oversized go.mod", header, body)
			checkNotStored(t, p, modstore.Mod)
		})
	}
}

// TestHostileUpstreamBrokenBody sends the zip's headers and half its body,
// then stalls or cuts the connection. The proxy answers 502 soon after,
// and neither the store nor its temporary directory keeps anything.
func TestHostileUpstreamBrokenBody(t *testing.T) {
	up := upstream(t)
	zipData := moduleZip(t)
	tests := []struct {
		name string
		end  func(w http.ResponseWriter, r *http.Request, done <-chan struct{})
	}{
		{"stall", func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
			select {
			case <-r.Context().Done():
			case <-done:
			}
		}},
		{"close", func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			conn.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			hostile := startHostileUpstream(t, up, func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != uuidPath(modstore.Zip) {
					return false
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(zipData)))
				w.Write(zipData[:len(zipData)/2])
				http.NewResponseController(w).Flush()
				tt.end(w, r, done)
				return true
			})
			defer close(done) // before the upstream's Close, which waits for the handler
			tmp := t.TempDir()
			p := startProxy(t, "", modproxy.Options{Upstream: hostile.URL, TempDir: tmp})
			modproxy.SetStallTimeout(p.Proxy, 500*time.Millisecond)

			start := time.Now()
			code, header, body := fetch(t, p.URL+uuidPath(modstore.Zip))
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("the answer took %s", elapsed)
			}
			if code != http.StatusBadGateway {
				t.Errorf("broken upstream body: %d %q, want 502", code, body)
			}
			checkReason(t, "broken upstream body", header, body)
			checkNotStored(t, p, modstore.Zip)
			checkEmpty(t, tmp)
		})
	}
}

// TestHostileUpstreamInfo serves an .info that names another version. It
// is refused and not stored.
func TestHostileUpstreamInfo(t *testing.T) {
	up := upstream(t)
	hostile := startHostileUpstream(t, up, serving(uuidPath(modstore.Info), []byte(`{"Version":"v1.5.0","Time":"2024-01-23T18:54:04Z"}`)))
	p := startProxy(t, "", modproxy.Options{Upstream: hostile.URL})
	code, header, body := fetch(t, p.URL+uuidPath(modstore.Info))
	if code != http.StatusForbidden || !strings.Contains(body, "v1.5.0") {
		t.Errorf(".info of another version: %d %q, want 403 naming v1.5.0", code, body)
	}
	checkReason(t, ".info of another version", header, body)
	checkNotStored(t, p, modstore.Info)
}

// TestHostileUpstreamList has the upstream fail the version list after
// the store was warmed: the list is answered from the store.
func TestHostileUpstreamList(t *testing.T) {
	up := upstream(t)
	var failList atomic.Bool
	hostile := startHostileUpstream(t, up, func(w http.ResponseWriter, r *http.Request) bool {
		if !failList.Load() || r.URL.Path != "/"+uuidModule+"/@v/list" {
			return false
		}
		http.Error(w, "upstream broken", http.StatusInternalServerError)
		return true
	})
	p := startProxy(t, "", modproxy.Options{Upstream: hostile.URL})
	runGo(t, t.TempDir(), goEnv(t, p.URL), false, "mod", "download", uuidModule+"@"+uuidVersion)

	failList.Store(true)
	code, _, body := fetch(t, p.URL+"/"+uuidModule+"/@v/list")
	if code != http.StatusOK || strings.Fields(body) == nil || !strings.Contains("\n"+body, "\n"+uuidVersion+"\n") {
		t.Errorf("list with a failing upstream: %d %q, want 200 listing %s", code, body, uuidVersion)
	}
}

// TestCorruptedRecord writes garbage over a stored record: a proxy that
// reads it (here one started on the same store, as after a restart or on
// another replica) answers 5xx with a reason instead of serving the file,
// and the go command fails rather than taking bytes no record vouches
// for. The proxy that stored the file keeps the record it wrote in memory
// and serves the file, which still matches it.
func TestCorruptedRecord(t *testing.T) {
	up := upstream(t)
	first := startProxy(t, "", modproxy.Options{Upstream: up})
	if code, _, body := fetch(t, first.URL+uuidPath(modstore.Zip)); code != http.StatusOK {
		t.Fatalf("GET zip: %d %q", code, body)
	}
	p := startProxy(t, first.Store.Root(), modproxy.Options{Upstream: up})
	key, err := modstore.RecordKey(uuidModule, uuidVersion, modstore.Zip)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Store.Root(), filepath.FromSlash(key)), []byte("{\"module\": garbage\x00\xff"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, header, body := fetch(t, p.URL+uuidPath(modstore.Zip))
	if code < 500 || !strings.Contains(body, "record") {
		t.Errorf("GET zip with a corrupted record: %d %q, want 5xx naming the record", code, body)
	}
	checkReason(t, "corrupted record", header, body)

	out := runGo(t, t.TempDir(), goEnv(t, p.URL), true, "mod", "download", uuidModule+"@"+uuidVersion)
	if !strings.Contains(out, "record") {
		t.Errorf("go mod download with a corrupted record does not print the proxy's reason:\n%s", out)
	}
	if code, _, _ := fetch(t, first.URL+uuidPath(modstore.Zip)); code != http.StatusOK {
		t.Errorf("GET zip from the proxy that verified it: %d, want 200 (the file matches the record it wrote)", code)
	}
}

// TestCorruptedLargeFile stores a zip larger than the proxy checks before
// sending, with a record whose SHA-256 is not the file's. The proxy finds
// out only as it streams: the client must see the body cut short, never a
// whole body, and the file is quarantined.
func TestCorruptedLargeFile(t *testing.T) {
	const mod, version = "example.com/big", "v1.0.0"
	dir := t.TempDir()
	content := bytes.Repeat([]byte("0123456789abcdef"), (17<<20)/16)
	storeFile(t, dir, mod, version, modstore.Zip, content, true)
	key, err := modstore.ModuleKey(mod, version, modstore.Zip)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, dir, modproxy.Options{Offline: true})
	target := p.URL + "/" + mod + "/@v/" + version + ".zip"

	resp, err := http.Get(target)
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil || int64(len(body)) == resp.ContentLength {
			t.Errorf("GET of a corrupted large zip: %s, %d of %d bytes, read error %v: want the body cut short", resp.Status, len(body), resp.ContentLength, rerr)
		}
	}

	if code, _, body := fetch(t, target); code != http.StatusNotFound {
		t.Errorf("GET after the corruption was found: %d %q, want 404", code, body)
	}
	var quarantined []string
	for _, f := range storeFiles(t, dir) {
		if strings.HasPrefix(f, "quarantine/") && strings.HasSuffix(f, "/"+key) {
			quarantined = append(quarantined, f)
		}
	}
	if len(quarantined) != 1 {
		t.Errorf("quarantined copies of %s: %q, want one; the store holds %q", key, quarantined, storeFiles(t, dir))
	}
	if _, err := p.Store.Open(context.Background(), key); !errors.Is(err, modstore.ErrNotExist) {
		t.Errorf("open %s after quarantine: %v, want not stored", key, err)
	}
}

// TestReplacedSinceCached: the proxy keeps the records it has read in
// memory. When another replica has since replaced a file and its record
// (as after a quarantine and a new fetch), the file no longer matches the
// record in memory: the proxy reads the store's record again and serves
// the new file, quarantining nothing. A small file and a streamed one.
func TestReplacedSinceCached(t *testing.T) {
	for _, size := range []int{1 << 10, 2 << 20} {
		const mod, version = "example.com/replaced", "v1.0.0"
		dir := t.TempDir()
		old := bytes.Repeat([]byte("old!"), size/4)
		storeFile(t, dir, mod, version, modstore.Zip, old, false)
		p := startProxy(t, dir, modproxy.Options{Offline: true})
		target := p.URL + "/" + mod + "/@v/" + version + ".zip"
		if code, _, body := fetch(t, target); code != http.StatusOK || body != string(old) {
			t.Fatalf("%d bytes: first GET: %d, %d bytes", size, code, len(body))
		}
		// Another replica replaces both, as its fetch after a quarantine
		// would.
		key, _ := modstore.ModuleKey(mod, version, modstore.Zip)
		for _, k := range []string{key, key + modstore.RecordSuffix} {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(k))); err != nil {
				t.Fatal(err)
			}
		}
		replaced := bytes.Repeat([]byte("new!"), size/4)
		storeFile(t, dir, mod, version, modstore.Zip, replaced, false)
		if code, _, body := fetch(t, target); code != http.StatusOK || body != string(replaced) {
			t.Errorf("%d bytes: GET after another replica replaced it: %d, %d bytes, new content %v", size, code, len(body), body == string(replaced))
		}
		for _, f := range storeFiles(t, dir) {
			if strings.HasPrefix(f, "quarantine/") {
				t.Errorf("%d bytes: %s quarantined", size, f)
			}
		}
	}
}
