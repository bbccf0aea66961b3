package logcmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
)

// testDigest is the SHA-256 of "test", a payload digest for --digest.
const testDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// result is what a run function printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// call runs a command's run function with an Env of its own: vars are the
// environment, stdin its standard input, and there is no terminal.
func call(vars map[string]string, stdin string, run func(env *cmdutil.Env) error) result {
	var stdout, stderr bytes.Buffer
	env := &cmdutil.Env{
		Stdin:        strings.NewReader(stdin),
		Stdout:       &stdout,
		Stderr:       &stderr,
		Getenv:       func(name string) string { return vars[name] },
		ReadPassword: func(string) ([]byte, error) { return nil, errors.New("no terminal to ask for a password") },
	}
	err := run(env)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// ok fails the test unless r succeeded.
func (r result) ok(t *testing.T, what string) result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v\nstderr: %s", what, r.err, r.stderr)
	}
	return r
}

// failsWith fails the test unless r failed with an error holding every
// one of want, a usage error (exit 2) exactly when usage is set.
func (r result) failsWith(t *testing.T, what string, usage bool, want ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("%s succeeded\nstdout: %s", what, r.stdout)
	}
	var u cmdutil.UsageError
	if errors.As(r.err, &u) != usage {
		t.Errorf("%s: %v is a usage error: %v, want %v", what, r.err, !usage, usage)
	}
	for _, w := range want {
		if !strings.Contains(r.err.Error(), w) {
			t.Errorf("%s: %v, want an error with %q", what, r.err, w)
		}
	}
}

// initLog creates a log home below a new directory with RunLogInit.
func initLog(t *testing.T, vars map[string]string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "auditlog")
	call(vars, "", func(env *cmdutil.Env) error {
		return RunLogInit(context.Background(), env, LogInitOptions{Dir: home, Origin: "test.example/audit", Storage: logserver.StorageConfig{Driver: "posix"}})
	}).ok(t, "init")
	return home
}

// writeFile writes data to name in a new directory and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunLogInit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	r := call(nil, "", func(env *cmdutil.Env) error {
		return RunLogInit(ctx, env, LogInitOptions{Dir: plain, Origin: "test.example/audit", NoSM2: true})
	}).ok(t, "init")
	for _, want := range []string{"not encrypted", `created log "test.example/audit" in ` + plain, "hegui log writer add " + plain + " NAME"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("init says\n%s\nwithout %q", r.stderr, want)
		}
	}
	h, err := logserver.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	if h.Config.Storage.Driver != "posix" || h.Config.Storage.Path != logserver.DataDir {
		t.Errorf("storage of a log made without a driver: %+v", h.Config.Storage)
	}
	if vs, err := h.Verifiers(); err != nil || len(vs) != 1 {
		t.Errorf("--no-sm2 log.pub: %d keys, %v; want the Ed25519 key only", len(vs), err)
	}

	// A password in the environment encrypts the keys.
	encrypted := filepath.Join(dir, "encrypted")
	r = call(map[string]string{logserver.KeyPasswordEnv: "correct horse"}, "", func(env *cmdutil.Env) error {
		return RunLogInit(ctx, env, LogInitOptions{Dir: encrypted, Origin: "test.example/audit"})
	}).ok(t, "init with a password")
	if strings.Contains(r.stderr, "not encrypted") {
		t.Errorf("init with a password says %s", r.stderr)
	}
	pems, _ := filepath.Glob(filepath.Join(encrypted, "keys", "*.pem"))
	if len(pems) != 2 {
		t.Fatalf("keys %v, want Ed25519 and SM2", pems)
	}
	for _, p := range pems {
		if data, err := os.ReadFile(p); err != nil || !bytes.Contains(data, []byte("ENCRYPTED")) {
			t.Errorf("%s is not encrypted (%v)", p, err)
		}
	}

	for _, tt := range []struct {
		name  string
		o     LogInitOptions
		usage bool
		want  string
	}{
		{"no origin", LogInitOptions{Dir: filepath.Join(dir, "a")}, true, "--origin is required"},
		{"unknown driver", LogInitOptions{Dir: filepath.Join(dir, "b"), Origin: "x.example/a", Storage: logserver.StorageConfig{Driver: "ftp"}}, true, "ftp"},
		{"mysql without dsn", LogInitOptions{Dir: filepath.Join(dir, "c"), Origin: "x.example/a", Storage: logserver.StorageConfig{Driver: "mysql"}}, true, "dsn"},
		{"bad origin", LogInitOptions{Dir: filepath.Join(dir, "d"), Origin: "has space"}, false, "origin"},
		{"not empty", LogInitOptions{Dir: plain, Origin: "x.example/a"}, false, "is not empty"},
	} {
		call(nil, "", func(env *cmdutil.Env) error { return RunLogInit(ctx, env, tt.o) }).failsWith(t, tt.name, tt.usage, tt.want)
	}
}

func TestRunLogWriters(t *testing.T) {
	ctx := context.Background()
	home := initLog(t, nil)
	r := call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterAdd(ctx, env, LogWriterAddOptions{Dir: home, Name: "ci", Actions: []string{"delivery.*", "key.*"}})
	}).ok(t, "add a token")
	token := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(token, logserver.TokenPrefix) || !strings.Contains(r.stderr, "token for ci (shown once") {
		t.Fatalf("writer add printed %q, said %q", r.stdout, r.stderr)
	}
	r = call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterAdd(ctx, env, LogWriterAddOptions{Dir: home, Name: "payments", CertCN: "payments.svc.example.cn"})
	}).ok(t, "allow a certificate")
	if r.stdout != "" || !strings.Contains(r.stderr, `CN "payments.svc.example.cn" may now append as payments`) {
		t.Errorf("writer add --cert printed %q, said %q", r.stdout, r.stderr)
	}

	r = call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterList(ctx, env, LogWriterListOptions{Dir: home})
	}).ok(t, "list")
	table := regexp.MustCompile(`(?m)^NAME +KIND +CERTIFICATE CN +ACTIONS\nci +token +- +delivery\.\*,key\.\*\npayments +cert +payments\.svc\.example\.cn +\*\n$`)
	if !table.MatchString(r.stdout) || strings.Contains(r.stdout, token) {
		t.Errorf("writer list:\n%s", r.stdout)
	}
	r = call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterList(ctx, env, LogWriterListOptions{Dir: home, JSON: true})
	}).ok(t, "list --json")
	var writers []logserver.WriterInfo
	if err := json.Unmarshal([]byte(r.stdout), &writers); err != nil || len(writers) != 2 || writers[0].Kind != "token" || writers[1].CN != "payments.svc.example.cn" {
		t.Errorf("writer list --json: %v\n%s", err, r.stdout)
	}

	r = call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterRevoke(ctx, env, LogWriterRevokeOptions{Dir: home, Name: "ci"})
	}).ok(t, "revoke")
	if !strings.Contains(r.stderr, "revoked ci") {
		t.Errorf("revoke says %q", r.stderr)
	}
	r = call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterList(ctx, env, LogWriterListOptions{Dir: home, JSON: true})
	}).ok(t, "list after revoking")
	if writers = nil; json.Unmarshal([]byte(r.stdout), &writers) != nil || len(writers) != 1 || writers[0].Name != "payments" {
		t.Errorf("after revoking ci: %s", r.stdout)
	}

	call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterRevoke(ctx, env, LogWriterRevokeOptions{Dir: home, Name: "ci"})
	}).failsWith(t, "revoke twice", false, `no writer named "ci"`)
	call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterAdd(ctx, env, LogWriterAddOptions{Dir: home, Name: "no/slash"})
	}).failsWith(t, "add a bad name", false, "writer name")
	call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterAdd(ctx, env, LogWriterAddOptions{Dir: home, Name: "svc", CertCN: "two words"})
	}).failsWith(t, "add a bad CN", false, "common name")
	call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterList(ctx, env, LogWriterListOptions{Dir: filepath.Join(home, "missing")})
	}).failsWith(t, "list a missing log", false)
}

// serverStderr is the standard error of a server under test. It keeps what
// the server writes, from any goroutine, and hands over its URL as soon as
// the server says it listens.
type serverStderr struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	url      chan string
	listened bool
}

var servingLine = regexp.MustCompile(`serving log "test.example/audit" from \S+ at (http://\S+)\n`)

func (w *serverStderr) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := servingLine.FindSubmatch(w.buf.Bytes()); m != nil && !w.listened {
		w.listened = true
		w.url <- string(m[1])
	}
	return len(p), nil
}

func (w *serverStderr) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// serveLog runs RunLogServe in a goroutine until stop is called, which
// returns what the server wrote on stderr and returned. The server is
// stopped at the end of the test in any case.
func serveLog(t *testing.T, vars map[string]string, o LogServeOptions) (url string, stop func() (string, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &serverStderr{url: make(chan string, 1)}
	env := &cmdutil.Env{Stdout: io.Discard, Stderr: stderr, Getenv: func(name string) string { return vars[name] }}
	errc := make(chan error, 1)
	go func() { errc <- RunLogServe(ctx, env, o) }()
	var (
		once     sync.Once
		serveErr error
	)
	stop = func() (string, error) {
		once.Do(func() {
			cancel()
			serveErr = <-errc
		})
		return stderr.String(), serveErr
	}
	t.Cleanup(func() { stop() })
	select {
	case url = <-stderr.url:
	case err := <-errc:
		t.Fatalf("serve stopped before listening: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not listen within 30 s:\n%s", stderr.String())
	}
	return url, stop
}

// TestRunLogServeAndRead serves an encrypted log with RunLogServe and runs
// every client command against it: append (one event, a batch, refused
// ones), get, proof (written and checked), verify, consistency and monitor,
// then damages an entry and sees verify and monitor fail. Stopping the
// server returns nil.
func TestRunLogServeAndRead(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{logserver.KeyPasswordEnv: "correct horse"}
	home := initLog(t, vars)
	// Checkpoints every 100 ms keep --wait short.
	config := filepath.Join(home, logserver.ConfigFile)
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("checkpoint-interval: 1s")) {
		t.Fatalf("%s sets no checkpoint interval of 1s:\n%s", config, data)
	}
	if err := os.WriteFile(config, bytes.Replace(data, []byte("checkpoint-interval: 1s"), []byte("checkpoint-interval: 100ms"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(call(nil, "", func(env *cmdutil.Env) error {
		return RunLogWriterAdd(ctx, env, LogWriterAddOptions{Dir: home, Name: "ci", Actions: []string{"user.*"}})
	}).ok(t, "writer add").stdout)
	tokenFile := writeFile(t, "token", []byte(token+"\n"))
	pub := filepath.Join(home, logserver.PublicKeyFile)

	// What serve refuses before it listens.
	for _, tt := range []struct {
		name  string
		vars  map[string]string
		o     LogServeOptions
		usage bool
		want  string
	}{
		{"cert without key", vars, LogServeOptions{Dir: home, TLSCert: "srv.crt", MaxConnections: 1}, true, "--tls-cert and --tls-key go together"},
		{"client CA without TLS", vars, LogServeOptions{Dir: home, ClientCA: "ca.crt", MaxConnections: 1}, true, "--client-ca needs --tls-cert"},
		{"no connections", vars, LogServeOptions{Dir: home}, true, "--max-connections must be at least 1"},
		{"not a log home", vars, LogServeOptions{Dir: t.TempDir(), MaxConnections: 1}, false, "is not a log home"},
		{"no password", nil, LogServeOptions{Dir: home, Listen: "127.0.0.1:0", MaxConnections: 1}, false, "no terminal"},
		{"client CA not PEM", vars, LogServeOptions{Dir: home, Listen: "127.0.0.1:0", TLSCert: "srv.crt", TLSKey: "srv.key", ClientCA: tokenFile, MaxConnections: 1}, false, "holds no PEM certificates"},
	} {
		call(tt.vars, "", func(env *cmdutil.Env) error { return RunLogServe(ctx, env, tt.o) }).failsWith(t, "serve: "+tt.name, tt.usage, tt.want)
	}

	urlFile := filepath.Join(t.TempDir(), "url")
	url, stop := serveLog(t, vars, LogServeOptions{Dir: home, Listen: "127.0.0.1:0", URLFile: urlFile, MaxConnections: 8})
	call(vars, "", func(env *cmdutil.Env) error {
		return RunLogServe(ctx, env, LogServeOptions{Dir: home, Listen: "127.0.0.1:0", MaxConnections: 1})
	}).failsWith(t, "a second serve", false, "another `hegui log serve` is running")

	// Append: refused, then one event, a batch from stdin, one more.
	withToken := map[string]string{cmdutil.EnvLogToken: token}
	login := translog.Event{Action: "user.login", Actor: "alice", Outcome: translog.OutcomeSuccess, Application: "hegui"}
	appendTo := func(vars map[string]string, stdin string, o LogAppendOptions) result {
		return call(vars, stdin, func(env *cmdutil.Env) error { return RunLogAppend(ctx, env, o) })
	}
	appendTo(withToken, "", LogAppendOptions{Event: login}).failsWith(t, "append without --log", true, "--log is required")
	appendTo(withToken, "", LogAppendOptions{Log: url}).failsWith(t, "append without an event", true, "give --event FILE or --action")
	appendTo(withToken, "", LogAppendOptions{Log: url, EventFile: "-", Event: login}).failsWith(t, "append --event --action", true, "exclude each other")
	appendTo(withToken, "", LogAppendOptions{Log: url, EventFile: "-", Wait: true}).failsWith(t, "append --event --wait", true, "--wait applies to one event")
	appendTo(withToken, "", LogAppendOptions{Log: url, Event: login, Digests: []string{"sha256:abc"}}).failsWith(t, "append a bad digest", true, "--digest", "NAME=ALG:HEX")
	appendTo(withToken, "", LogAppendOptions{Log: "ftp://" + strings.TrimPrefix(url, "http://"), Event: login}).failsWith(t, "append to ftp", true, "not an http or https URL")
	appendTo(map[string]string{cmdutil.EnvLogToken: logserver.TokenPrefix + "wrong"}, "", LogAppendOptions{Log: url, Event: login}).failsWith(t, "append with a bad token", false, "401")
	forbidden := login
	forbidden.Action = "delivery.publish"
	appendTo(withToken, "", LogAppendOptions{Log: url, Event: forbidden}).failsWith(t, "append a forbidden action", false, "403", "may not log action")

	withDigest := login
	withDigest.Host = "build-7"
	r := appendTo(nil, "", LogAppendOptions{Log: url, TokenFile: tokenFile, Event: withDigest, Digests: []string{"dump.sql=sha256:" + strings.ToUpper(testDigest)}, Wait: true}).ok(t, "append --wait")
	if r.stdout != "0\n" {
		t.Fatalf("first append printed %q", r.stdout)
	}
	// The server answered, so it wrote --url-file before it served.
	if got, err := os.ReadFile(urlFile); err != nil || string(got) != url+"\n" {
		t.Errorf("--url-file holds %q (%v), want %q", got, err, url+"\n")
	}
	batch := `{"time":"2026-11-21T08:00:00Z","actor":"bob","action":"user.logout","outcome":"success"}

{"time":"2026-11-21T08:00:01Z","actor":"carol","action":"user.login","outcome":"failure"}
`
	r = appendTo(withToken, batch, LogAppendOptions{Log: url, EventFile: "-"}).ok(t, "append a batch")
	if r.stdout != "1\n2\n" || !strings.Contains(r.stderr, "appended 2 events") {
		t.Fatalf("batch append printed %q, said %q", r.stdout, r.stderr)
	}
	appendTo(withToken, "\n \n", LogAppendOptions{Log: url, EventFile: "-"}).failsWith(t, "append an empty batch", false, "- holds no events")
	badBatch := writeFile(t, "bad.ndjson", []byte(strings.Replace(batch, "user.login", "User Login", 1)))
	appendTo(withToken, "", LogAppendOptions{Log: url, EventFile: badBatch}).failsWith(t, "append a bad batch", false, badBatch+": event 2: event: action")
	r = appendTo(map[string]string{envLog: url, cmdutil.EnvLogToken: token}, "", LogAppendOptions{Event: login, Wait: true}).ok(t, "append to $HEGUI_LOG")
	if r.stdout != "3\n" {
		t.Fatalf("last append printed %q", r.stdout)
	}

	// Get: entry 0 carries the flags' fields; its proof is written.
	get := func(vars map[string]string, o LogGetOptions) result {
		return call(vars, "", func(env *cmdutil.Env) error { return RunLogGet(ctx, env, o) })
	}
	proofFile := filepath.Join(t.TempDir(), "0.tlog-proof")
	r = get(nil, LogGetOptions{LogTarget: LogTarget{Log: url, Pub: pub}, Index: "0", Proof: proofFile}).ok(t, "get 0")
	entry0, err := translog.ParseEvent([]byte(r.stdout))
	if err != nil || entry0.Actor != "alice" || entry0.Host != "build-7" || len(entry0.Digests) != 1 || entry0.Digests[0].Value != testDigest || entry0.Time.IsZero() {
		t.Errorf("entry 0 %+v (%v)", entry0, err)
	}
	if !strings.Contains(r.stderr, "entry 0 is included in") {
		t.Errorf("get says %q", r.stderr)
	}
	proofData, err := os.ReadFile(proofFile)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := translog.ParseInclusionProof(proofData); err != nil || p.Index != 0 {
		t.Errorf("get --proof wrote a proof of %d: %v", p.Index, err)
	}
	// A log home is read from its files, with its own log.pub.
	if r = get(nil, LogGetOptions{LogTarget: LogTarget{Log: home}, Index: "2"}).ok(t, "get 2 from the log home"); !strings.Contains(r.stdout, `"actor":"carol"`) {
		t.Errorf("entry 2: %s", r.stdout)
	}
	get(nil, LogGetOptions{LogTarget: LogTarget{Log: url, Pub: pub}, Index: "two"}).failsWith(t, "get two", true, `N must be an entry index, not "two"`)
	get(nil, LogGetOptions{LogTarget: LogTarget{Pub: pub}, Index: "0"}).failsWith(t, "get without --log", true, "--log is required")
	get(nil, LogGetOptions{LogTarget: LogTarget{Log: url}, Index: "0"}).failsWith(t, "get without --pub", true, "--pub is required")
	get(nil, LogGetOptions{LogTarget: LogTarget{Log: url, Pub: pub}, Index: "9"}).failsWith(t, "get 9", false, "entry 9 does not exist")
	other := initLog(t, nil)
	get(map[string]string{envLog: url, envLogPub: filepath.Join(other, logserver.PublicKeyFile)}, LogGetOptions{Index: "0"}).failsWith(t, "get with another log's keys", false, "checkpoint")

	// Proof: written, then checked offline against the entry.
	proof := func(vars map[string]string, o LogProofOptions) result {
		return call(vars, "", func(env *cmdutil.Env) error { return RunLogProof(ctx, env, o) })
	}
	two := uint64(2)
	r = proof(nil, LogProofOptions{LogTarget: LogTarget{Log: url, Pub: pub}, Index: &two}).ok(t, "proof --index 2")
	if !strings.HasPrefix(r.stdout, translog.ProofHeader+"\nindex 2\n") {
		t.Errorf("proof --index 2 printed %q", r.stdout)
	}
	proof2 := writeFile(t, "2.tlog-proof", []byte(r.stdout))
	entry2 := writeFile(t, "2.json", []byte(get(nil, LogGetOptions{LogTarget: LogTarget{Log: url, Pub: pub}, Index: "2"}).ok(t, "get 2").stdout))
	r = proof(map[string]string{envLogPub: pub}, LogProofOptions{Check: proof2, Entry: entry2}).ok(t, "proof --check")
	if !strings.HasPrefix(r.stdout, "OK: entry 2 is in ") {
		t.Errorf("proof --check printed %q", r.stdout)
	}
	proof(nil, LogProofOptions{Check: proofFile, Entry: entry2, LogTarget: LogTarget{Pub: pub}}).failsWith(t, "proof --check of another entry", false, "inclusion")
	proof(nil, LogProofOptions{LogTarget: LogTarget{Log: url, Pub: pub}}).failsWith(t, "proof without --index", true, "give --index N")
	proof(nil, LogProofOptions{Check: proof2, LogTarget: LogTarget{Pub: pub}}).failsWith(t, "proof --check without --entry", true, "--check needs --entry")
	proof(nil, LogProofOptions{Check: proof2, Entry: entry2}).failsWith(t, "proof --check without --pub", true, "--check needs --pub")

	// Verify: the whole log, then consistency with what it saw.
	state := t.TempDir()
	verify := func(o LogVerifyOptions) result {
		return call(nil, "", func(env *cmdutil.Env) error { return RunLogVerify(ctx, env, o) })
	}
	var res VerifyResult
	r = verify(LogVerifyOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: state}, JSON: true}).ok(t, "verify --json")
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Origin != "test.example/audit" || res.Size != 4 || res.Entries != 4 || res.Tiles != 1 || res.PreviousSize != nil {
		t.Errorf("first verify: %+v (%v)", res, err)
	}
	r = verify(LogVerifyOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: state}}).ok(t, "verify")
	if want := "OK: test.example/audit: 4 entries, 1 tiles and the signed root check out\nOK: consistent with the checkpoint seen before (4 entries)\n"; r.stdout != want {
		t.Errorf("second verify printed\n%s\nwant\n%s", r.stdout, want)
	}

	// Consistency: recorded first, then proven after the log grew, and
	// against a checkpoint file.
	consistency := func(o LogConsistencyOptions) result {
		return call(nil, "", func(env *cmdutil.Env) error { return RunLogConsistency(ctx, env, o) })
	}
	cstate := t.TempDir()
	r = consistency(LogConsistencyOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: cstate}}).ok(t, "first consistency")
	if r.stdout != "" || !strings.Contains(r.stderr, "first checkpoint seen for test.example/audit") {
		t.Errorf("first consistency printed %q, said %q", r.stdout, r.stderr)
	}
	size4 := writeFile(t, "4.checkpoint", readURL(t, url+"/checkpoint"))
	appendTo(withToken, "", LogAppendOptions{Log: url, Event: login, Wait: true}).ok(t, "append a fifth event")
	r = consistency(LogConsistencyOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: cstate}}).ok(t, "consistency")
	hashes := strings.Fields(r.stdout)
	for _, h := range hashes {
		if b, err := base64.StdEncoding.DecodeString(h); err != nil || len(b) != 32 {
			t.Errorf("consistency printed %q, not a base64 SHA-256 hash", h)
		}
	}
	if len(hashes) == 0 || !strings.Contains(r.stderr, "consistent: 4 -> 5 entries") {
		t.Errorf("consistency printed %q, said %q", r.stdout, r.stderr)
	}
	r = consistency(LogConsistencyOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: cstate}}).ok(t, "consistency again")
	if r.stdout != "" || !strings.Contains(r.stderr, "consistent: 5 -> 5 entries") {
		t.Errorf("consistency did not record the checkpoint it proved: printed %q, said %q", r.stdout, r.stderr)
	}
	r = consistency(LogConsistencyOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: t.TempDir()}, Checkpoint: size4}).ok(t, "consistency --checkpoint")
	if r.stdout != strings.Join(hashes, "\n")+"\n" {
		t.Errorf("consistency --checkpoint printed %q, want the proof printed before, %q", r.stdout, hashes)
	}
	consistency(LogConsistencyOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: t.TempDir()}, Checkpoint: tokenFile}).failsWith(t, "consistency with a token for a checkpoint", false, tokenFile)

	// Monitor: every entry once, and nothing twice.
	monitor := func(o LogMonitorOptions) result {
		return call(nil, "", func(env *cmdutil.Env) error { return RunLogMonitor(ctx, env, o) })
	}
	mstate := t.TempDir()
	r = monitor(LogMonitorOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: mstate}, Rounds: 1, Print: true}).ok(t, "monitor")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 5 || !strings.Contains(lines[2], `"actor":"carol"`) || !strings.Contains(r.stderr, "verified 5 new entries (now 5)") {
		t.Errorf("monitor printed\n%s\nand said %q", r.stdout, r.stderr)
	}
	r = monitor(LogMonitorOptions{LogTarget: LogTarget{Log: url, Pub: pub, State: mstate}, Rounds: 2, Interval: time.Millisecond, Print: true}).ok(t, "monitor again")
	if r.stdout != "" {
		t.Errorf("a second monitor printed entries again:\n%s", r.stdout)
	}
	monitor(LogMonitorOptions{LogTarget: LogTarget{Pub: pub, State: mstate}, Rounds: 1}).failsWith(t, "monitor without --log", true, "--log is required")

	// Stopping the server: it returns nil and no longer listens. (Whether
	// it said "stopping" is not checked: it says so from a context.AfterFunc
	// that its deferred stop may cancel before it runs.)
	if stderr, err := stop(); err != nil {
		t.Errorf("serve stopped with %v:\n%s", err, stderr)
	}
	if resp, err := http.Get(url + "/checkpoint"); err == nil {
		resp.Body.Close()
		t.Errorf("the stopped server still answers %s", resp.Status)
	}

	// An entry changed on disk: verify names the bundle, monitor refuses it.
	bundle := filepath.Join(home, "data", "tile", "entries", "000.p", "5")
	data, err = os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle, bytes.Replace(data, []byte(`"carol"`), []byte(`"carl_"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	verify(LogVerifyOptions{LogTarget: LogTarget{Log: home, State: t.TempDir()}}).failsWith(t, "verify a changed entry", false, "log test.example/audit is corrupt", "entries/000.p/5")
	monitor(LogMonitorOptions{LogTarget: LogTarget{Log: home, State: t.TempDir()}, Rounds: 1}).failsWith(t, "monitor a changed entry", false, "do not hash to the signed root")
}

func readURL(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return b
}
