package release

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/trust"
	"hegui.dev/hegui/keys"
)

// childEnv makes the test binary an installer (TestMain): it installs the
// delivery named in the variable's JSON and exits, to be killed midway.
const childEnv = "HEGUI_RELEASE_TEST_CHILD"

type childJob struct {
	Root     string
	Delivery string
	Config   Config
	Rollback bool
	Pub      string // the trusted key, PEM
}

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		os.Exit(runChild(job))
	}
	os.Exit(m.Run())
}

func runChild(job string) int {
	var j childJob
	if err := json.Unmarshal([]byte(job), &j); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	m, err := Open(Options{Root: j.Root, Config: j.Config})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	defer m.Close()
	if j.Rollback {
		_, err = m.Rollback(context.Background(), "")
	} else {
		pub, perr := keys.ParsePublicKey([]byte(j.Pub))
		if perr != nil {
			fmt.Fprintln(os.Stderr, perr)
			return 3
		}
		_, err = m.Install(context.Background(), InstallOptions{Delivery: j.Delivery, Anchors: trust.Anchors{Keys: []crypto.PublicKey{pub}}})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKilledMidway kills an installing hegui at random moments, again and
// again: while it verifies, copies, switches, runs the restart command,
// waits for health, or rolls back. After each kill current names a whole
// release, old or new, never nothing; the lock is free; the next command
// reports the interrupted one, cleans what it left and works.
func TestKilledMidway(t *testing.T) {
	bins := serviceBinaries(t)
	root := filepath.Join(t.TempDir(), "srv")
	deliveries := map[string]string{}
	for _, v := range []string{"v1.0.0", "v2.0.0", "v3.0.0"} {
		deliveries[v] = makeDelivery(t, v, bins[v])
	}
	pub, err := keys.MarshalPublicKeyPEM(deliverytest.SM2Key(t).Public())
	if err != nil {
		t.Fatal(err)
	}
	m := open(t, root, Config{})
	if _, err := m.Install(context.Background(), InstallOptions{Delivery: deliveries["v1.0.0"], Anchors: trusted(t)}); err != nil {
		t.Fatal(err)
	}
	// v2 fails its health check (and is rolled back); the restart command
	// takes a while, so that kills land in it too.
	cfg := Config{Restart: "sleep 0.1", Health: HealthConfig{
		Command: `test "$HEGUI_RELEASE_VERSION" != v2.0.0`, Timeout: "400ms", Interval: "20ms", HealthyFor: "100ms",
	}}
	rounds := 30
	if testing.Short() {
		rounds = 10
	}
	seen := map[string]int{}
	for i := range rounds {
		cur, _ := m.Root().Current()
		target := []string{"v1.0.0", "v2.0.0", "v3.0.0"}[i%3]
		if target == cur {
			target = "v3.0.0"
			if cur == "v3.0.0" {
				target = "v2.0.0"
			}
		}
		job, _ := json.Marshal(childJob{Root: root, Delivery: deliveries[target], Config: cfg, Rollback: i%7 == 6, Pub: string(pub)})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+string(job))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rand.IntN(900)) * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		killed := false
		select {
		case err := <-done:
			if err != nil && !strings.Contains(stderr.String(), "not healthy") && !strings.Contains(stderr.String(), "already current") && !strings.Contains(stderr.String(), "nothing to roll back") {
				t.Fatalf("round %d: the child failed on its own: %v: %s", i, err, stderr.String())
			}
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed = true
		}
		after, err := m.Root().Current()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if after == "" {
			t.Fatalf("round %d (killed after %v): no current release", i, delay)
		}
		if _, err := m.Root().Check(after); err != nil {
			t.Fatalf("round %d (killed after %v): current is not a whole release: %v", i, delay, err)
		}
		if _, err := m.Root().Versions(); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		p, _ := m.Root().ReadPending()
		switch {
		case !killed:
			seen["finished"]++
		case after == cur && p == nil:
			seen["killed, old current"]++
		case after == cur:
			seen["killed, old current, interrupted"]++
		default:
			seen["killed, new current, interrupted"]++
		}
	}
	t.Logf("outcomes over %d rounds: %v", rounds, seen)

	// A command after all that: it takes the lock, cleans up, and works.
	last := open(t, root, Config{})
	if _, err := last.Install(context.Background(), InstallOptions{Delivery: deliveries["v3.0.0"], Anchors: trusted(t)}); err != nil {
		t.Fatal(err)
	}
	mustCurrent(t, last.Root(), "v3.0.0")
	entries, _ := os.ReadDir(filepath.Join(root, ReleasesDir))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left over after a clean run: releases/%s", e.Name())
		}
	}
	if p, _ := last.Root().ReadPending(); p != nil {
		t.Errorf("pending.json left: %+v", p)
	}
}
