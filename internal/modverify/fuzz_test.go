package modverify

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/module"
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
