// Package depbudget holds a public package that services import to the
// dependencies it may compile: its tests list each module outside the
// standard library with the reason it is there, and fail when the package
// gains one that is not listed.
package depbudget

import (
	"os/exec"
	"strings"
	"testing"
)

// Check fails t for every package outside the standard library that pkg
// compiles and that no entry of budget (a package path, or a prefix of
// one, mapped to why it is allowed) covers.
func Check(t *testing.T, pkg string, budget map[string]string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		allowed := false
		for mod := range budget {
			if dep == mod || strings.HasPrefix(dep, mod+"/") {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("%s compiles %s, outside its dependency budget", pkg, dep)
		}
	}
}
