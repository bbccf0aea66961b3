package shred_test

import (
	"testing"

	"hegui.dev/hegui/internal/depbudget"
)

// serviceBudget is every package outside the standard library that a
// service importing shred may compile, and why: the standard library and
// gmsm, nothing that drags in servers or SDKs.
var serviceBudget = map[string]string{
	"github.com/emmansun/gmsm":       "SM4-GCM data keys, SM2 key wrapping, SM3 subject hashes",
	"golang.org/x/crypto/cryptobyte": "gmsm's ASN.1 (SM2 ciphertexts), the standard library's own vendored copy",
	"hegui.dev/hegui/shred":          "this package",
}

// TestServiceDependencyBudget keeps what a service compiles small: a
// dependency this package gains must be added above, with its reason.
func TestServiceDependencyBudget(t *testing.T) {
	depbudget.Check(t, "hegui.dev/hegui/shred", serviceBudget)
}
