// Package golden compares a generated document with its golden file in the
// test's testdata directory, or rewrites the file when the tests run with
// -update:
//
//	go test ./internal/deliver/provenance -update   # then review git diff
//
// A difference is reported with the first line that differs, so a review
// starts where the change is.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata instead of comparing with them")

// Check compares got with testdata/name (name may contain slashes), or
// writes it there with -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it; review it before committing)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file at %s (go test -update rewrites it; review the diff)", path, firstDifference(got, want))
	}
}

// firstDifference names the first line where got and want differ, with both.
func firstDifference(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			col := 0
			for col < len(gl) && col < len(wl) && gl[col] == wl[col] {
				col++
			}
			from := max(0, col-60)
			return fmt.Sprintf("line %d, byte %d:\n  got:  …%.160s\n  want: …%.160s", i+1, col+1, gl[from:], wl[from:])
		}
	}
	return "the end"
}

// Updating reports whether the tests run with -update, for tests that
// regenerate a whole directory of vectors rather than one file.
func Updating() bool { return *update }
