package format

import (
	"strings"
	"testing"
)

// TestReadReportV1: a report.json of schema v1 (an earlier hegui, whose
// matrix did not keep the vendor's part apart from the operator's) is
// refused with what to do, not with a schema error at some field.
func TestReadReportV1(t *testing.T) {
	_, err := ReadReport([]byte(`{"schema": "hegui.dev/report/v1", "compliance": [{"counts": {}}]}`))
	if err == nil || !strings.Contains(err.Error(), "is hegui.dev/report/v1") || !strings.Contains(err.Error(), "deliver again") {
		t.Errorf("v1 report: %v", err)
	}
	if _, err := ReadReport([]byte(`{"schema": "hegui.dev/report/v2"}`)); err == nil || !strings.Contains(err.Error(), "does not match schema") {
		t.Errorf("an incomplete v2 report: %v", err)
	}
}
