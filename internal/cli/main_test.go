package cli

import (
	"os"
	"path/filepath"
	"testing"

	vulnengine "hegui.dev/hegui/internal/vulnscan/engine"
)

// TestMain lets this test binary serve as the vulnerability engine's
// process when a delivery under test scans (hegui's main does the same),
// and removes what the tests share across the run (testVulnDB) at its end.
func TestMain(m *testing.M) {
	vulnengine.RunIfRequested()
	code := m.Run()
	if vulnDBPath != "" {
		os.RemoveAll(filepath.Dir(vulnDBPath))
	}
	os.Exit(code)
}
