package reproduce

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDifferenceNamesTheSection(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/p\n\ngo 1.26.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(\"reproducible\") }\n"), 0o644)
	a := filepath.Join(dir, "a")
	cmd := exec.Command("go", "build", "-o", a, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data, _ := os.ReadFile(a)
	ef, err := elf.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	rodata := ef.Section(".rodata")
	ef.Close()
	off := rodata.Offset + 100
	data[off] ^= 0xff
	b := filepath.Join(dir, "b")
	os.WriteFile(b, data, 0o755)

	diff, err := Difference(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(diff, "in section .rodata") || !strings.Contains(diff, "first difference at offset") {
		t.Errorf("difference: %s", diff)
	}
	r, err := compare(context.Background(), a, b, "0000")
	if err != nil || r.Status != "different" || !strings.Contains(r.Difference, ".rodata") {
		t.Errorf("compare: %+v %v", r, err)
	}
}

// TestCloneWithChanges: the second source tree holds HEAD plus every
// uncommitted change, added, modified and deleted, so that the go command
// sees the same files and the same "modified" VCS state.
func TestCloneWithChanges(t *testing.T) {
	root := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	write("kept.txt", "kept")
	write("changed.txt", "old")
	write("deleted.txt", "gone soon")
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "x")
	out, _ := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	write("changed.txt", "new")
	write("sub/untracked.txt", "untracked")
	os.Remove(filepath.Join(root, "deleted.txt"))

	dst := filepath.Join(t.TempDir(), "copy")
	if err := cloneWithChanges(context.Background(), root, dst, strings.TrimSpace(string(out))); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dst, name)); return string(b) }
	if read("kept.txt") != "kept" || read("changed.txt") != "new" || read("sub/untracked.txt") != "untracked" {
		t.Errorf("copy: kept %q changed %q untracked %q", read("kept.txt"), read("changed.txt"), read("sub/untracked.txt"))
	}
	if _, err := os.Stat(filepath.Join(dst, "deleted.txt")); !os.IsNotExist(err) {
		t.Error("deleted file present in the copy")
	}
}

func TestLocalReplaceOutsideTheTree(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "app")
	os.MkdirAll(mod, 0o755)
	os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/app\n\nreplace example.com/lib => ../../lib\n"), 0o644)
	if err := checkReplaces(mod, root); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("err = %v", err)
	}
	os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/app\n\nreplace example.com/lib => ../lib\n"), 0o644)
	if err := checkReplaces(mod, root); err != nil {
		t.Errorf("replacement inside the tree refused: %v", err)
	}
}
