package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/cmdutil"
)

// run runs hegui in-process with a test environment: the given environment
// variables (HEGUI_KEYRING defaults to a fresh directory), no terminal, and
// passwords from the prompts queue when a command asks.
type runner struct {
	t       *testing.T
	dir     string
	env     map[string]string
	prompts []string
	// environ, if set, is the whole environment commands that run
	// programs see (hegui kit doctor); else the test process's.
	environ []string
}

func newRunner(t *testing.T) *runner {
	t.Helper()
	dir := t.TempDir()
	return &runner{t: t, dir: dir, env: map[string]string{
		"HEGUI_KEYRING": filepath.Join(dir, "keyring"),
		"HEGUI_VULNDB":  filepath.Join(dir, "no-vulndb"), // tests that scan set their own
	}}
}

type result struct {
	code           int
	stdout, stderr string
}

// path returns an absolute path in the runner's directory.
func (r *runner) path(name string) string { return filepath.Join(r.dir, name) }

func (r *runner) run(args ...string) result {
	r.t.Helper()
	return r.runContext(context.Background(), args...)
}

// runContext is run with the context a signal would cancel.
func (r *runner) runContext(ctx context.Context, args ...string) result {
	r.t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cmdutil.Env{
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return r.env[k] },
		Environ: func() []string {
			if r.environ != nil {
				return r.environ
			}
			return os.Environ()
		},
		ReadPassword: func(prompt string) ([]byte, error) {
			if len(r.prompts) == 0 {
				return nil, errors.New("no terminal to ask for a password")
			}
			pw := r.prompts[0]
			r.prompts = r.prompts[1:]
			return []byte(pw), nil
		},
	}
	code := Run(ctx, env, args)
	res := result{code, stdout.String(), stderr.String()}
	// A failure ends with exactly one "hegui: " line: the error. Commands
	// that show progress (deliver) print it before.
	if code != 0 {
		lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
		errLines := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "hegui: ") {
				errLines++
			}
		}
		if errLines != 1 || !strings.HasPrefix(lines[len(lines)-1], "hegui: ") {
			r.t.Errorf("hegui %s: failure output does not end in one \"hegui: \" line: %q", strings.Join(args, " "), res.stderr)
		}
	}
	if strings.Contains(res.stderr, "panic") || strings.Contains(res.stderr, "goroutine ") {
		r.t.Errorf("hegui %s: stack trace on stderr: %s", strings.Join(args, " "), res.stderr)
	}
	return res
}

// ok runs hegui and fails the test unless it exits 0.
func (r *runner) ok(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("hegui %s: exit %d\n%s%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

// fails runs hegui, expects exit code want and a message containing each of
// the fragments, and returns the message.
func (r *runner) fails(want int, fragments []string, args ...string) string {
	r.t.Helper()
	res := r.run(args...)
	if res.code != want {
		r.t.Errorf("hegui %s: exit %d, want %d\n%s%s", strings.Join(args, " "), res.code, want, res.stdout, res.stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(res.stderr, f) {
			r.t.Errorf("hegui %s: message %q does not mention %q", strings.Join(args, " "), res.stderr, f)
		}
	}
	return res.stderr
}

func (r *runner) write(name string, data []byte) string {
	r.t.Helper()
	p := r.path(name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *runner) read(name string) []byte {
	r.t.Helper()
	data, err := os.ReadFile(r.path(name))
	if err != nil {
		r.t.Fatal(err)
	}
	return data
}

// files lists the names in the runner's directory, to check that a failed
// command left nothing behind.
func (r *runner) files() []string {
	r.t.Helper()
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// genKey makes an unencrypted key pair NAME.key / NAME.pub quickly.
func (r *runner) genKey(name, alg string) {
	r.t.Helper()
	r.ok("key", "generate", "--alg", alg, "--no-password", "--out", r.path(name+".key"))
}
