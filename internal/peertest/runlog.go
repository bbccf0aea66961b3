package peertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// LogRuns puts ahead of PATH a script for each named command that logs the
// command's arguments and runs the real one, so a test can count the
// processes without replacing them. It returns a function that reads the
// log, one "name args" line per run, and clears it. A command that is not
// installed fails the test.
func LogRuns(t *testing.T, names ...string) func() []string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the logging scripts are shell scripts")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "runs.log")
	for _, name := range names {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s is needed by this test and is not installed", name)
		}
		script := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >> '%s'\nexec '%s' \"$@\"\n", name, log, real)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() []string {
		data, err := os.ReadFile(log)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		os.Remove(log)
		return strings.FieldsFunc(string(data), func(r rune) bool { return r == '\n' })
	}
}
