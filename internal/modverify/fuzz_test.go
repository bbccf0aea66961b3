package modverify

import (
	"strings"
	"testing"
)

// FuzzParseGoSum: a go.sum is input from a repository; ParseGoSum never
// panics, and every line it accepts names a valid module version.
func FuzzParseGoSum(f *testing.F) {
	f.Add([]byte("github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ngithub.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"))
	f.Add([]byte("x v1 h\n\n../.. v0.0.0 h1:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := ParseGoSum(data)
		if err != nil {
			return
		}
		for _, l := range lines {
			if l.Module == "" || strings.Contains(l.Module, "..") || l.Hash == "" {
				t.Fatalf("accepted %+v", l)
			}
		}
	})
}
