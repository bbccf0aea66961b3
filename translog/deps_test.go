package translog_test

import (
	"testing"

	"hegui.dev/hegui/internal/depbudget"
)

// serviceBudget is every module outside the standard library that a
// service importing this package may compile, and why. Services import the
// event type, the appender, the slog handler and proof checking from here;
// reading a whole log (Tessera's client, OpenTelemetry) is logclient's,
// running one is the server's.
var serviceBudget = map[string]string{
	"github.com/emmansun/gmsm":            "SM2 checkpoint signatures",
	"golang.org/x/crypto/cryptobyte":      "gmsm's DER parsing (golang.org/x/crypto, the standard library's own vendored copy)",
	"golang.org/x/mod/sumdb/note":         "signed notes: checkpoints (C2SP signed-note), no dependencies",
	"github.com/transparency-dev/merkle":  "RFC 6962 inclusion and consistency proofs, no dependencies",
	"github.com/transparency-dev/formats": "the C2SP tlog-checkpoint body, no dependencies",
	"github.com/go-json-experiment/json":  "strict event parsing (encoding/json/v2 before Go ships it)",
	"hegui.dev/hegui/translog":            "this package",
	"hegui.dev/hegui/internal/jsonstr":    "canonical JSON strings, shared with mask; standard library only",
}

// TestServiceDependencyBudget keeps what a service compiles small: a
// dependency this package gains must be added above, with its reason.
func TestServiceDependencyBudget(t *testing.T) {
	depbudget.Check(t, "hegui.dev/hegui/translog", serviceBudget)
}
