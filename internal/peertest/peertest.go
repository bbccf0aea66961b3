// Package peertest runs the real peer tools hegui's tests check against
// (openssl, softhsm2-util, pkcs11-tool). A missing peer fails the test with
// the package to install: CI installs them all (.ci/run), and a test that
// silently skipped its peer would prove nothing.
package peertest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debianPackage names the package that provides each peer tool.
var debianPackage = map[string]string{
	"openssl":       "openssl",
	"softhsm2-util": "softhsm2",
	"pkcs11-tool":   "opensc",
}

// Require fails the test unless the named tool is on PATH.
func Require(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is needed by this test and is not installed (apt-get install %s)", tool, debianPackage[tool])
	}
	return path
}

// Run runs tool with args in dir and fails the test if it exits non-zero.
// It returns standard output.
func Run(t testing.TB, dir, tool string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, dir, tool, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", tool, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// RunFails runs tool with args in dir and fails the test if it exits zero.
// It returns standard output and standard error together.
func RunFails(t testing.TB, dir, tool string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, dir, tool, args...)
	if err == nil {
		t.Fatalf("%s %s succeeded, want failure\n%s%s", tool, strings.Join(args, " "), out, errOut)
	}
	return out + errOut
}

// OpenSSL runs openssl with args in dir and returns its standard output.
func OpenSSL(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return Run(t, dir, "openssl", args...)
}

func run(t testing.TB, dir, tool string, args ...string) (string, string, error) {
	t.Helper()
	Require(t, tool)
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// GoHome is a new, empty HOME for the go command with its telemetry off.
// GOTELEMETRY in the environment does not turn telemetry off (go env only
// reports it): the mode file under the user's config directory does.
// Without it the go command writes counters under HOME/.config/go, from a
// process that can outlive it, while the test's directory is removed
// ("directory not empty").
func GoHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	TelemetryOff(t, home)
	return home
}

// TelemetryOff turns the go command's telemetry off for HOME home.
func TelemetryOff(t testing.TB, home string) {
	t.Helper()
	mode := filepath.Join(home, ".config", "go", "telemetry", "mode")
	if err := os.MkdirAll(filepath.Dir(mode), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mode, []byte("off"), 0o644); err != nil {
		t.Fatal(err)
	}
}
