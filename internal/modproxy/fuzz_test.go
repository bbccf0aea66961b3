package modproxy_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
)

// requestSeeds are real request paths of the GOPROXY and checksum-database
// protocols, and near misses.
var requestSeeds = []string{
	"/golang.org/x/mod/@v/list",
	"/golang.org/x/mod/@latest",
	"/golang.org/x/mod/@v/v0.42.0.info",
	"/golang.org/x/mod/@v/v0.42.0.mod",
	"/golang.org/x/mod/@v/v0.42.0.zip",
	"/golang.org/x/mod/@v/master.info",
	"/golang.org/x/mod/@v/v0.0.0-20240101000000-0123456789ab.zip",
	"/github.com/!burnt!sushi/toml/@v/v1.4.0.zip",
	"/github.com/!azure/azure-sdk-for-go/sdk/azcore/@v/list",
	"/github.com/google/uuid/@v/v1.6.0.zip",
	"/github.com/docker/docker/@v/v28.0.0+incompatible.mod",
	"/gopkg.in/yaml.v3/@v/v3.0.1.info",
	"/example.com/m/v2/@v/v2.0.0-rc.1.zip",
	"/sumdb/sum.golang.org/supported",
	"/sumdb/sum.golang.org/latest",
	"/sumdb/sum.golang.org/lookup/golang.org/x/mod@v0.42.0",
	"/sumdb/sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.4.0",
	"/sumdb/sum.golang.org/tile/8/0/001",
	"/sumdb/sum.golang.org/tile/8/1/x001/234.p/5",
	"/sumdb/sum.golang.org/tile/8/data/x123/456",
	"/x/@v/../../etc/passwd",
	"/github.com/Azure/x/@v/list",
	"/golang.org/x/mod/@v/V1.0.0.zip",
	"/golang.org/x/mod/@v/latest.mod",
	"/sumdb/sum.golang.org/lookup/..@v1",
	"/healthz",
	"",
	"/",
}

// FuzzParseRequest checks the request path parser: it never panics, and
// what it accepts is a valid module path and version whose escaped form
// is exactly the path asked for, so that no two request paths name the
// same stored file.
func FuzzParseRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		kind, mod, version, err := modproxy.ParseRequestForTest(path)
		if err != nil {
			return
		}
		switch kind {
		case "sumdb":
			if mod != "" {
				if err := module.Check(mod, version); err != nil {
					t.Errorf("%q: lookup of %s@%s accepted: %v", path, mod, version, err)
				}
			}
			return
		case "list", "latest", modstore.Info, modstore.Mod, modstore.Zip:
		default:
			t.Fatalf("%q: unknown kind %q", path, kind)
		}
		if err := module.CheckPath(mod); err != nil {
			t.Errorf("%q: module path %q accepted: %v", path, mod, err)
		}
		esc, err := module.EscapePath(mod)
		if err != nil {
			t.Fatalf("%q: module path %q does not escape: %v", path, mod, err)
		}
		if back, err := module.UnescapePath(esc); err != nil || back != mod {
			t.Errorf("%q: module path %q escapes to %q, which unescapes to %q, %v", path, mod, esc, back, err)
		}
		var want string
		switch kind {
		case "list":
			want = "/" + esc + "/@v/list"
		case "latest":
			want = "/" + esc + "/@latest"
		default:
			ev, err := module.EscapeVersion(version)
			if err != nil {
				t.Fatalf("%q: version %q does not escape: %v", path, version, err)
			}
			want = "/" + esc + "/@v/" + ev + "." + kind
			if kind == modstore.Info && module.CanonicalVersion(version) != version {
				// A query the upstream resolves: nothing is stored under it.
				break
			}
			if err := module.Check(mod, version); err != nil {
				t.Errorf("%q: %s@%s accepted: %v", path, mod, version, err)
			}
			if module.CanonicalVersion(version) != version {
				t.Errorf("%q: non-canonical version %q accepted for a .%s", path, version, kind)
			}
			if _, err := modstore.ModuleKey(mod, version, kind); err != nil {
				t.Errorf("%q: accepted, but the store has no key for it: %v", path, err)
			}
		}
		if path != want {
			t.Errorf("%q: accepted as %s %s@%s, whose path is %q", path, kind, mod, version, want)
		}
	})
}

// FuzzServe sends arbitrary paths to an offline proxy over an empty store:
// whatever the path, the answer is not a server error (a 502 needs a
// stored file that fails its check, and there is none), an error answer
// is a one-line plain-text reason, and nothing is written to the store.
func FuzzServe(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add("GET", s)
	}
	f.Add("HEAD", "/golang.org/x/mod/@v/v0.42.0.zip")
	f.Add("POST", "/golang.org/x/mod/@v/list")
	f.Add("GET", "/example.com/"+strings.Repeat("a", 300)+"/@v/v1.0.0.zip")
	// The store holds no object, but the directories a stored module and
	// a checksum-database lookup leave behind exist, as on a proxy in use.
	dir := f.TempDir()
	for _, d := range []string{"modules/example.com/m/@v", "sumdb/sum.golang.org/lookup/example.com"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	store, err := modstore.NewDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	p, err := modproxy.New(modproxy.Options{Store: store, Offline: true, TempDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		if method != http.MethodGet && method != http.MethodHead {
			// Other methods are all refused the same way; keep the inputs
			// to the paths.
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "/", nil)
		req.URL.Path = path
		w := httptest.NewRecorder()
		p.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Errorf("%s %q: %d %q", method, path, w.Code, w.Body.String())
		}
		if w.Code >= 400 && method == http.MethodGet {
			body := strings.TrimSuffix(w.Body.String(), "\n")
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") || body == "" || strings.Contains(body, "\n") {
				t.Errorf("%s %q: %d with %q, body %q: want a one-line plain-text reason", method, path, w.Code, w.Header().Get("Content-Type"), w.Body.String())
			}
		}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("%s %q: the store now holds %s", method, path, p)
			}
			return nil
		})
	})
}
