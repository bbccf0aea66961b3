package vulns

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
)

// TestSkips checks the two ways the scan does not run: turned off, and no
// database. Both are skips with a warning, which the report shows as a
// skipped scan with the reason and the policy's no-scan gate reads. The
// scans themselves are tested in package vulnscan and, end to end, in the
// command's tests.
func TestSkips(t *testing.T) {
	d := deliverytest.New(t)
	d.Config.Vulnerabilities.Scan = config.Off
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) || skip.Warning == "" || !strings.Contains(skip.Reason, "vulnerabilities.scan is off") {
		t.Errorf("scan off: %v, want a skip with a warning", err)
	}

	d = deliverytest.New(t)
	d.Config.Vulnerabilities.Database = filepath.Join(t.TempDir(), "no-such-db")
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) || !strings.Contains(skip.Warning, "vulnerability scan skipped") || !strings.Contains(skip.Reason, "no-such-db") {
		t.Errorf("no database: %v, want a skip naming the database", err)
	}
	if d.Vulns != nil {
		t.Error("a skipped scan left a result")
	}
}
