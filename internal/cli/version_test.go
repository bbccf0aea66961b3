package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/cmdutil"
)

// TestWriteVersion: each way a binary can be built reads as it should.
func TestWriteVersion(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    cmdutil.VersionInfo
		want string
	}{
		{"release", cmdutil.VersionInfo{Version: "v1.2.3", Commit: "0123abcd", BuildTime: "2026-11-21T08:00:00Z", GoVersion: "go1.26.0", Platform: "linux/amd64"},
			"hegui v1.2.3\n  commit:  0123abcd\n  built:   2026-11-21T08:00:00Z (commit time)\n  go:      go1.26.0 linux/amd64\n  pkcs11:  not available (built with CGO_ENABLED=0; use hegui-pkcs11)\n"},
		{"modified, with PKCS#11", cmdutil.VersionInfo{Version: "(devel)", Commit: "0123abcd", Modified: true, GoVersion: "go1.26.0", Platform: "linux/arm64", CGO: true, PKCS11: true},
			"hegui (devel)\n  commit:  0123abcd (with uncommitted changes)\n  go:      go1.26.0 linux/arm64\n  pkcs11:  available\n"},
		{"no VCS stamp, cgo without PKCS#11", cmdutil.VersionInfo{Version: "(unknown)", GoVersion: "go1.26.0", Platform: "linux/loong64", CGO: true},
			"hegui (unknown)\n  commit:  unknown (built without VCS stamping)\n  go:      go1.26.0 linux/loong64\n  pkcs11:  not available (built with CGO_ENABLED=0; use hegui-pkcs11)\n"},
	} {
		var out bytes.Buffer
		writeVersion(&out, tt.v)
		if out.String() != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, out.String(), tt.want)
		}
	}
}

// TestRunVersion: the test binary's own build information, for a person
// and as JSON.
func TestRunVersion(t *testing.T) {
	run := func(o VersionOptions) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		env := &cmdutil.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
		if err := RunVersion(context.Background(), env, o); err != nil {
			t.Fatal(err)
		}
		if stderr.Len() != 0 {
			t.Errorf("stderr: %q", stderr.String())
		}
		return stdout.String()
	}
	want := cmdutil.Version()
	text := run(VersionOptions{})
	if !strings.HasPrefix(text, "hegui "+want.Version+"\n  commit:  ") || !strings.Contains(text, "\n  go:      "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n") {
		t.Errorf("text:\n%s", text)
	}
	var got cmdutil.VersionInfo
	if err := json.Unmarshal([]byte(run(VersionOptions{JSON: true})), &got); err != nil {
		t.Fatal(err)
	}
	if got != want || got.GoVersion != runtime.Version() {
		t.Errorf("JSON %+v, want %+v", got, want)
	}
}
