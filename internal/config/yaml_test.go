package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"hegui.dev/hegui/internal/inputfile"
)

// aliasBomb is a "billion laughs" document of under 500 bytes: ten
// levels of nine aliases each, 9^10 scalars once expanded, in a key the
// configuration has. The decoder of goccy/go-yaml v1.19.2 expands it in
// full (seven levels already take 1.5 s).
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("version: 1\ntargets:\n  - &l0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  - &l%d [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ","))
	}
	return b.String()
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileYAMLIsRefused: documents that made the decoder grow past
// gigabytes are refused from their tokens, before the parser or the
// decoder sees them, with an error that says why.
func TestHostileYAMLIsRefused(t *testing.T) {
	bomb := aliasBomb()
	if len(bomb) > 500 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	cases := []struct {
		name, doc, want string
	}{
		{"alias bomb", bomb, "line 3: YAML anchors and aliases"},
		{"flow nesting, 200 KB", "version: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000), "line 1: collections nested more than 64 deep"},
		{"block nesting on one line", strings.Repeat("- ", 100_000) + "x\n", "line 1: collections nested more than 64 deep"},
		{"mapping nesting", nestedMappings(MaxYAMLDepth + 1), "line 65: collections nested more than 64 deep"},
		{"too large", "version: 1\n" + strings.Repeat("#", MaxYAMLSize), "more than the 256 KiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = Parse([]byte(c.doc)) })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if n > 128<<20 {
				t.Errorf("refusing it allocated %d MiB", n>>20)
			}
			var v any
			if err := DecodeYAML([]byte(c.doc), &v); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("DecodeYAML: error %v, want %q", err, c.want)
			}
		})
	}
}

// nestedMappings is depth mappings, one inside the other, one per line.
func nestedMappings(depth int) string {
	var b strings.Builder
	for i := range depth {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", i), i)
	}
	return b.String()
}

func TestYAMLLimitsAreExact(t *testing.T) {
	var v any
	// The root mapping is one level; 63 flow sequences inside it make 64.
	ok := "k: " + strings.Repeat("[", MaxYAMLDepth-1) + strings.Repeat("]", MaxYAMLDepth-1) + "\n"
	if err := DecodeYAML([]byte(ok), &v); err != nil {
		t.Errorf("64 levels: %v", err)
	}
	deeper := "k: [" + strings.TrimSuffix(ok[3:], "\n") + "]\n"
	if err := DecodeYAML([]byte(deeper), &v); err == nil || !strings.Contains(err.Error(), "nested more than 64 deep") {
		t.Errorf("65 levels: error %v", err)
	}
	if err := DecodeYAML([]byte(nestedMappings(MaxYAMLDepth)), &v); err != nil {
		t.Errorf("64 nested block mappings: %v", err)
	}
	// Sequences of mappings, and mappings after a dedent, count once each.
	doc := "a:\n  - b: 1\n    c:\n      - d\n  - e: 2\nf: 3\n"
	if err := checkYAML([]byte(doc)); err != nil {
		t.Errorf("%q: %v", doc, err)
	}
	if err := DecodeYAML([]byte("version: 1\n"+strings.Repeat("#", MaxYAMLSize-11)), &v); err != nil {
		t.Errorf("a document of exactly MaxYAMLSize bytes: %v", err)
	}
	// '&' and '*' inside values are not anchors or aliases.
	if err := DecodeYAML([]byte("a: \"&x *y\"\nb: x&y*z\nc: [\"*\"]\n# &anchor *alias\n"), &v); err != nil {
		t.Errorf("'&' and '*' in scalars and comments: %v", err)
	}
	// A plain anchor, without a bomb, is refused all the same.
	_, err := Parse([]byte("version: 1\ntargets: &t [linux/amd64]\nbuilds:\n  - main: .\n    targets: *t\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2: YAML anchors and aliases") {
		t.Errorf("anchor: error %v", err)
	}
}

func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hegui.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(fifo); done <- err }()
	select {
	case err := <-done:
		var nr *inputfile.NotRegularError
		if !errors.As(err, &nr) {
			t.Errorf("FIFO: error %v, want a NotRegularError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load of a FIFO blocked")
	}

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("version: 1\n"+strings.Repeat("#", MaxYAMLSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	var tl *inputfile.TooLargeError
	if _, err := Load(big); !errors.As(err, &tl) {
		t.Errorf("oversized file: error %v, want a TooLargeError", err)
	}
}

func TestNamesThatBecomeFileNames(t *testing.T) {
	for _, name := range []string{"node_exporter", "restic", "hello-world", "app.v2", "gtk+3", "X", strings.Repeat("a", MaxNameLength)} {
		doc := fmt.Sprintf("version: 1\nproject:\n  name: %s\nbuilds:\n  - main: ./cmd/%s\n    id: %s\n  - main: .\n    binary: %s\n", name, name, name, name)
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
	for _, out := range []string{"dist", "build/deliveries", "../deliveries", "/srv/hegui/deliveries", ".hegui/out", "dist/"} {
		if _, err := Parse([]byte("version: 1\noutput: " + out + "\n")); err != nil {
			t.Errorf("output %q refused: %v", out, err)
		}
	}
	long := strings.Repeat("a", MaxNameLength+1)
	cases := []struct{ yaml, want string }{
		{"version: 1\nproject:\n  name: " + long + "\n", `line 3: project.name "aaaa`},
		{"version: 1\nproject:\n  name: " + long + "\n", "is 101 characters long: at most 100"},
		{"version: 1\nproject:\n  name: .hidden\n", `line 3: project.name ".hidden" is not a plain file name`},
		{"version: 1\nproject:\n  name: -rf\n", `project.name "-rf" is not a plain file name`},
		{"version: 1\nproject:\n  name: a/b\n", `project.name "a/b"`},
		{"version: 1\nproject:\n  name: \"a b\"\n", `project.name "a b"`},
		{"version: 1\nproject:\n  name: \"a\\tb\"\n", `project.name "a\tb"`},
		{"version: 1\nproject:\n  name: 名字\n", "project.name"},
		{"version: 1\nbuilds:\n  - main: .\n    binary: " + long + "\n", "line 4: builds[0].binary"},
		{"version: 1\nbuilds:\n  - main: .\n    binary: ..\n", `line 4: builds[0].binary ".."`},
		{"version: 1\nbuilds:\n  - main: .\n    id: " + long + "\n", "line 4: builds[0].id"},
		{"version: 1\nbuilds:\n  - main: .\n    id: ../../x\n", `line 4: builds[0].id "../../x"`},
		{"version: 1\nbuilds:\n  - main: ./cmd/.hidden\n", `line 3: builds[0].main "./cmd/.hidden" gives the binary name ".hidden"`},
		{"version: 1\nbuilds:\n  - main: ..\n", `set builds[0].binary`},
		{"version: 1\noutput: -o\n", `line 2: output "-o" has the element "-o"`},
		{"version: 1\noutput: \"dist/a b\"\n", `has the element "a b"`},
		{"version: 1\noutput: " + strings.Repeat("d/", 128) + "\n", "line 2: output"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.60q: error %v, want %q", c.yaml, err, c.want)
			continue
		}
		if len(err.Error()) > 300 {
			t.Errorf("%.60q: error is %d bytes long", c.yaml, len(err.Error()))
		}
	}
}
