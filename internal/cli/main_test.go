package cli

import (
	"os"
	"testing"

	"hegui.dev/hegui/internal/vuln"
)

// TestMain lets this test binary serve as the vulnerability engine's
// process when a delivery under test scans (hegui's main does the same).
func TestMain(m *testing.M) {
	vuln.RunChildIfRequested()
	os.Exit(m.Run())
}
