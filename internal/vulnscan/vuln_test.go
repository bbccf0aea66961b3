package vulnscan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/openvex/go-vex/pkg/vex"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/schematest"
	"hegui.dev/hegui/internal/vulndb"
	vulnengine "hegui.dev/hegui/internal/vulnscan/engine"
)

// TestMain lets this test binary serve as the engine's process, and
// removes what the tests share across the run (testDB, govulncheck) at its
// end.
func TestMain(m *testing.M) {
	vulnengine.RunIfRequested()
	code := m.Run()
	for _, dir := range sharedDirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// TestEngineMarker checks that Scan asks for the engine the way package
// engine listens for it.
func TestEngineMarker(t *testing.T) {
	if engineMarker != vulnengine.Marker {
		t.Fatalf("vuln asks for the engine with %s, package engine listens for %s", engineMarker, vulnengine.Marker)
	}
}

// sharedDirs are temporary directories that live for the whole run.
var (
	sharedDirsMu sync.Mutex
	sharedDirs   []string
)

// shareDir records a directory for TestMain to remove.
func shareDir(dir string) {
	sharedDirsMu.Lock()
	defer sharedDirsMu.Unlock()
	sharedDirs = append(sharedDirs, dir)
}

// The fixtures use golang.org/x/text v0.3.5, which has GO-2021-0113
// (language.Parse, fixed in v0.3.7) and GO-2022-1059
// (language.ParseAcceptLanguage, fixed in v0.3.8).
const (
	reachMain = `package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() {
	tag, err := language.Parse("zh-Hans-CN")
	fmt.Println(tag, err)
}
`
	noReachMain = `package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() {
	fmt.Println(language.SimplifiedChinese.String())
}
`
	// oldGoMain calls into net/http, whose go1.22.0 version has several
	// known vulnerabilities fixed in later go1.22 releases.
	oldGoMain = `package main

import "net/http"

func main() {
	http.ListenAndServe("localhost:0", nil)
}
`
)

var (
	dbOnce sync.Once
	dbInfo *vulndb.Info
	dbErr  error
)

// testDB imports the Go vulnerability database snapshot once per run.
func testDB(t *testing.T) *vulndb.Info {
	t.Helper()
	dbOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hegui-vulndb-test-")
		if err != nil {
			dbErr = err
			return
		}
		shareDir(dir)
		var res *vulndb.ImportResult
		res, dbErr = vulndb.Import(context.Background(), "../../testdata/govulndb/osv.tar.gz", filepath.Join(dir, "db"), vulndb.ImportOptions{})
		if dbErr == nil {
			dbInfo = res.Info
		}
	})
	if dbErr != nil {
		t.Fatal(dbErr)
	}
	return dbInfo
}

// fixture writes a module that requires x/text v0.3.5 and resolves it
// through the module proxy; goToolchain, if set, is the Go release it is
// built and scanned with.
func fixture(t *testing.T, name, main string, goToolchain string) string {
	t.Helper()
	dir := t.TempDir()
	goMod := "module fixture.example/" + name + "\n\ngo 1.22\n"
	files := map[string]string{"go.mod": goMod, "main.go": main}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{}
	if goToolchain != "" {
		env = append(env, "GOTOOLCHAIN="+goToolchain)
	}
	if strings.Contains(main, "golang.org/x/text") {
		goCmd(t, dir, env, "get", "golang.org/x/text@v0.3.5")
	}
	goCmd(t, dir, env, "mod", "tidy")
	return dir
}

func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var (
	peerOnce sync.Once
	peerPath string
	peerErr  error
)

// govulncheck builds the govulncheck command of the golang.org/x/vuln
// version hegui links, the peer the findings are compared with.
func govulncheck(t *testing.T) string {
	t.Helper()
	peerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hegui-govulncheck-")
		if err != nil {
			peerErr = err
			return
		}
		shareDir(dir)
		peerPath = filepath.Join(dir, "govulncheck")
		out, err := exec.Command("go", "build", "-o", peerPath, "golang.org/x/vuln/cmd/govulncheck").CombinedOutput()
		if err != nil {
			peerErr = fmt.Errorf("build govulncheck: %v\n%s", err, out)
		}
	})
	if peerErr != nil {
		t.Fatal(peerErr)
	}
	return peerPath
}

// peerFindings runs the govulncheck command and classifies its output the
// way its text mode does: each vulnerability at its most precise finding.
func peerFindings(t *testing.T, db *vulndb.Info, dir string, env []string, args ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(govulncheck(t), append([]string{"-db", db.URL, "-format", "json"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"GOPROXY=off"}, env...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("govulncheck %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	out := map[string]string{}
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var m struct {
			Finding *struct {
				OSV   string `json:"osv"`
				Trace []struct {
					Module, Package, Function string
				} `json:"trace"`
			} `json:"finding"`
		}
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.Finding == nil {
			continue
		}
		top := m.Finding.Trace[0]
		level := "required"
		switch {
		case top.Function != "":
			level = "called"
		case top.Package != "":
			level = "imported"
		}
		k := m.Finding.OSV + " " + top.Module
		if rank(level) > rank(out[k]) {
			out[k] = level
		}
	}
	return out
}

func rank(level string) int {
	return map[string]int{"required": 1, "imported": 2, "called": 3}[level]
}

// ours maps "ID module" to status, with binary "linked" read as govulncheck's "called".
func ours(res *Result) map[string]string {
	out := map[string]string{}
	for _, f := range res.Findings {
		s := f.Status
		if s == format.VulnLinked {
			s = "called"
		}
		out[f.ID+" "+f.Module] = s
	}
	return out
}

func sameFindings(t *testing.T, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range want {
		if got[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: hegui %q, govulncheck %q", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: hegui %q, govulncheck nothing", k, v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("findings differ from the govulncheck command's:\n%s", strings.Join(diffs, "\n"))
	}
}

func find(res *Result, id, module string) *format.VulnFinding {
	for _, f := range res.Findings {
		if f.ID == id && f.Module == module {
			return f
		}
	}
	return nil
}

func TestSourceReachable(t *testing.T) {
	db := testDB(t)
	dir := fixture(t, "reach", reachMain, "")
	res, err := Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"."}, DB: db, MemoryBudget: DefaultMemoryBudget})
	if err != nil {
		t.Fatal(err)
	}
	f := find(res, "GO-2021-0113", "golang.org/x/text")
	if f == nil || f.Status != format.VulnCalled || !f.Reachable || f.Precision != format.PrecisionCallGraph {
		t.Fatalf("GO-2021-0113 = %+v, want called through the call graph", f)
	}
	if f.Fixed != "v0.3.7" || f.Version != "v0.3.5" {
		t.Errorf("version %s fixed %s, want v0.3.5 fixed in v0.3.7", f.Version, f.Fixed)
	}
	if !contains(f.Aliases, "CVE-2021-38561") {
		t.Errorf("aliases %v lack CVE-2021-38561", f.Aliases)
	}
	if len(f.Paths) == 0 || f.Paths[0][0].Symbol != "fixture.example/reach.main" || f.Paths[0][0].File != "main.go" {
		t.Errorf("call path %+v does not start at main in main.go", f.Paths)
	}
	if last := f.Paths[0][len(f.Paths[0])-1]; last.Symbol != "golang.org/x/text/language.Parse" {
		t.Errorf("call path ends at %s, want language.Parse", last.Symbol)
	}
	if g := find(res, "GO-2022-1059", "golang.org/x/text"); g == nil || g.Status != format.VulnImported || g.Reachable {
		t.Errorf("GO-2022-1059 = %+v, want imported, not reachable", g)
	}
	sameFindings(t, ours(res), peerFindings(t, db, dir, nil, "."))
}

func TestSourceNotReachable(t *testing.T) {
	db := testDB(t)
	dir := fixture(t, "noreach", noReachMain, "")
	res, err := Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"."}, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	f := find(res, "GO-2021-0113", "golang.org/x/text")
	if f == nil || f.Status != format.VulnImported || f.Reachable {
		t.Fatalf("GO-2021-0113 = %+v, want imported but not reachable", f)
	}
	if len(f.Paths) != 0 {
		t.Errorf("an unreachable finding has call paths: %+v", f.Paths)
	}
	sameFindings(t, ours(res), peerFindings(t, db, dir, nil, "."))

	_, _, st := vexStatement(t, db, res, "noreach", "GO-2021-0113")
	if st.Status != vex.StatusNotAffected || st.Justification != vex.VulnerableCodeNotInExecutePath {
		t.Errorf("OpenVEX statement for GO-2021-0113 = %+v, want not_affected / vulnerable_code_not_in_execute_path", st)
	}
}

func TestOpenVEXAndSARIFOfReachableFinding(t *testing.T) {
	db := testDB(t)
	dir := fixture(t, "reach", reachMain, "")
	res, err := Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"."}, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	doc, v, st := vexStatement(t, db, res, "reach", "GO-2021-0113")
	if st.Status != vex.StatusAffected || !strings.Contains(st.ActionStatement, "v0.3.7") {
		t.Errorf("OpenVEX statement for GO-2021-0113 = %+v, want affected with an upgrade to v0.3.7", st)
	}
	if len(st.Products) != 1 || len(st.Products[0].Subcomponents) == 0 || st.Products[0].Subcomponents[0].ID != "pkg:golang/golang.org/x/text@v0.3.5" {
		t.Errorf("statement products %+v", st.Products)
	}
	for _, s := range v.Statements {
		if err := s.Validate(); err != nil {
			t.Errorf("invalid statement: %v", err)
		}
	}
	goMod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	sarifLog, err := SARIF(doc, "test", goMod)
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateSARIF(t, sarifLog)
	if !bytes.Contains(sarifLog, []byte(`"codeFlows"`)) || !bytes.Contains(sarifLog, []byte(`"uri": "main.go"`)) {
		t.Errorf("SARIF log lacks the call path into main.go:\n%s", sarifLog)
	}
}

func TestBinaryMode(t *testing.T) {
	db := testDB(t)
	dir := fixture(t, "reach", reachMain, "")
	bin := filepath.Join(t.TempDir(), "reach")
	goCmd(t, dir, nil, "build", "-o", bin, ".")
	res, err := Scan(context.Background(), &Request{Binaries: []string{bin}, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	f := find(res, "GO-2021-0113", "golang.org/x/text")
	if f == nil || f.Status != format.VulnLinked || f.Precision != format.PrecisionBinarySymbols || !f.Reachable {
		t.Fatalf("GO-2021-0113 = %+v, want linked (binary symbols)", f)
	}
	if !contains(f.Symbols, "golang.org/x/text/language.Parse") {
		t.Errorf("symbols %v lack language.Parse", f.Symbols)
	}
	sameFindings(t, ours(res), peerFindings(t, db, t.TempDir(), nil, "-mode", "binary", bin))
}

// oldGo is the release whose standard library the old-Go tests scan;
// the go command fetches it through the module proxy.
const oldGo = "go1.22.0"

func TestOldStandardLibrary(t *testing.T) {
	db := testDB(t)
	dir := fixture(t, "oldgo", oldGoMain, oldGo)
	env := []string{"GOTOOLCHAIN=" + oldGo}
	if v := strings.TrimSpace(goCmd(t, dir, env, "env", "GOVERSION")); v != oldGo {
		t.Fatalf("the fixture's go command is %s, want %s", v, oldGo)
	}
	res, err := Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"."}, DB: db, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if res.GoVersion != oldGo {
		t.Errorf("scanned Go version %q, want %s", res.GoVersion, oldGo)
	}
	called := 0
	for _, f := range res.Findings {
		if f.Module != "stdlib" || f.Version != "v1.22.0" {
			t.Errorf("%s in %s@%s: want only go1.22.0 standard-library findings", f.ID, f.Module, f.Version)
		}
		if f.Status == format.VulnCalled {
			called++
		}
	}
	if called == 0 {
		t.Errorf("no called standard-library vulnerability in net/http of %s", oldGo)
	}
	t.Logf("%s: %d standard-library findings, %d called", oldGo, len(res.Findings), called)
	sameFindings(t, ours(res), peerFindings(t, db, dir, env, "."))

	// The same program compiled by that release, scanned as a binary.
	bin := filepath.Join(t.TempDir(), "oldgo")
	goCmd(t, dir, env, "build", "-o", bin, ".")
	bres, err := Scan(context.Background(), &Request{Binaries: []string{bin}, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if bres.GoVersion != oldGo {
		t.Errorf("binary scan: Go version %q, want %s", bres.GoVersion, oldGo)
	}
	sameFindings(t, ours(bres), peerFindings(t, db, t.TempDir(), nil, "-mode", "binary", bin))
}

func TestMemoryBudgetFallsBackToBinary(t *testing.T) {
	db := testDB(t)
	dir := fixture(t, "reach", reachMain, "")
	// A budget far below any call-graph scan: the estimate refuses it,
	// and the binary scan still finds the linked vulnerable function.
	res, err := Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"."}, DB: db, MemoryBudget: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scans) != 1 || res.Scans[0].Precision != format.PrecisionBinarySymbols || res.Scans[0].Note == "" {
		t.Fatalf("scans %+v, want one binary scan with a note", res.Scans)
	}
	f := find(res, "GO-2021-0113", "golang.org/x/text")
	if f == nil || f.Status != format.VulnLinked || f.Precision != format.PrecisionBinarySymbols {
		t.Errorf("GO-2021-0113 = %+v, want linked (binary symbols)", f)
	}
}

func TestMemoryBudgetPartitions(t *testing.T) {
	db := testDB(t)
	dir := fixture(t, "split", reachMain, "")
	os.MkdirAll(filepath.Join(dir, "internal", "tags"), 0o755)
	os.WriteFile(filepath.Join(dir, "internal", "tags", "tags.go"), []byte(`// Package tags reads Accept-Language headers.
package tags

import "golang.org/x/text/language"

// Preferred returns the client's languages.
func Preferred(header string) ([]language.Tag, error) {
	tags, _, err := language.ParseAcceptLanguage(header)
	return tags, err
}
`), 0o644)
	// Over budget, ./... is scanned part by part: the main package as a
	// binary, the library directory by its imports.
	res, err := Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"./..."}, DB: db, MemoryBudget: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	precisions := map[string]string{}
	for _, s := range res.Scans {
		precisions[s.Subject+" "+strings.Join(s.Patterns, " ")] = s.Precision
		if s.Note == "" {
			t.Errorf("scan %+v has no note explaining the fallback", s)
		}
	}
	if len(res.Scans) != 2 || precisions["fixture.example/split "] != format.PrecisionBinarySymbols || precisions["source fixture.example/split/internal/tags"] != format.PrecisionPackageImports {
		t.Errorf("scans %v, want the main package as a binary and internal/tags by imports", precisions)
	}
	if f := find(res, "GO-2021-0113", "golang.org/x/text"); f == nil || f.Status != format.VulnLinked {
		t.Errorf("GO-2021-0113 = %+v, want linked", f)
	}
	if f := find(res, "GO-2022-1059", "golang.org/x/text"); f == nil || f.Status != format.VulnImported {
		t.Errorf("GO-2022-1059 = %+v, want imported", f)
	}
	// Within budget, one call-graph scan covers everything.
	res, err = Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"./..."}, DB: db, MemoryBudget: DefaultMemoryBudget})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scans) != 1 || res.Scans[0].Precision != format.PrecisionCallGraph {
		t.Errorf("scans %+v, want one call-graph scan", res.Scans)
	}
	if f := find(res, "GO-2022-1059", "golang.org/x/text"); f == nil || f.Status != format.VulnCalled {
		t.Errorf("GO-2022-1059 = %+v, want called (exported Preferred is an entry point)", f)
	}
}

func TestScanErrors(t *testing.T) {
	db := testDB(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken.example\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport \"missing.example/nothing\"\n\nfunc main() { nothing.Do() }\n"), 0o644)
	_, err := Scan(context.Background(), &Request{Dir: dir, Patterns: []string{"."}, DB: db})
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("scan of a module with a missing dependency: err = %q, want one line", err)
	}
	t.Log(err)
	if _, err := Scan(context.Background(), &Request{Binaries: []string{filepath.Join(dir, "main.go")}, DB: db}); err == nil {
		t.Error("binary scan of a Go source file: no error")
	}
}

// vexStatement writes the OpenVEX document of a scan of fixture module
// name and returns the findings document, the OpenVEX document and its one
// statement about vulnerability id.
func vexStatement(t *testing.T, db *vulndb.Info, res *Result, name, id string) (*format.VulnDocument, vex.VEX, vex.Statement) {
	t.Helper()
	doc := NewDocument("fixture.example/"+name, db, res, db.Modified)
	doc.Module = "fixture.example/" + name
	data, err := OpenVEX(doc, VEXOptions{Author: "fixture authors", Product: "pkg:golang/fixture.example/" + name + "@v1.0.0", Time: db.Modified})
	if err != nil {
		t.Fatal(err)
	}
	var v vex.VEX
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	sts := v.StatementsByVulnerability(id)
	if len(sts) != 1 {
		t.Fatalf("OpenVEX statements for %s: %+v, want one", id, sts)
	}
	return doc, v, sts[0]
}
