package sm4http_test

import (
	"testing"

	"hegui.dev/hegui/internal/depbudget"
)

// serviceBudget is every package outside the standard library that a
// service importing sm4http may compile, and why: the standard library and
// gmsm, nothing that drags in servers or SDKs.
var serviceBudget = map[string]string{
	"github.com/emmansun/gmsm":       "SM4-GCM, SM2 encryption",
	"golang.org/x/crypto/cryptobyte": "gmsm's ASN.1 (SM2 ciphertexts), the standard library's own vendored copy",
	"hegui.dev/hegui/sm4http":        "this package",
}

// TestServiceDependencyBudget keeps what a service compiles small: a
// dependency this package gains must be added above, with its reason.
func TestServiceDependencyBudget(t *testing.T) {
	depbudget.Check(t, "hegui.dev/hegui/sm4http", serviceBudget)
}
