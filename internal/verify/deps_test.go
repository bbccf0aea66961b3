package verify

import (
	"os/exec"
	"strings"
	"testing"
)

// TestVerifierStaysSmall keeps `hegui verify` apart from the pipeline: it
// reads deliveries through package format and never compiles a stage, a
// scanner or a log server.
func TestVerifierStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "hegui.dev/hegui/internal/verify").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"hegui.dev/hegui/internal/deliver",  // the stages
		"hegui.dev/hegui/internal/sast",     // gosec and go vet's analyzers
		"hegui.dev/hegui/internal/vulnscan", // golang.org/x/vuln
		"hegui.dev/hegui/internal/logserver",
		"hegui.dev/hegui/internal/oscal",      // OSCAL documents: hegui report's
		"github.com/defenseunicorns/go-oscal", // and the OSCAL model it writes with
		"hegui.dev/hegui/translog/logclient",  // Tessera's client and OpenTelemetry
		"github.com/securego/gosec",
		"golang.org/x/tools/go/analysis",
		"golang.org/x/vuln",
		"github.com/transparency-dev/tessera",
		"go.opentelemetry.io",
	}
	pkgs := strings.Fields(string(out))
	for _, pkg := range pkgs {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				t.Errorf("internal/verify compiles %s", pkg)
			}
		}
	}
	t.Logf("internal/verify compiles %d packages", len(pkgs))
}
