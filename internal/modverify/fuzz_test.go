package modverify

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
)

// FuzzParseGoSum: a go.sum is input from a repository; ParseGoSum never
// panics, and every line it accepts names a module version the go command
// would take ("0..0 v0" is one: ".." inside an element is allowed, as an
// element it is not).
func FuzzParseGoSum(f *testing.F) {
	f.Add([]byte("github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ngithub.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"))
	f.Add([]byte("x v1 h\n\n../.. v0.0.0 h1:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := ParseGoSum(data)
		if err != nil {
			return
		}
		for _, l := range lines {
			if err := module.Check(l.Module, strings.TrimSuffix(l.Version, "/go.mod")); err != nil || l.Hash == "" || slices.Contains(strings.Split(l.Module, "/"), "..") {
				t.Fatalf("accepted %+v (%v)", l, err)
			}
		}
	})
}

// FuzzHashZip: a module zip comes from the upstream; HashZip, which
// inflates its files ahead of dirhash on several CPUs, never panics or
// hangs, and agrees with dirhash.HashZip: the same hash, or both fail.
func FuzzHashZip(f *testing.F) {
	for _, files := range [][][2]string{
		{{"m@v1/go.mod", "module m\n"}, {"m@v1/a.go", strings.Repeat("package a\n", 300)}},
		{{"b", "x"}, {"a", ""}, {"b", "y"}, {"c/d", strings.Repeat("\x00", 5000)}},
	} {
		f.Add(zipOf(f, files))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		z := filepath.Join(t.TempDir(), "f.zip")
		if err := os.WriteFile(z, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if runtime.GOMAXPROCS(0) < 2 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
		}
		want, werr := dirhash.HashZip(z, dirhash.Hash1)
		got, err := HashZip(z)
		if (err == nil) != (werr == nil) || got != want {
			t.Fatalf("HashZip = %q, %v; dirhash.HashZip = %q, %v", got, err, want, werr)
		}
	})
}
