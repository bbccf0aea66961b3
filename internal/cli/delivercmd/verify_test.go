package delivercmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/verify"
)

// TestRunVerify runs the command's run function on the sample deliveries
// (testdata/delivery): a checklist, or JSON, and an error naming the
// failed checks.
func TestRunVerify(t *testing.T) {
	const vectors = "../../../testdata/delivery/"
	run := func(o VerifyOptions) (string, error) {
		var out bytes.Buffer
		env := &cmdutil.Env{Stdout: &out, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
		err := RunVerify(context.Background(), env, o)
		return out.String(), err
	}
	out, err := run(VerifyOptions{Delivery: vectors + "valid", Pubs: []string{vectors + "trusted.pub"}})
	if err != nil || !strings.Contains(out, "Verified: every check holds.") {
		t.Errorf("valid: %v\n%s", err, out)
	}
	out, err = run(VerifyOptions{Delivery: vectors + "sbom-lies", Pubs: []string{vectors + "trusted.pub"}, JSON: true})
	var res verify.Result
	if jerr := json.Unmarshal([]byte(out), &res); jerr != nil || res.Passed {
		t.Errorf("sbom-lies --json: %v, %+v", jerr, res)
	}
	if err == nil || !strings.HasSuffix(err.Error(), "failed: sbom") {
		t.Errorf("sbom-lies: %v", err)
	}
	var usage cmdutil.UsageError
	if _, err := run(VerifyOptions{Delivery: vectors + "valid"}); err == nil || !errors.As(err, &usage) {
		t.Errorf("no trust root: %v, want a usage error", err)
	}
}
