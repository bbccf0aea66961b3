package shred_test

import (
	"os/exec"
	"strings"
	"testing"
)

// serviceBudget is every package outside the standard library that a
// service importing shred may compile, and why: the standard library and
// gmsm, nothing that drags in servers or SDKs.
var serviceBudget = map[string]string{
	"github.com/emmansun/gmsm":       "SM4-GCM data keys, SM2 key wrapping, SM3 subject hashes",
	"golang.org/x/crypto/cryptobyte": "gmsm's ASN.1 (SM2 ciphertexts), the standard library's own vendored copy",
	"hegui.dev/hegui/shred":          "this package",
}

// TestServiceDependencyBudget keeps what a service compiles small.
func TestServiceDependencyBudget(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "hegui.dev/hegui/shred").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		allowed := false
		for mod := range serviceBudget {
			if pkg == mod || strings.HasPrefix(pkg, mod+"/") {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("hegui.dev/hegui/shred compiles %s, outside its dependency budget", pkg)
		}
	}
}
