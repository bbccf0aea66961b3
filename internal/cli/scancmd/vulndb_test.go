package scancmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/cli/cmdutil/cmdtest"
	"hegui.dev/hegui/internal/vulndb"
)

// goVulnDB is the Go vulnerability database snapshot kept for tests.
const goVulnDB = "../../../testdata/govulndb/osv.tar.gz"

// testEnv is an Env over buffers whose environment is vars.
func testEnv(vars map[string]string) (env *cmdutil.Env, stdout, stderr *bytes.Buffer) {
	return cmdtest.Env(nil, vars)
}

// osvEntry is a Go OSV entry for module, modified at modified ("" for an
// entry without a modification time), in ecosystem.
func osvEntry(id, module, modified, ecosystem string) string {
	mod := ""
	if modified != "" {
		mod = `"modified":"` + modified + `",`
	}
	return `{"id":"` + id + `",` + mod + `"affected":[{"package":{"name":"` + module + `","ecosystem":"` + ecosystem +
		`"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}]}`
}

// osvDir writes OSV entries, file name to content, into a new directory.
func osvDir(t *testing.T, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range entries {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openDB(t *testing.T, dir string) *vulndb.Info {
	t.Helper()
	info, err := vulndb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// dbLines is what the commands print about a database, but for the
// "modified:" line, whose age changes with the clock.
func dbLines(info *vulndb.Info) string {
	return fmt.Sprintf("database:  %s\nentries:   %d (for %d modules)\ndigest:    %s\n", info.Path, info.Entries, info.Modules, info.Digest)
}

func withoutModified(out string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if !strings.HasPrefix(line, "modified:  ") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestRunVulnDBImportGoDatabase imports the Go database snapshot into the
// database $HEGUI_VULNDB names, dated by --modified, and describes it with
// info, as text and as JSON.
func TestRunVulnDBImportGoDatabase(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "db")
	vars := map[string]string{vulndb.EnvPath: db}
	env, stdout, stderr := testEnv(vars)
	if err := RunVulnDBImport(ctx, env, VulnDBImportOptions{Source: goVulnDB, Modified: "2026-08-21"}); err != nil {
		t.Fatal(err)
	}
	info := openDB(t, db)
	if info.Entries != 4291 || !info.Modified.Equal(time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("imported %d entries modified %v, want 4291 modified 2026-08-21", info.Entries, info.Modified)
	}
	if got := withoutModified(stdout.String()); got != dbLines(info) {
		t.Errorf("import printed\n%s\nwant\n%s", got, dbLines(info))
	}
	if !strings.Contains(stdout.String(), "\nmodified:  2026-08-21 (") {
		t.Errorf("import printed\n%s\nwant the date given", stdout)
	}
	if want := "importing OSV entries from " + goVulnDB + " ...\n"; stderr.String() != want {
		t.Errorf("import said %q, want %q", stderr, want)
	}

	env, text, _ := testEnv(vars)
	if err := RunVulnDBInfo(ctx, env, VulnDBInfoOptions{}); err != nil {
		t.Fatal(err)
	}
	if withoutModified(text.String()) != dbLines(info) || !strings.Contains(text.String(), "\nmodified:  2026-08-21 (") {
		t.Errorf("info printed\n%s\nwant\n%s", text, stdout)
	}

	env, js, _ := testEnv(nil)
	if err := RunVulnDBInfo(ctx, env, VulnDBInfoOptions{DB: db, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Entries    int
		Digest     string
		AgeDays    *float64
		AgeUnknown bool
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	wantDays := time.Since(info.Modified).Hours() / 24
	if got.Entries != 4291 || got.Digest != info.Digest || got.AgeUnknown || got.AgeDays == nil || math.Abs(*got.AgeDays-wantDays) > 0.01 {
		t.Errorf("info --json: %s\nwant %d entries, digest %s, %.2f days old", js, info.Entries, info.Digest, wantDays)
	}
}

// TestRunVulnDBImportUndated: entries without modification times make a
// database of unknown age, which import and info say; entries of other
// ecosystems are skipped and counted.
func TestRunVulnDBImportUndated(t *testing.T) {
	ctx := context.Background()
	src := osvDir(t, map[string]string{
		"GO-2099-0001.json":   osvEntry("GO-2099-0001", "example.com/a", "", "Go"),
		"PYSEC-2099-1.json":   osvEntry("PYSEC-2099-1", "requests", "", "PyPI"),
		"GO-2099-0002.json":   osvEntry("GO-2099-0002", "example.com/b", "", "Go"),
		"not-an-entry.txt":    "ignored",
		"GO-2099-0003.json":   osvEntry("GO-2099-0003", "example.com/a", "", "Go"),
		"PYSEC-2099-2.json":   osvEntry("PYSEC-2099-2", "django", "", "PyPI"),
		"GHSA-xxxx-yyyy.json": osvEntry("GHSA-xxxx-yyyy", "lodash", "", "npm"),
	})
	db := filepath.Join(t.TempDir(), "db")
	env, stdout, stderr := testEnv(nil)
	if err := RunVulnDBImport(ctx, env, VulnDBImportOptions{Source: src, DB: db}); err != nil {
		t.Fatal(err)
	}
	info := openDB(t, db)
	if info.Entries != 3 || info.Modules != 2 || info.AgeKnown() {
		t.Errorf("imported %+v, want 3 entries for 2 modules, undated", info)
	}
	for _, want := range []string{"skipped 3 entries of other ecosystems\n", "note: the entries carry no modification times"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("import said\n%s\nwant %q", stderr, want)
		}
	}
	if !strings.Contains(stdout.String(), "\nmodified:  unknown (age unknown") || withoutModified(stdout.String()) != dbLines(info) {
		t.Errorf("import printed\n%s", stdout)
	}

	env, js, _ := testEnv(nil)
	if err := RunVulnDBInfo(ctx, env, VulnDBInfoOptions{DB: db, JSON: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"ageDays": null`) || !strings.Contains(js.String(), `"ageUnknown": true`) {
		t.Errorf("info --json of an undated database:\n%s", js)
	}
}

// TestRunVulnDBImportFailures: a bad --modified is a usage error; a date in
// the future and a bad entry fail, and leave the database as it was.
func TestRunVulnDBImportFailures(t *testing.T) {
	ctx := context.Background()
	good := osvDir(t, map[string]string{"GO-2099-0001.json": osvEntry("GO-2099-0001", "example.com/a", "2026-01-01T00:00:00Z", "Go")})
	db := filepath.Join(t.TempDir(), "db")
	env, _, _ := testEnv(nil)
	if err := RunVulnDBImport(ctx, env, VulnDBImportOptions{Source: good, DB: db}); err != nil {
		t.Fatal(err)
	}
	before := openDB(t, db)

	bad := osvDir(t, map[string]string{
		"GO-2099-0001.json": osvEntry("GO-2099-0001", "example.com/a", "2026-01-01T00:00:00Z", "Go"),
		"GO-2099-0002.json": `{"id":"GO-2099-0002","affected":[`,
	})
	for _, c := range []struct {
		name  string
		o     VulnDBImportOptions
		usage bool
		want  string
	}{
		{"bad --modified", VulnDBImportOptions{Source: good, DB: db, Modified: "21.08.2026"}, true, `--modified: "21.08.2026" is not a date`},
		{"future --modified", VulnDBImportOptions{Source: good, DB: db, Modified: "2099-01-01"}, false, "in the future"},
		{"bad entry", VulnDBImportOptions{Source: bad, DB: db}, false, "GO-2099-0002.json"},
		{"missing source", VulnDBImportOptions{Source: filepath.Join(good, "nothing"), DB: db}, false, "read OSV entries"},
	} {
		env, stdout, _ := testEnv(nil)
		err := RunVulnDBImport(ctx, env, c.o)
		var u cmdutil.UsageError
		if err == nil || errors.As(err, &u) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q (usage error %v)", c.name, err, c.want, c.usage)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: printed %q", c.name, stdout)
		}
		if after := openDB(t, db); after.Digest != before.Digest {
			t.Errorf("%s: the database changed", c.name)
		}
	}
}

// TestRunVulnDBInfoCorrupt: info refuses a missing database, a directory
// that is none, and one whose index is damaged.
func TestRunVulnDBInfoCorrupt(t *testing.T) {
	ctx := context.Background()
	src := osvDir(t, map[string]string{"GO-2099-0001.json": osvEntry("GO-2099-0001", "example.com/a", "2026-01-01T00:00:00Z", "Go")})
	db := filepath.Join(t.TempDir(), "db")
	env, _, _ := testEnv(nil)
	if err := RunVulnDBImport(ctx, env, VulnDBImportOptions{Source: src, DB: db}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(db, "index", "modules.json"), []byte(`[{"path": "example.com/a", "vulns": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ dir, want string }{
		"missing":     {filepath.Join(t.TempDir(), "none"), "no vulnerability database at"},
		"not one":     {t.TempDir(), "is not a vulnerability database"},
		"bad modules": {db, "modules.json"},
	} {
		env, stdout, _ := testEnv(nil)
		err := RunVulnDBInfo(ctx, env, VulnDBInfoOptions{DB: c.dir})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: printed %q", name, stdout)
		}
	}
}

// TestRunVulnDBUpdate updates from a mirror of plain .json files named by
// $HEGUI_VULNDB_MIRROR: everything at first, nothing when it is up to
// date, only what changed after; --mirror overrides the environment.
func TestRunVulnDBUpdate(t *testing.T) {
	ctx := context.Background()
	src := osvDir(t, map[string]string{
		"GO-2099-0001.json": osvEntry("GO-2099-0001", "example.com/a", "2026-01-01T00:00:00Z", "Go"),
		"GO-2099-0002.json": osvEntry("GO-2099-0002", "example.com/b", "2026-01-02T00:00:00Z", "Go"),
	})
	upstream := filepath.Join(t.TempDir(), "upstream")
	if _, err := vulndb.Import(ctx, src, upstream, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var served atomic.Int32
	files := http.FileServer(http.Dir(upstream))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ID/") {
			served.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)

	local := filepath.Join(t.TempDir(), "db")
	vars := map[string]string{vulndb.EnvPath: local, "HEGUI_VULNDB_MIRROR": srv.URL}
	update := func(o VulnDBUpdateOptions) (stdout, stderr string, err error) {
		t.Helper()
		served.Store(0)
		env, out, errOut := testEnv(vars)
		err = RunVulnDBUpdate(ctx, env, o)
		return out.String(), errOut.String(), err
	}

	stdout, stderr, err := update(VulnDBUpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := openDB(t, upstream)
	got := openDB(t, local)
	if got.Digest != want.Digest || served.Load() != 2 {
		t.Errorf("first update: digest %s (upstream %s), %d entries served, want 2", got.Digest, want.Digest, served.Load())
	}
	if wantErr := "updating " + local + " from " + srv.URL + " ...\n  2/2 entries\nfetched 2 entries\n"; stderr != wantErr {
		t.Errorf("first update said %q, want %q", stderr, wantErr)
	}
	if withoutModified(stdout) != dbLines(got) || !strings.Contains(stdout, "modified:  2026-01-02 (") {
		t.Errorf("first update printed\n%s\nwant\n%s", stdout, dbLines(got))
	}

	_, stderr, err = update(VulnDBUpdateOptions{})
	if err != nil || !strings.HasSuffix(stderr, "already up to date\n") || served.Load() != 0 {
		t.Errorf("second update: %v, %d entries served, said %q; want already up to date", err, served.Load(), stderr)
	}

	// Upstream changes one entry: only that one is fetched.
	os.WriteFile(filepath.Join(src, "GO-2099-0002.json"), []byte(osvEntry("GO-2099-0002", "example.com/b", "2026-02-01T00:00:00Z", "Go")), 0o644)
	if _, err := vulndb.Import(ctx, src, upstream, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = update(VulnDBUpdateOptions{})
	if err != nil || !strings.HasSuffix(stderr, "fetched 1 entries\n") || served.Load() != 1 {
		t.Errorf("incremental update: %v, %d entries served, said %q; want one fetched", err, served.Load(), stderr)
	}
	if got := openDB(t, local); got.Digest != openDB(t, upstream).Digest {
		t.Error("after the incremental update the copy differs from upstream")
	}
	before := openDB(t, local)

	// --mirror wins over $HEGUI_VULNDB_MIRROR; a mirror that is down leaves
	// the database as it was, even with --force.
	for name, o := range map[string]VulnDBUpdateOptions{
		"mirror down": {Mirror: down.URL, Force: true},
		"not http":    {Mirror: "ftp://mirror.example.internal/govulndb"},
	} {
		stdout, stderr, err := update(o)
		if err == nil || served.Load() != 0 || stdout != "" || !strings.Contains(stderr, " from "+o.Mirror+" ...") {
			t.Errorf("%s: %v, %d entries served from $HEGUI_VULNDB_MIRROR, printed %q, said %q", name, err, served.Load(), stdout, stderr)
		}
		if got := openDB(t, local); got.Digest != before.Digest {
			t.Errorf("%s: the database changed", name)
		}
	}
}
