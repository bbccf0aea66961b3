package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/cli/delivercmd"
	"hegui.dev/hegui/internal/cli/logcmd"
	"hegui.dev/hegui/internal/logserver"
)

// startLog creates a log home with `hegui log init`, issues a token with
// `hegui log writer add` and serves the log in process. It returns the
// home, the server URL and the token.
func startLog(t *testing.T, r *runner, actions string) (home, url, token string) {
	t.Helper()
	home = r.path("auditlog")
	r.ok("log", "init", home, "--origin", "test.example/audit")
	token = strings.TrimSpace(r.ok("log", "writer", "add", home, "ci", "--actions", actions).stdout)
	return home, serveHome(t, home), token
}

func TestLogCommands(t *testing.T) {
	r := newRunner(t)
	home, url, token := startLog(t, r, "user.*")
	pub := filepath.Join(home, logserver.PublicKeyFile)
	r.env["HEGUI_LOG_STATE"] = r.path("state")

	r.fails(1, []string{"401"}, "log", "append", "--log", url, "--action", "user.login", "--actor", "alice")
	r.env["HEGUI_LOG_TOKEN"] = token
	r.fails(1, []string{"403", "may not log action"}, "log", "append", "--log", url, "--action", "delivery.publish", "--actor", "alice")
	r.fails(2, []string{"--action"}, "log", "append", "--log", url)
	if got := strings.TrimSpace(r.ok("log", "append", "--log", url, "--action", "user.login", "--actor", "alice", "--wait").stdout); got != "0" {
		t.Fatalf("first index %q", got)
	}
	events := r.write("events.ndjson", []byte(`{"time":"2026-11-21T08:00:00Z","actor":"bob","action":"user.logout","outcome":"success"}
{"time":"2026-11-21T08:00:01Z","actor":"carol","action":"user.login","outcome":"failure","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
`))
	if got := strings.Fields(r.ok("log", "append", "--log", url, "--event", events).stdout); strings.Join(got, ",") != "1,2" {
		t.Fatalf("batch indexes %v", got)
	}
	bad := r.write("bad.json", []byte(`{"time":"2026-11-21T08:00:00Z","actor":"bob","action":"User Logout","outcome":"success"}`))
	r.fails(1, []string{"action"}, "log", "append", "--log", url, "--event", bad)

	waitForSize(t, r, url, pub, 3)
	got := r.ok("log", "get", "2", "--log", url, "--pub", pub, "--proof", r.path("2.tlog-proof"))
	if !strings.Contains(got.stdout, `"actor":"carol"`) {
		t.Errorf("entry 2: %s", got.stdout)
	}
	r.writesInPlace(func(out string) []string {
		return []string{"log", "get", "2", "--log", url, "--pub", pub, "--proof", out}
	})
	r.writesInPlace(func(out string) []string {
		return []string{"log", "proof", "--index", "2", "--log", url, "--pub", pub, "-o", out}
	})
	r.write("2.json", []byte(got.stdout))
	r.ok("log", "proof", "--check", r.path("2.tlog-proof"), "--entry", r.path("2.json"), "--pub", pub)
	r.write("2-other.json", []byte(strings.Replace(got.stdout, "carol", "carl", 1)))
	r.fails(1, []string{"inclusion"}, "log", "proof", "--check", r.path("2.tlog-proof"), "--entry", r.path("2-other.json"), "--pub", pub)

	verifyJSON := func() logcmd.VerifyResult {
		var res logcmd.VerifyResult
		if err := json.Unmarshal([]byte(r.ok("log", "verify", "--log", url, "--pub", pub, "--json").stdout), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := verifyJSON(); res.Size != 3 || res.Entries != 3 || res.PreviousSize != nil {
		t.Errorf("first verify: %+v", res)
	}
	if res := verifyJSON(); res.PreviousSize == nil || *res.PreviousSize != 3 {
		t.Errorf("second verify does not report the checkpoint seen before: %+v", res)
	}
	// The log home reads the same tiles directly, with log.pub found by itself.
	r.ok("log", "verify", "--log", home)
	r.ok("log", "monitor", "--log", url, "--pub", pub, "--rounds", "1")
	r.ok("log", "consistency", "--log", url, "--pub", pub)

	// One changed byte in a hash tile: verify fails and names the tile.
	tile := filepath.Join(home, "data", "tile", "0", "000.p", "3")
	data, err := os.ReadFile(tile)
	if err != nil {
		t.Fatal(err)
	}
	data[40] ^= 1
	if err := os.WriteFile(tile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r.fails(1, []string{"corrupt", "tile/0/000.p/3"}, "log", "verify", "--log", home, "--state", r.path("fresh-state"))
}

// waitForSize polls until a checkpoint of at least n entries is published.
func waitForSize(t *testing.T, r *runner, url, pub string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res := r.run("log", "verify", "--log", url, "--pub", pub, "--json", "--state", r.path("wait-state"))
		var v logcmd.VerifyResult
		if res.code == 0 && json.Unmarshal([]byte(res.stdout), &v) == nil && v.Size >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no checkpoint of %d entries within 20 s", n)
}

func TestDeliverRecordsInAuditLog(t *testing.T) {
	r := newRunner(t)
	home, url, token := startLog(t, r, "delivery.*")
	pub := filepath.Join(home, logserver.PublicKeyFile)
	r.env["HEGUI_LOG_TOKEN"] = token
	f := newFixture(t)
	cfg := r.write("log.yaml", []byte(oneTarget+"vulnerabilities:\n  scan: off\naudit-log:\n  url: "+url+"\n  public-keys: "+pub+"\n"))
	res := r.ok("deliver", f.dir, "--snapshot", "--config", cfg, "--output", r.path("out"), "--json")
	var dr delivercmd.Result
	if err := json.Unmarshal([]byte(res.stdout), &dr); err != nil {
		t.Fatal(err)
	}
	pubs, _ := filepath.Glob(filepath.Join(r.env["HEGUI_KEYRING"], "*.pub"))
	out := r.ok("verify", dr.Directory, "--pub", pubs[0], "--log-pub", pub, "--log", url)
	if !strings.Contains(out.stdout, "[PASS] transparency") || !strings.Contains(out.stdout, "is consistent with it") {
		t.Errorf("verify output:\n%s", out.stdout)
	}
	entry := readFile(t, filepath.Join(dr.Directory, "transparency", "entry.json"))
	for _, want := range []string{`"action":"delivery.publish"`, `"name":"manifest.json"`, `"actor":"key:`} {
		if !strings.Contains(entry, want) {
			t.Errorf("logged event lacks %s: %s", want, entry)
		}
	}
	rep := readFile(t, filepath.Join(dr.Directory, "report.json"))
	if !strings.Contains(rep, `"auditLog": "`+url+`"`) {
		t.Error("report.json does not name the audit log")
	}
	if html := readFile(t, filepath.Join(dr.Directory, "report.html")); !strings.Contains(html, `id="audit-log"`) {
		t.Error("report.html does not say the delivery is recorded in the audit log")
	}

	// A changed entry no longer matches the proof; another log's keys do
	// not verify the checkpoint.
	tampered := r.path("tampered")
	if err := os.CopyFS(tampered, os.DirFS(dr.Directory)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tampered, "transparency", "entry.json")
	if err := os.WriteFile(p, []byte(strings.Replace(entry, "delivery.publish", "delivery.publiss", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r.verifyFails(tampered, []string{"[FAIL] transparency", "inclusion"}, "--pub", pubs[0])
	r.ok("log", "init", r.path("other"), "--origin", "test.example/audit")
	r.verifyFails(dr.Directory, []string{"[FAIL] transparency", "checkpoint signature"}, "--pub", pubs[0], "--log-pub", r.path("other/log.pub"))

	// The writers, for people and programs; the token is never shown.
	var writers []struct {
		Name    string   `json:"name"`
		Kind    string   `json:"kind"`
		Actions []string `json:"actions"`
	}
	listed := r.ok("log", "writer", "list", home, "--json").stdout
	if err := json.Unmarshal([]byte(listed), &writers); err != nil || len(writers) != 1 || writers[0].Name != "ci" || writers[0].Kind != "token" {
		t.Errorf("writer list --json: %v\n%s", err, listed)
	}
	if out := r.ok("log", "writer", "list", home).stdout; !strings.Contains(out, "ci") || strings.Contains(out, token) || strings.Contains(listed, token) {
		t.Errorf("writer list:\n%s", out)
	}

	// The log refuses a writer that may not log deliveries: no delivery.
	r.ok("log", "writer", "revoke", home, "ci")
	if out := r.ok("log", "writer", "list", home, "--json").stdout; strings.TrimSpace(out) != "[]" {
		t.Errorf("after revoking the only writer, list --json = %s", out)
	}
	r.fails(1, []string{"audit log", "401"}, "deliver", f.dir, "--snapshot", "--config", cfg, "--output", r.path("out2"))
	if _, err := os.Stat(r.path("out2")); err == nil {
		entries, _ := os.ReadDir(r.path("out2"))
		if len(entries) > 0 {
			t.Errorf("a failed delivery left %v", entries)
		}
	}
}

func TestKeyLifecycleIsLogged(t *testing.T) {
	r := newRunner(t)
	home, url, token := startLog(t, r, "key.*")
	r.env["HEGUI_AUDIT_LOG"] = url
	r.env["HEGUI_LOG_TOKEN"] = token
	r.ok("key", "generate", "--name", "release", "--no-password")
	r.ok("key", "rotate", "release", "--no-password")
	var entries []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.ok("key", "list", "--json").stdout), &entries); err != nil {
		t.Fatal(err)
	}
	var old string
	for _, e := range entries {
		if e.State == "DEACTIVATED" {
			old = e.ID
		}
	}
	r.ok("key", "destroy", old, "--yes")
	waitForSize(t, r, url, filepath.Join(home, logserver.PublicKeyFile), 3)
	var actions []string
	for i := 0; i < 3; i++ {
		out := r.ok("log", "get", fmt.Sprint(i), "--log", home).stdout
		var ev struct{ Action, Object string }
		json.Unmarshal([]byte(out), &ev)
		actions = append(actions, ev.Action)
	}
	if got := strings.Join(actions, ","); got != "key.generate,key.rotate,key.destroy" {
		t.Errorf("logged actions %s", got)
	}
	// Without a reachable log the operation happens but the command fails.
	r.env["HEGUI_AUDIT_LOG"] = "http://127.0.0.1:1"
	r.fails(1, []string{"not recorded in the audit log"}, "key", "generate", "--name", "other", "--no-password")
}

// serveHome serves an existing log home in process until the test ends.
func serveHome(t *testing.T, home string) string {
	t.Helper()
	h, err := logserver.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	h.Config.CheckpointInterval = logserver.Duration(200 * time.Millisecond)
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close(context.Background())
	})
	return hs.URL
}

// TestLogDetectsFork shows two histories signed with the same keys to a
// client: a checkpoint from the other one, given to `log consistency`, and
// a log that was rolled back, seen by `log verify`, both fail as a fork.
func TestLogDetectsFork(t *testing.T) {
	r := newRunner(t)
	home := r.path("log")
	r.ok("log", "init", home, "--origin", "test.example/audit")
	r.env["HEGUI_LOG_TOKEN"] = strings.TrimSpace(r.ok("log", "writer", "add", home, "ci").stdout)
	pub := filepath.Join(home, logserver.PublicKeyFile)
	r.env["HEGUI_LOG_STATE"] = r.path("state")

	// The same log home, copied before any entry: same keys, same origin.
	fork := r.path("fork")
	if err := os.CopyFS(fork, os.DirFS(home)); err != nil {
		t.Fatal(err)
	}
	url := serveHome(t, home)
	forkURL := serveHome(t, fork)
	r.ok("log", "append", "--log", url, "--action", "user.login", "--actor", "alice", "--wait")
	r.ok("log", "append", "--log", forkURL, "--action", "user.login", "--actor", "mallory", "--wait")
	r.ok("log", "append", "--log", forkURL, "--action", "user.logout", "--actor", "mallory", "--wait")
	forkCP := r.write("fork.checkpoint", []byte(readURL(t, forkURL+"/checkpoint")))

	r.ok("log", "verify", "--log", url, "--pub", pub)
	r.fails(1, []string{"fork", "rolled back"}, "log", "consistency", "--log", url, "--pub", pub, "--checkpoint", forkCP)
	// Seen: the fork's two entries; presented: the real log with one.
	r.ok("log", "verify", "--log", forkURL, "--pub", pub, "--state", r.path("state2"))
	r.fails(1, []string{"fork"}, "log", "verify", "--log", url, "--pub", pub, "--state", r.path("state2"))
}

func readURL(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
