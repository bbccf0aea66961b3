package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/internal/peertest"
)

// TestUnitGolden: the unit for the defaults and for a service that needs a
// low port, a state directory and a reload signal.
func TestUnitGolden(t *testing.T) {
	for name, o := range map[string]UnitOptions{
		"default.service": {Name: "app", Root: "/srv/app"},
		"web.service": {Name: "web", Root: "/srv/web", Args: []string{"-listen", ":443", "-config", "/etc/web/my config.yaml"},
			Capabilities: []string{"net_bind_service"}, StateDirectory: true, LogsDirectory: true, ReloadSignal: "HUP",
			Environment: []string{"GOMAXPROCS=2", "GREETING=100%"}, ReadWritePaths: []string{"/var/cache/web"}},
	} {
		t.Run(name, func(t *testing.T) {
			data, err := Unit(o)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "unit/"+name, data)
		})
	}
}

// exposure runs systemd-analyze security offline on a unit and returns its
// overall exposure score (0 best, 10 worst).
func exposure(t *testing.T, unit string) float64 {
	t.Helper()
	out := peertest.Run(t, filepath.Dir(unit), "systemd-analyze", "security", "--offline=true", "--no-pager", unit)
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return score
}

// TestUnitSecurityScore holds the units to systemd's own rating: "OK"
// (below 2) with and without a capability, and checks systemd-analyze
// verify accepts them with a binary in place.
func TestUnitSecurityScore(t *testing.T) {
	peertest.Require(t, "systemd-analyze")
	root := t.TempDir()
	bin := filepath.Join(root, CurrentLink, "bin", "app")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A name no unit of this machine has (Debian masks some common ones).
	const name = "hegui-release-test"
	for _, o := range []UnitOptions{
		{Name: name, Binary: "app", User: "app", Root: root},
		{Name: name, Binary: "app", User: "app", Root: root, Capabilities: []string{"NET_BIND_SERVICE"}, StateDirectory: true, ReloadSignal: "USR2"},
	} {
		data, err := Unit(o)
		if err != nil {
			t.Fatal(err)
		}
		unit := filepath.Join(t.TempDir(), name+".service")
		if err := os.WriteFile(unit, data, 0o644); err != nil {
			t.Fatal(err)
		}
		score := exposure(t, unit)
		t.Logf("capabilities %v: exposure %.1f", o.Capabilities, score)
		if score >= 2 {
			t.Errorf("capabilities %v: exposure %.1f, want below 2 (OK)", o.Capabilities, score)
		}
		// verify checks every directive and that ExecStart is executable.
		if out, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}

func TestUnitRefuses(t *testing.T) {
	for _, o := range []UnitOptions{
		{Name: "app", Root: "relative"},
		{Name: "a pp", Root: "/srv/app"},
		{Name: "app", Root: "/srv/my app"},
		{Name: "app", Root: "/srv/app", User: "root"},
		{Name: "app", Root: "/srv/app", Capabilities: []string{"CAP_SYS_ADMIN; rm"}},
		{Name: "app", Root: "/srv/app", Environment: []string{"NOEQUALS"}},
		{Name: "app", Root: "/srv/app", Environment: []string{"A=\"x\""}},
		{Name: "app", Root: "/srv/app", ReadWritePaths: []string{"var/lib"}},
		{Name: "app", Root: "/srv/app", Args: []string{"a\nExecStartPre=/bin/sh"}},
		{Name: "app", Root: "/srv/app", ReloadSignal: "KILL"},
	} {
		if _, err := Unit(o); err == nil {
			t.Errorf("Unit(%+v) made a unit", o)
		}
	}
}
