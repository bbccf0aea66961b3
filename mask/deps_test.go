package mask_test

import (
	"os/exec"
	"strings"
	"testing"
)

// serviceBudget is every package outside the standard library that a
// service importing mask may compile, and why: the standard library and
// gmsm, nothing that drags in servers or SDKs.
var serviceBudget = map[string]string{
	"github.com/emmansun/gmsm":         "SM3 (HMAC pseudonyms) and SM4 (encryption)",
	"hegui.dev/hegui/internal/jsonstr": "JSON strings, standard library only",
	"hegui.dev/hegui/mask":             "this package",
}

// TestServiceDependencyBudget keeps what a service compiles small.
func TestServiceDependencyBudget(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "hegui.dev/hegui/mask").Output()
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
			t.Errorf("hegui.dev/hegui/mask compiles %s, outside its dependency budget", pkg)
		}
	}
}
