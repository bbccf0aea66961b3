package release

import (
	"context"
	"crypto"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"hegui.dev/hegui/internal/trust"
)

// poller asks a service for its version every few milliseconds, as its
// users would, and remembers every failure and every version it saw.
type poller struct {
	mu       sync.Mutex
	versions []string // in order, consecutive repeats folded
	failures []string
	requests int
	stop     chan struct{}
	done     chan struct{}
}

func startPoller(url string) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			resp, err := client.Get(url)
			var v string
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				v = strings.TrimSpace(string(b))
			}
			p.mu.Lock()
			p.requests++
			if err != nil {
				p.failures = append(p.failures, time.Now().Format("15:04:05.000000")+" "+err.Error())
			} else if n := len(p.versions); n == 0 || p.versions[n-1] != v {
				p.versions = append(p.versions, v)
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *poller) finish() (versions, failures []string, requests int) {
	close(p.stop)
	<-p.done
	return p.versions, p.failures, p.requests
}

// startService runs ROOT/current/bin/svc as a service manager would, and
// stops it when the test ends.
func startService(t testing.TB, root string, env ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, CurrentLink, "bin", "svc"))
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
}

// TestHTTPServiceSignalReexec installs v1, v2 (unhealthy: rolled back on
// its own) and v3 of a real HTTP service that re-executes itself on
// SIGHUP, keeping its listening socket, while a client asks it for its
// version every 5 ms: the client never gets an error, and sees v1, v2,
// v1, v3 in that order.
func TestHTTPServiceSignalReexec(t *testing.T) {
	bins := serviceBinaries(t)
	root := filepath.Join(t.TempDir(), "srv")
	addr := freeAddr(t)
	pidfile := filepath.Join(t.TempDir(), "svc.pid")
	ctx := context.Background()

	// The first install: no service runs yet, so nothing to restart.
	first := open(t, root, Config{})
	if _, err := first.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v1.0.0", bins["v1.0.0"]), Anchors: trusted(t)}); err != nil {
		t.Fatal(err)
	}
	startService(t, root, "SVC_HTTP="+addr, "SVC_PIDFILE="+pidfile)

	cfg := Config{Signal: "HUP", PIDFile: pidfile, Health: HealthConfig{
		HTTP: "http://" + addr + "/healthz", Timeout: "3s", Interval: "50ms", HealthyFor: "300ms",
	}}
	m := open(t, root, cfg)
	if res := waitHealthy(ctx, mustChecks(t, cfg.Health), healthTiming{5 * time.Second, 20 * time.Millisecond, 0}); !res.Healthy {
		t.Fatalf("v1 never answered: %v", res.Err)
	}
	p := startPoller("http://" + addr + "/")

	out, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v2.0.0", bins["v2.0.0"]), Anchors: trusted(t)})
	if err == nil || !out.RolledBack || !strings.Contains(err.Error(), "503 Service Unavailable: unhealthy v2.0.0") || !strings.Contains(err.Error(), "rolled back to v1.0.0, which is healthy") {
		t.Fatalf("install of the unhealthy v2: %+v, %v", out, err)
	}
	mustCurrent(t, m.Root(), "v1.0.0")
	t.Logf("v2 failed its health check; v1 answered healthy again %v later", out.Recovered)
	if out.Recovered <= 0 || out.RollbackHealth == nil || !out.RollbackHealth.Healthy {
		t.Fatalf("rollback: %+v", out)
	}
	if prev, _ := m.Root().Previous(); prev != "" {
		t.Fatalf("previous is %q after a failed install, want none (v1 was the first)", prev)
	}

	out, err = m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v3.0.0", bins["v3.0.0"]), Anchors: trusted(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Copied || !out.Switched || out.Health == nil || !out.Health.Healthy {
		t.Fatalf("install of v3: %+v", out)
	}
	mustCurrent(t, m.Root(), "v3.0.0")
	if prev, _ := m.Root().Previous(); prev != "v1.0.0" {
		t.Fatalf("previous is %q, want v1.0.0", prev)
	}
	time.Sleep(50 * time.Millisecond)
	versions, failures, requests := p.finish()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the switches, first: %s (versions %q)", len(failures), requests, failures[0], versions)
	}
	want := []string{"v1.0.0", "v2.0.0", "v1.0.0", "v3.0.0"}
	if strings.Join(versions, " ") != strings.Join(want, " ") {
		t.Errorf("the client saw versions %q, want %q", versions, want)
	}
	if len(failures) == 0 {
		t.Logf("%d requests, none failed", requests)
	}

	// The pending operation is gone, the process runs v3's binary.
	st, err := m.Status(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != nil || !st.Intact || st.Healthy == nil || !*st.Healthy || !strings.Contains(st.Running, filepath.Join("releases", "v3.0.0", "bin", "svc")) {
		t.Fatalf("status: %+v", st)
	}

	// An operator's rollback: back to v1, and previous is v3.
	if _, err := m.Rollback(ctx, ""); err != nil {
		t.Fatal(err)
	}
	mustCurrent(t, m.Root(), "v1.0.0")
	if prev, _ := m.Root().Previous(); prev != "v3.0.0" {
		t.Fatalf("previous is %q after rollback, want v3.0.0", prev)
	}
}

func mustChecks(t *testing.T, h HealthConfig) []Check {
	t.Helper()
	c, closeChecks, err := h.checks(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeChecks)
	return c
}

// restartScript is a restart command as a service manager without
// systemd might be: stop the process in the PID file, start
// ROOT/current/bin/svc in the background, listening where $LISTEN
// ($SVC_HTTP or $SVC_GRPC) says.
const restartScript = `set -e
if [ -f "$PIDFILE" ]; then
	pid=$(cat "$PIDFILE")
	kill "$pid" 2>/dev/null || true
	# Until it is gone or a zombie (nobody here may reap it at once).
	while [ -e /proc/$pid ] && [ "$(cut -d' ' -f3 /proc/$pid/stat)" != Z ]; do sleep 0.01; done
	rm -f "$PIDFILE"
fi
env "$LISTEN=$ADDR" SVC_PIDFILE="$PIDFILE" "$HEGUI_RELEASE_ROOT/current/bin/svc" </dev/null >/dev/null 2>&1 &
`

// TestGRPCServiceRestartCommand does the same with a gRPC service checked
// through the gRPC health-checking protocol, restarted by a command.
func TestGRPCServiceRestartCommand(t *testing.T) {
	bins := serviceBinaries(t)
	root := filepath.Join(t.TempDir(), "srv")
	addr := freeAddr(t)
	pidfile := filepath.Join(t.TempDir(), "svc.pid")
	script := filepath.Join(t.TempDir(), "restart.sh")
	if err := os.WriteFile(script, []byte(restartScript), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PIDFILE", pidfile)
	t.Setenv("ADDR", addr)
	t.Setenv("LISTEN", "SVC_GRPC")
	t.Cleanup(func() {
		if pid, err := readPID(pidfile); err == nil {
			syscall.Kill(pid, syscall.SIGTERM)
		}
	})
	ctx := context.Background()
	cfg := Config{Restart: script, PIDFile: pidfile, Health: HealthConfig{
		GRPC: addr, GRPCService: "svc", Timeout: "3s", Interval: "50ms", HealthyFor: "300ms",
	}}
	m := open(t, root, cfg)
	// The first install starts the service.
	if _, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v1.0.0", bins["v1.0.0"]), Anchors: trusted(t)}); err != nil {
		t.Fatal(err)
	}
	out, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v2.0.0", bins["v2.0.0"]), Anchors: trusted(t)})
	if err == nil || !out.RolledBack || !strings.Contains(err.Error(), "status NOT_SERVING") {
		t.Fatalf("install of the unhealthy v2: %+v, %v", out, err)
	}
	mustCurrent(t, m.Root(), "v1.0.0")
	t.Logf("v2 failed its health check; v1 answered SERVING again %v later", out.Recovered)
	if _, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v3.0.0", bins["v3.0.0"]), Anchors: trusted(t)}); err != nil {
		t.Fatal(err)
	}
	mustCurrent(t, m.Root(), "v3.0.0")
	st, err := m.Status(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Healthy == nil || !*st.Healthy || !strings.Contains(st.Running, filepath.Join("releases", "v3.0.0")) {
		t.Fatalf("status: %+v", st)
	}
}

// TestRefusals: what does not verify, another delivery under an installed
// version, a root in use, a platform the delivery lacks: each refused,
// with nothing written.
func TestRefusals(t *testing.T) {
	bins := serviceBinaries(t)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "srv")
	m := open(t, root, Config{})
	v1 := makeDelivery(t, "v1.0.0", bins["v1.0.0"])

	t.Run("changed binary", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "d")
		if err := os.CopyFS(bad, os.DirFS(v1)); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(bad, "bin", strings.ReplaceAll(platformSlug(), "/", "_"), "svc")
		data, _ := os.ReadFile(bin)
		data[len(data)/2] ^= 1
		os.WriteFile(bin, data, 0o755)
		_, err := m.Install(ctx, InstallOptions{Delivery: bad, Anchors: trusted(t)})
		if err == nil || !strings.Contains(err.Error(), "does not verify (files") {
			t.Fatalf("Install = %v", err)
		}
		if entries, _ := os.ReadDir(filepath.Join(root, ReleasesDir)); len(entries) != 0 {
			t.Fatalf("releases/ holds %d entries after a refusal", len(entries))
		}
		mustCurrent(t, m.Root(), "")
	})
	t.Run("untrusted", func(t *testing.T) {
		_, err := m.Install(ctx, InstallOptions{Delivery: v1, Anchors: strangerAnchors(t)})
		if err == nil || !strings.Contains(err.Error(), "does not verify (signature)") {
			t.Fatalf("Install = %v", err)
		}
		mustCurrent(t, m.Root(), "")
	})
	t.Run("no such platform", func(t *testing.T) {
		_, err := m.Install(ctx, InstallOptions{Delivery: v1, Anchors: trusted(t), Platform: "linux/mips64le"})
		if err == nil || !strings.Contains(err.Error(), "no binary for linux/mips64le (it has "+platformSlug()+")") {
			t.Fatalf("Install = %v", err)
		}
	})
	if _, err := m.Install(ctx, InstallOptions{Delivery: v1, Anchors: trusted(t)}); err != nil {
		t.Fatal(err)
	}
	t.Run("same version again", func(t *testing.T) {
		out, err := m.Install(ctx, InstallOptions{Delivery: v1, Anchors: trusted(t)})
		if err != nil || out.Copied || out.Switched {
			t.Fatalf("reinstall of the same delivery: %+v, %v", out, err)
		}
	})
	t.Run("version is immutable", func(t *testing.T) {
		_, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v1.0.0", bins["v1.0.0-other"]), Anchors: trusted(t)})
		if err == nil || !strings.Contains(err.Error(), "already installed from another delivery") {
			t.Fatalf("Install = %v", err)
		}
		mustCurrent(t, m.Root(), "v1.0.0")
	})
	t.Run("root in use", func(t *testing.T) {
		unlock, err := m.Root().lock()
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		_, err = m.Install(ctx, InstallOptions{Delivery: v1, Anchors: trusted(t)})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("process %d (another hegui release) is working in it", os.Getpid())) {
			t.Fatalf("Install = %v", err)
		}
		_, err = m.Rollback(ctx, "")
		if err == nil || !strings.Contains(err.Error(), "is in use") {
			t.Fatalf("Rollback = %v", err)
		}
	})
	t.Run("installed file changed", func(t *testing.T) {
		// Another version to roll back to, then a byte of v1 changed on
		// disk: rollback to it is refused, naming the file.
		if _, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v3.0.0", bins["v3.0.0"]), Anchors: trusted(t)}); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(m.Root().ReleaseDir("v1.0.0"), "bin", "svc")
		data, _ := os.ReadFile(bin)
		data[100] ^= 1
		os.WriteFile(bin, data, 0o755)
		_, err := m.Rollback(ctx, "")
		if err == nil || !strings.Contains(err.Error(), "bin/svc was changed after it was installed") {
			t.Fatalf("Rollback = %v", err)
		}
		mustCurrent(t, m.Root(), "v3.0.0")
		// Installing v1 again replaces the changed copy (it is not current).
		if _, err := m.Install(ctx, InstallOptions{Delivery: v1, Anchors: trusted(t)}); err != nil {
			t.Fatal(err)
		}
		mustCurrent(t, m.Root(), "v1.0.0")
	})
	t.Run("changed release to roll back to", func(t *testing.T) {
		// v2 fails its health check, but v1, current before it, was changed
		// on disk since it was installed: install does not switch back to it.
		bin := filepath.Join(m.Root().ReleaseDir("v1.0.0"), "bin", "svc")
		data, _ := os.ReadFile(bin)
		data[200] ^= 1
		os.WriteFile(bin, data, 0o755)
		failing := open(t, root, Config{Health: HealthConfig{Command: "false", Timeout: "300ms", Interval: "20ms", HealthyFor: "0s"}})
		_, err := failing.Install(ctx, InstallOptions{Delivery: makeDelivery(t, "v2.0.0", bins["v2.0.0"]), Anchors: trusted(t)})
		if err == nil || !strings.Contains(err.Error(), "not rolled back: release v1.0.0: bin/svc was changed after it was installed") {
			t.Fatalf("Install = %v", err)
		}
		mustCurrent(t, m.Root(), "v2.0.0")
	})
}

func platformSlug() string { return runtime.GOOS + "/" + runtime.GOARCH }

// TestRollbackListPrune: rollback without a health check, --to, list
// order and marks, prune keeping current and previous, files from the
// delivery installed beside the binary.
func TestRollbackListPrune(t *testing.T) {
	bins := serviceBinaries(t)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "srv")
	m := open(t, root, Config{Files: []string{"documents/*.yaml"}})
	if _, err := m.Rollback(ctx, ""); err == nil || !strings.Contains(err.Error(), "not a release root") {
		t.Fatalf("Rollback in an empty root = %v", err)
	}
	for _, v := range []string{"v1.0.0", "v2.0.0", "v3.0.0"} {
		if _, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, v, bins[v]), Anchors: trusted(t)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // install times are kept to the second
	}
	if data, err := os.ReadFile(filepath.Join(root, CurrentLink, "documents", "svc.example.yaml")); err != nil || string(data) != "listen: 127.0.0.1:8080\n" {
		t.Fatalf("the delivery's document: %q, %v", data, err)
	}
	if _, err := m.Rollback(ctx, "v9.9.9"); err == nil || !strings.Contains(err.Error(), "v9.9.9 is not installed") {
		t.Fatalf("Rollback --to v9.9.9 = %v", err)
	}
	if _, err := m.Rollback(ctx, "v1.0.0"); err != nil {
		t.Fatal(err)
	}
	entries, err := m.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		s := e.Version
		if e.Current {
			s += "*"
		}
		if e.Previous {
			s += "-"
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "v3.0.0- v2.0.0 v1.0.0*" {
		t.Fatalf("list: %q", got)
	}
	removed, err := m.Prune(ctx, 1)
	if err != nil || strings.Join(removed, " ") != "v2.0.0" {
		t.Fatalf("Prune(1) = %q, %v", removed, err)
	}
	mustCurrent(t, m.Root(), "v1.0.0")
	if _, err := m.Rollback(ctx, ""); err != nil {
		t.Fatal(err)
	}
	mustCurrent(t, m.Root(), "v3.0.0")
}

// strangerAnchors trust a key that signed nothing here.
func strangerAnchors(t *testing.T) trust.Anchors {
	t.Helper()
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return trust.Anchors{Keys: []crypto.PublicKey{k.Public()}}
}

// TestUnreadableLeftovers: a release whose release.json is garbage is
// listed with its problem and never pruned; a garbage pending.json is a
// problem status reports, not a failure to report.
func TestUnreadableLeftovers(t *testing.T) {
	bins := serviceBinaries(t)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "srv")
	m := open(t, root, Config{})
	for _, v := range []string{"v1.0.0", "v3.0.0"} {
		if _, err := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, v, bins[v]), Anchors: trusted(t)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(m.Root().ReleaseDir("v0.9.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(m.Root().ReleaseDir("v0.9.0"), RecordFile), []byte("nope"), 0o644)
	entries, err := m.List()
	if err != nil || len(entries) != 3 || entries[2].Version != "v0.9.0" || entries[2].Problem == "" {
		t.Fatalf("%+v %v", entries, err)
	}
	if removed, err := m.Prune(ctx, 1); err != nil || len(removed) != 0 {
		t.Fatalf("Prune(1) = %q, %v", removed, err)
	}
	if _, err := os.Stat(m.Root().ReleaseDir("v0.9.0")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, PendingFile), []byte("{garbage"), 0o644)
	st, err := m.Status(ctx, false)
	if err != nil || st.Intact || !strings.Contains(st.Problem, PendingFile) || st.Current == nil || st.Current.Version != "v3.0.0" {
		t.Fatalf("%+v %v", st, err)
	}
}
