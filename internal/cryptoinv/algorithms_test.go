package cryptoinv

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEveryCryptoPackageIsMapped: every crypto package of the standard
// library, golang.org/x/crypto and gmsm, as the go command lists them at
// the versions in go.mod, either names its algorithms or protocol, or is
// listed as implementing none with a reason. A new package in an upgrade
// fails here until someone decides.
func TestEveryCryptoPackageIsMapped(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "std", "golang.org/x/crypto/...", "github.com/emmansun/gmsm/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, p := range strings.Fields(string(out)) {
		isCrypto := p == "crypto" || strings.HasPrefix(p, "crypto/") || strings.HasPrefix(p, "golang.org/x/crypto/") || strings.HasPrefix(p, "github.com/emmansun/gmsm/")
		if !isCrypto || strings.Contains(p, "/internal") || strings.HasSuffix(p, "/test") {
			continue
		}
		checked++
		if len(AlgorithmsOf(p)) == 0 && ProtocolOf(p) == "" && withoutAlgorithm[p] == "" {
			t.Errorf("%s is not mapped: add its algorithms, its protocol, or why it has none", p)
		}
	}
	if checked < 80 {
		t.Errorf("only %d crypto packages listed; go list output:\n%s", checked, out)
	}
	for pkg, names := range packageAlgorithms {
		for _, n := range names {
			if _, ok := Lookup(n); !ok {
				t.Errorf("%s names %s, which the algorithm table lacks", pkg, n)
			}
		}
	}
	if got := AlgorithmsOf("golang.org/x/crypto/poly1305"); len(got) != 1 || got[0] != "Poly1305" {
		t.Errorf("poly1305: %v", got)
	}
}
