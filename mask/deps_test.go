package mask_test

import (
	"testing"

	"hegui.dev/hegui/internal/depbudget"
)

// serviceBudget is every package outside the standard library that a
// service importing mask may compile, and why: the standard library and
// gmsm, nothing that drags in servers or SDKs.
var serviceBudget = map[string]string{
	"github.com/emmansun/gmsm":         "SM3 (HMAC pseudonyms) and SM4 (encryption)",
	"hegui.dev/hegui/internal/jsonstr": "JSON strings, standard library only",
	"hegui.dev/hegui/mask":             "this package",
}

// TestServiceDependencyBudget keeps what a service compiles small: a
// dependency this package gains must be added above, with its reason.
func TestServiceDependencyBudget(t *testing.T) {
	depbudget.Check(t, "hegui.dev/hegui/mask", serviceBudget)
}
