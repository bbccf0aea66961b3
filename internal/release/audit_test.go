package release

import (
	"context"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// TestEventsInAuditLog installs, fails, rolls back and installs again with
// a real hegui log server recording it, reads the events back through the
// log's signed checkpoint, and checks that events made while the log was
// down are sent by the next command.
func TestEventsInAuditLog(t *testing.T) {
	bins := serviceBinaries(t)
	ctx := context.Background()
	h, err := logserver.Init(filepath.Join(t.TempDir(), "log"), logserver.InitOptions{Origin: "audit.test.example/release"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := logserver.AddToken(h.Dir, "release", []string{"release.*"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_RELEASE_TOKEN", token)
	verifiers, err := translog.ReadVerifierKeys(filepath.Join(h.Dir, logserver.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	// The server listens on a fixed address so that it can stop and come
	// back where the spool expects it.
	addr := freeAddr(t)
	serve := func() (stop func()) {
		home, err := logserver.Open(h.Dir)
		if err != nil {
			t.Fatal(err)
		}
		home.Config.CheckpointInterval = logserver.Duration(100 * time.Millisecond)
		srv, err := logserver.New(ctx, logserver.Options{Home: home})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewUnstartedServer(srv.Handler())
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		hs.Listener = l
		hs.Start()
		return func() {
			hs.Close()
			if err := srv.Close(ctx); err != nil {
				t.Error(err)
			}
		}
	}
	stop := serve()
	url := "http://" + addr
	root := filepath.Join(t.TempDir(), "srv")
	cfg := Config{
		Health:   HealthConfig{Command: `test "$HEGUI_RELEASE_VERSION" != v2.0.0`, Timeout: "300ms", Interval: "20ms", HealthyFor: "0s"},
		AuditLog: AuditLogConfig{URL: url, TokenEnv: "TEST_RELEASE_TOKEN"},
	}
	install := func(v string) error {
		m, err := Open(Options{Root: root, Config: cfg, Progress: testWriter{t}})
		if err != nil {
			t.Fatal(err)
		}
		_, ierr := m.Install(ctx, InstallOptions{Delivery: makeDelivery(t, v, bins[v]), Anchors: trusted(t)})
		if err := m.Close(); err != nil {
			return err
		}
		return ierr
	}
	if err := install("v1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := install("v2.0.0"); err == nil || !strings.Contains(err.Error(), "rolled back to v1.0.0") {
		t.Fatalf("install v2: %v", err)
	}
	want := []string{
		"release.switch success svc@v1.0.0", "release.install success svc@v1.0.0",
		"release.switch success svc@v2.0.0", "release.health failure svc@v2.0.0", "release.install failure svc@v2.0.0",
		"release.switch success svc@v1.0.0", "release.rollback success svc@v1.0.0",
	}
	got := readEvents(t, url, verifiers, len(want))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The log is down: the install works, its events wait in the spool.
	stop()
	err = install("v3.0.0")
	if err == nil || !strings.Contains(err.Error(), "spooled in") {
		t.Fatalf("install v3 with the log down: %v", err)
	}
	mustCurrent(t, Root{root}, "v3.0.0")
	// Back up: the next command sends them.
	stop = serve()
	defer stop()
	m, err := Open(Options{Root: root, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Prune(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	want = append(want, "release.switch success svc@v3.0.0", "release.install success svc@v3.0.0")
	got = readEvents(t, url, verifiers, len(want))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events after the log came back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// readEvents waits for the log's signed checkpoint to cover n entries and
// returns each as "action outcome object", every entry proven included.
func readEvents(t *testing.T, url string, verifiers []note.Verifier, n int) []string {
	t.Helper()
	ctx := context.Background()
	src, err := logclient.OpenSource(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(src, verifiers)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cp, err := c.Checkpoint(ctx)
		if err == nil && cp.Size >= uint64(n) {
			var out []string
			for i := range cp.Size {
				entry, err := c.Entry(ctx, i, cp.Size)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Inclusion(ctx, entry, i, cp); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
				e, err := translog.ParseEvent(entry)
				if err != nil {
					t.Fatal(err)
				}
				if e.Application != "hegui-release" || !strings.HasPrefix(e.Actor, "user:") {
					t.Fatalf("entry %d: application %q, actor %q", i, e.Application, e.Actor)
				}
				out = append(out, e.Action+" "+e.Outcome+" "+e.Object)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log's checkpoint does not cover %d entries: %v %v", n, cp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
