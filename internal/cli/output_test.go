package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readFIFO makes a named pipe at path and reads everything written to it
// on another goroutine. The returned function waits for what was read; if
// nothing opened the pipe for writing by then, it unblocks the reader when
// it can and fails the test.
func readFIFO(t *testing.T, path string) func() []byte {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(path) // waits for a writer
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		got <- data
	}()
	return func() []byte {
		t.Helper()
		select {
		case data := <-got:
			return data
		case <-time.After(10 * time.Second):
			t.Errorf("%s was never opened for writing", path)
			// Opening the pipe for reading and writing never blocks and
			// lets the reader's open return, unless the pipe was replaced.
			if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
				f.Close()
			}
			select {
			case data := <-got:
				return data
			case <-time.After(time.Second):
				return nil
			}
		}
	}
}

// runUnblocking runs hegui like run. A command still running after ten
// seconds is taken as stuck opening one of the named pipes given: they are
// opened at both ends, which lets such an open return, and the test fails.
func (r *runner) runUnblocking(fifos []string, args ...string) result {
	r.t.Helper()
	done := make(chan result, 1)
	go func() { done <- r.run(args...) }()
	select {
	case res := <-done:
		return res
	case <-time.After(10 * time.Second):
		r.t.Errorf("hegui %s: still running after 10 s", strings.Join(args, " "))
		for _, p := range fifos {
			if f, err := os.OpenFile(p, os.O_RDWR, 0); err == nil {
				f.Close()
			}
		}
		return <-done
	}
}

// writesInPlace runs the command args(out) with out a named pipe, read by
// another goroutine, and then with out /dev/null. Both must be written in
// place and stay what they are: a regular file renamed over /dev/null
// would break the machine. /dev/null is tried only when the pipe was
// written in place, so that a regression fails on the pipe first.
func (r *runner) writesInPlace(args func(out string) []string) {
	r.t.Helper()
	fifo := r.path(fmt.Sprintf("out-%d.fifo", time.Now().UnixNano()))
	wait := readFIFO(r.t, fifo)
	res := r.run(args(fifo)...)
	got := wait()
	if res.code != 0 {
		r.t.Fatalf("hegui %s: exit %d\n%s", strings.Join(args(fifo), " "), res.code, res.stderr)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		r.t.Fatalf("hegui %s replaced the named pipe it was to write to", strings.Join(args(fifo), " "))
	}
	if len(got) == 0 {
		r.t.Fatalf("hegui %s wrote nothing through the pipe", strings.Join(args(fifo), " "))
	}
	os.Remove(fifo)

	before, err := os.Stat("/dev/null")
	if err != nil || before.Mode()&fs.ModeCharDevice == 0 {
		r.t.Fatalf("/dev/null is not a character device before the test: %v", err)
	}
	r.ok(args("/dev/null")...)
	after, err := os.Stat("/dev/null")
	if err != nil || after.Mode()&fs.ModeCharDevice == 0 || !os.SameFile(before, after) {
		r.t.Fatalf("hegui %s replaced /dev/null (now %v)", strings.Join(args("/dev/null"), " "), after.Mode())
	}
}

// TestOutputsToDevicesAndPipes: every command that writes a file named by
// the user writes a character device or a named pipe in place, with or
// without --force, instead of renaming a temporary file over it. (The
// commands that need a module, a delivery or a log are checked in their
// own tests: sbom, vuln, vet, report, log get and log proof.)
func TestOutputsToDevicesAndPipes(t *testing.T) {
	r := newRunner(t)
	r.genKey("k", "sm2")
	r.write("data", []byte("data"))
	r.write("sm4.hex", []byte("0123456789abcdeffedcba9876543210\n"))
	r.ok("encrypt", "--key-file", r.path("sm4.hex"), "--out", r.path("data.enc"), r.path("data"))
	r.ok("cert", "ca", "--key", r.path("k.key"), "--subject", "/CN=Root", "--out", r.path("root.pem"))
	r.ok("cert", "csr", "--key", r.path("k.key"), "--subject", "/CN=req", "--out", r.path("req.csr"))
	n := 0
	pub := func() string { n++; return r.path(fmt.Sprintf("k%d.pub", n)) }

	cases := []struct {
		name string
		args func(out string) []string
	}{
		{"sign", func(out string) []string {
			return []string{"sign", "--key", r.path("k.key"), r.path("data"), "-o", out}
		}},
		{"cert ca", func(out string) []string {
			return []string{"cert", "ca", "--key", r.path("k.key"), "--subject", "/CN=Root", "--out", out}
		}},
		{"cert csr", func(out string) []string {
			return []string{"cert", "csr", "--key", r.path("k.key"), "--subject", "/CN=req", "--out", out}
		}},
		{"cert issue", func(out string) []string {
			return []string{"cert", "issue", "--ca", r.path("root.pem"), "--ca-key", r.path("k.key"), "--csr", r.path("req.csr"), "--profile", "code-signing", "--out", out}
		}},
		{"key generate", func(out string) []string {
			return []string{"key", "generate", "--no-password", "--out", out, "--pub", pub()}
		}},
		{"key import", func(out string) []string {
			return []string{"key", "import", r.path("k.key"), "--no-password", "--out", out, "--pub", pub()}
		}},
		{"key export", func(out string) []string {
			return []string{"key", "export", r.path("k.key"), "--no-password", "--out", out, "--pub", pub()}
		}},
		{"key export --public", func(out string) []string {
			return []string{"key", "export", r.path("k.key"), "--public", "--out", out}
		}},
		{"encrypt", func(out string) []string {
			return []string{"encrypt", "--key-file", r.path("sm4.hex"), "--out", out, r.path("data")}
		}},
		{"decrypt", func(out string) []string {
			return []string{"decrypt", "--key-file", r.path("sm4.hex"), "--out", out, r.path("data.enc")}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.t = t
			r.writesInPlace(c.args)
		})
	}
	r.t = t

	// A key's public half cannot go beside a device or a pipe.
	fifo := r.path("key.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	res := r.runUnblocking([]string{fifo}, "key", "generate", "--no-password", "--out", fifo)
	if res.code != ExitUsage || !strings.Contains(res.stderr, "key.fifo is a named pipe (FIFO): give --pub FILE") {
		t.Errorf("key generate --out FIFO without --pub: exit %d, %q", res.code, res.stderr)
	}
}

// TestOutputThroughSymlink: an output path that is a symbolic link to a
// regular file keeps the link and replaces the file it leads to; without
// --force the link is an existing file like any other.
func TestOutputThroughSymlink(t *testing.T) {
	r := newRunner(t)
	r.genKey("k", "sm2")
	r.write("data", []byte("data"))
	os.Mkdir(r.path("sigs"), 0o755)
	r.write("sigs/data.sig", []byte("old"))
	if err := os.Symlink("sigs/data.sig", r.path("link.sig")); err != nil {
		t.Fatal(err)
	}
	r.ok("sign", "--key", r.path("k.key"), r.path("data"), "-o", r.path("link.sig"))
	if fi, err := os.Lstat(r.path("link.sig")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if string(r.read("sigs/data.sig")) == "old" {
		t.Fatal("the file the link leads to was not written")
	}
	r.ok("verify-blob", "--pub", r.path("k.pub"), r.path("data"), "-s", r.path("sigs/data.sig"))

	r.write("sigs/cert.pem", []byte("old"))
	os.Symlink("sigs/cert.pem", r.path("cert-link.pem"))
	r.fails(1, []string{"cert-link.pem already exists", "--force"}, "cert", "ca", "--key", r.path("k.key"), "--subject", "/CN=R", "--out", r.path("cert-link.pem"))
	if string(r.read("sigs/cert.pem")) != "old" {
		t.Error("cert ca without --force wrote through a link")
	}
	entries, _ := os.ReadDir(r.path("sigs"))
	if len(entries) != 2 {
		t.Errorf("temporary files left beside the link's target: %v", entries)
	}
}
