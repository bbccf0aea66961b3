package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`signal: SIGHUP
pidfile: /run/app.pid
health:
  http: http://127.0.0.1:8080/healthz
  grpc: 127.0.0.1:9090
  grpc-service: app
  timeout: 20s
  interval: 100ms
  healthy-for: 2s
files: [documents/*.yaml]
keep: 3
pub: [release.pub]
audit-log:
  url: https://audit.example.cn
`))
	if err != nil {
		t.Fatal(err)
	}
	timing, _ := c.Health.timing()
	if c.Signal != "SIGHUP" || c.Keep != 3 || timing.Timeout.String() != "20s" || timing.HealthyFor.String() != "2s" || c.Pubs[0] != "release.pub" {
		t.Fatalf("%+v %+v", c, timing)
	}
	for in, want := range map[string]string{
		"restart: x\nsignal: HUP\npidfile: p":       "give one way to restart",
		"signal: KILL\npidfile: p":                  "give one of SIGHUP",
		"signal: HUP":                               "signal: needs pidfile",
		"keep: 1":                                   "nothing to roll back to",
		"keep: -2":                                  "at least 2",
		"files: [/etc/passwd]":                      "give a path in the delivery",
		"files: ['[']":                              "give a path in the delivery",
		"health:\n  grpc-service: x":                "needs health.grpc",
		"health:\n  timeout: soon":                  "health.timeout",
		"health:\n  timeout: 1s\n  healthy-for: 2s": "must be shorter",
		"restart: x\nrestat: y":                     "restat",
	} {
		_, err := ParseConfig([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfig(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestMergeFlagsOverFile(t *testing.T) {
	file := Config{Restart: "systemctl restart app", Health: HealthConfig{HTTP: "http://a/", Timeout: "10s"}, Keep: 3}
	got := file.Merge(Config{Signal: "HUP", PIDFile: "/run/app.pid", Health: HealthConfig{Timeout: "5s"}})
	if got.Restart != "" || got.Signal != "HUP" || got.Health.HTTP != "http://a/" || got.Health.Timeout != "5s" || got.Keep != 3 {
		t.Fatalf("%+v", got)
	}
}

// FuzzParseConfig: release.yaml never panics the parser, and what it
// accepts passes Check.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("restart: systemctl restart app\nhealth:\n  http: http://127.0.0.1/healthz\n"))
	f.Add([]byte("signal: USR2\npidfile: run/app.pid\nkeep: 5\n"))
	f.Add([]byte("health: {timeout: 1s, healthy-for: 0s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Check(); err != nil {
			t.Fatalf("accepted %q, then Check: %v", data, err)
		}
	})
}

// TestLoadConfigPermissions: a release.yaml others can write is refused
// (its commands run as the operator); a missing one is the zero Config.
func TestLoadConfigPermissions(t *testing.T) {
	root := t.TempDir()
	if c, err := LoadConfig(root); err != nil || c.Restart != "" {
		t.Fatalf("no release.yaml: %+v %v", c, err)
	}
	name := filepath.Join(root, ConfigFile)
	if err := os.WriteFile(name, []byte("restart: systemctl restart app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadConfig(root); err != nil || c.Restart != "systemctl restart app" {
		t.Fatalf("%+v %v", c, err)
	}
	os.Chmod(name, 0o666)
	if _, err := LoadConfig(root); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("world-writable release.yaml: %v", err)
	}
}
