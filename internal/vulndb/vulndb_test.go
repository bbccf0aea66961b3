package vulndb

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/vuln/scan"
)

// goVulnDB is the Go vulnerability database snapshot kept for tests.
const goVulnDB = "../../testdata/govulndb/osv.tar.gz"

var importTime = time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC)

func TestImportGoDatabase(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "db")
	res, err := Import(context.Background(), goVulnDB, dest, ImportOptions{Now: importTime})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 4291 {
		t.Errorf("entries = %d, want 4291", res.Entries)
	}
	// golang/vulndb's data/osv entries carry no modification times: the
	// database's age is unknown, not the import's.
	if !res.Undated || !res.Modified.IsZero() || res.AgeKnown() || res.Age(importTime) < 100*365*24*time.Hour {
		t.Errorf("modified = %v (undated %v, age %v), want no date and an unknown age", res.Modified, res.Undated, res.Age(importTime))
	}
	if res.Modules < 1000 {
		t.Errorf("modules = %d, want the Go database's thousand-odd modules", res.Modules)
	}

	// The same entries from a directory give the same database, byte for byte.
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", goVulnDB, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	res2, err := Import(context.Background(), filepath.Join(dir, "osv"), filepath.Join(t.TempDir(), "db"), ImportOptions{Now: importTime})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Digest != res.Digest {
		t.Errorf("directory import digest %s != archive import digest %s", res2.Digest, res.Digest)
	}

	// govulncheck reads it: x/text v0.3.5 has the Parse out-of-bounds read.
	var out bytes.Buffer
	cmd := scan.Command(context.Background(), "-db", res.URL, "-mode", "query", "-format", "json", "golang.org/x/text@v0.3.5")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("govulncheck -mode query: %v\n%s", err, out.String())
	}
	for _, id := range []string{"GO-2021-0113", "GO-2022-1059"} {
		if !strings.Contains(out.String(), `"id": "`+id+`"`) {
			t.Errorf("govulncheck did not find %s for golang.org/x/text@v0.3.5", id)
		}
	}
}

// writeEntries writes OSV entries as files in a new directory.
func writeEntries(t *testing.T, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range entries {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func entry(id, module, modified string) string {
	return `{"id":"` + id + `","modified":"` + modified + `","affected":[{"package":{"name":"` + module +
		`","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}],"database_specific":{"url":"https://example.invalid/` + id + `"}}`
}

func TestImportRejectsBadEntries(t *testing.T) {
	good := entry("GO-2099-0001", "example.com/m", "2026-01-01T00:00:00Z")
	dest := filepath.Join(t.TempDir(), "db")
	if _, err := Import(context.Background(), writeEntries(t, map[string]string{"GO-2099-0001.json": good}), dest, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !before.Modified.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("modified = %v, want the newest entry's", before.Modified)
	}
	for name, tc := range map[string]struct{ body, want string }{
		"truncated JSON":    {`{"id": "GO-2099-0002", "affe`, "invalid JSON"},
		"path in the id":    {entry("../../etc/passwd", "m", "2026-01-01T00:00:00Z"), "not a plain identifier"},
		"no id":             {`{"affected": []}`, "without an id"},
		"bad review status": {`{"id":"GO-2099-0003","database_specific":{"review_status":"MAYBE"}}`, "review_status"},
		"bad time":          {`{"id":"GO-2099-0004","modified":"yesterday"}`, "invalid"},
		"duplicate id":      {entry("GO-2099-0001", "example.com/other", "2026-01-01T00:00:00Z"), "different content"},
	} {
		t.Run(name, func(t *testing.T) {
			src := writeEntries(t, map[string]string{"GO-2099-0001.json": good, "bad.json": tc.body})
			_, err := Import(context.Background(), src, dest, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "bad.json") && !strings.Contains(err.Error(), "GO-2099-0001.json") {
				t.Errorf("error %q does not name the file", err)
			}
			after, err := Open(dest)
			if err != nil || after.Digest != before.Digest {
				t.Errorf("the database was changed by a failed import: %v", err)
			}
		})
	}
	if _, err := Import(context.Background(), t.TempDir(), dest, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "no Go OSV entries") {
		t.Errorf("empty directory: err = %v", err)
	}
	if _, err := Import(context.Background(), filepath.Join(t.TempDir(), "missing"), dest, ImportOptions{}); err == nil {
		t.Error("missing source: no error")
	}
	notDB := t.TempDir()
	os.WriteFile(filepath.Join(notDB, "precious.txt"), []byte("x"), 0o644)
	if _, err := Import(context.Background(), writeEntries(t, map[string]string{"a.json": good}), notDB, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "not a vulnerability database") {
		t.Errorf("import over a non-database directory: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(notDB, "precious.txt")); err != nil {
		t.Error("import destroyed a directory that was not a database")
	}
}

func TestImportSkipsOtherEcosystems(t *testing.T) {
	src := writeEntries(t, map[string]string{
		"GO-2099-0001.json":   entry("GO-2099-0001", "example.com/m", "2026-01-01T00:00:00Z"),
		"GHSA-xxxx-yyyy.json": `{"id":"GHSA-xxxx-yyyy","affected":[{"package":{"name":"left-pad","ecosystem":"npm"}}]}`,
	})
	res, err := Import(context.Background(), src, filepath.Join(t.TempDir(), "db"), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 1 || res.Skipped != 1 {
		t.Errorf("entries %d skipped %d, want 1 and 1", res.Entries, res.Skipped)
	}
}

// mirrorServer serves the database in dir the way vuln.go.dev does
// (gzip files without Content-Encoding), or as plain files, and counts the
// entries it serves.
func mirrorServer(t *testing.T, dir string, gz bool, served *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if gz {
			if !strings.HasSuffix(name, ".json.gz") {
				http.NotFound(w, r)
				return
			}
			name = strings.TrimSuffix(name, ".gz")
		} else if !strings.HasSuffix(name, ".json") {
			http.NotFound(w, r)
			return
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(name, "ID/") {
			served.Add(1)
		}
		if gz {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data = b.Bytes()
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUpdateFromMirror(t *testing.T) {
	for _, gz := range []bool{true, false} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		t.Run(name, func(t *testing.T) {
			upstream := filepath.Join(t.TempDir(), "upstream")
			src := writeEntries(t, map[string]string{
				"GO-2099-0001.json": entry("GO-2099-0001", "example.com/a", "2026-01-01T00:00:00Z"),
				"GO-2099-0002.json": entry("GO-2099-0002", "example.com/b", "2026-01-02T00:00:00Z"),
			})
			if _, err := Import(context.Background(), src, upstream, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			var served atomic.Int32
			srv := mirrorServer(t, upstream, gz, &served)
			local := filepath.Join(t.TempDir(), "db")

			res, err := Update(context.Background(), srv.URL, local, UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Fetched != 2 || res.Entries != 2 || served.Load() != 2 {
				t.Errorf("first update: fetched %d entries %d served %d, want 2 2 2", res.Fetched, res.Entries, served.Load())
			}
			want, _ := Open(upstream)
			if res.Digest != want.Digest {
				t.Errorf("mirror copy digest %s, upstream %s", res.Digest, want.Digest)
			}

			res, err = Update(context.Background(), srv.URL, local, UpdateOptions{})
			if err != nil || !res.UpToDate {
				t.Fatalf("second update: %+v, %v; want up to date", res, err)
			}

			// Upstream changes one entry: only that one is fetched.
			os.WriteFile(filepath.Join(src, "GO-2099-0002.json"), []byte(entry("GO-2099-0002", "example.com/b", "2026-02-01T00:00:00Z")), 0o644)
			if _, err := Import(context.Background(), src, upstream, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			served.Store(0)
			res, err = Update(context.Background(), srv.URL, local, UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Fetched != 1 || served.Load() != 1 {
				t.Errorf("incremental update fetched %d (served %d), want 1", res.Fetched, served.Load())
			}
			want, _ = Open(upstream)
			if res.Digest != want.Digest {
				t.Errorf("after the incremental update the copy differs from upstream")
			}
		})
	}
}

func TestUpdateRefusesBadMirrors(t *testing.T) {
	local := filepath.Join(t.TempDir(), "db")
	src := writeEntries(t, map[string]string{"GO-2099-0001.json": entry("GO-2099-0001", "example.com/a", "2026-01-01T00:00:00Z")})
	if _, err := Import(context.Background(), src, local, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := Open(local)
	newer, _ := json.Marshal(dbMeta{Modified: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	for name, handler := range map[string]http.HandlerFunc{
		"server error": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) },
		"garbage index": func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "db.json") {
				w.Write(newer)
				return
			}
			w.Write([]byte("\x1f\x8bnot really gzip"))
		},
		"hostile id": func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "db.json") {
				w.Write(newer)
				return
			}
			w.Write([]byte(`[{"path":"m","vulns":[{"id":"../../../etc/passwd"}]}]`))
		},
		"entry under the wrong name": func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.Contains(r.URL.Path, "db.json"):
				w.Write(newer)
			case strings.Contains(r.URL.Path, "modules.json"):
				w.Write([]byte(`[{"path":"m","vulns":[{"id":"GO-2100-0001"}]}]`))
			default:
				w.Write([]byte(entry("GO-2100-0002", "m", "2026-06-01T00:00:00Z")))
			}
		},
		"oversized entry": func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.Contains(r.URL.Path, "db.json"):
				w.Write(newer)
			case strings.Contains(r.URL.Path, "modules.json"):
				w.Write([]byte(`[{"path":"m","vulns":[{"id":"GO-2100-0001"}]}]`))
			default:
				w.Write(bytes.Repeat([]byte(" "), maxEntrySize+10))
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			if _, err := Update(context.Background(), srv.URL, local, UpdateOptions{}); err == nil {
				t.Fatal("no error")
			} else if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			after, err := Open(local)
			if err != nil || after.Digest != before.Digest {
				t.Errorf("a failed update changed the local database: %v", err)
			}
		})
	}
	if _, err := Update(context.Background(), "ftp://example.com", local, UpdateOptions{}); err == nil {
		t.Error("ftp mirror accepted")
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "hegui vulndb import") {
		t.Errorf("missing database: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a vulnerability database") {
		t.Errorf("empty directory: %v", err)
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(entry("GO-2099-0001", "example.com/m", "2026-01-01T00:00:00Z")))
	f.Add([]byte(`{"id":"GO-1","affected":[{"package":{"name":""}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		if err != nil {
			return
		}
		if !ValidID(e.ID) {
			t.Fatalf("accepted id %q", e.ID)
		}
		for _, m := range e.Modules() {
			e.LatestFixed(m)
			e.FixedAfter(m, "v0.0.1")
		}
	})
}
