package attest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
)

func TestAttest(t *testing.T) {
	d := deliverytest.New(t)
	deliverytest.AddBinary(t, d, "app", "linux/amd64", []byte("amd64 binary"))
	deliverytest.WriteFiles(t, d.ModuleDir, map[string]string{"statements/8.4h.txt": "  The application signs each order with SM2.\n"})
	d.Config.Attestations = []config.Attestation{{Control: "密评:8.4 h", File: "statements/8.4h.txt"}}
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	want := format.Attestation{Framework: "gbt39786-2021-l3", Control: "8.4 h", File: "attestations/gbt39786-2021-l3_8.4_h.intoto.jsonl",
		Statement: "The application signs each order with SM2."}
	if len(d.Attestations) != 1 || d.Attestations[0] != want {
		t.Fatalf("attestations %+v, want %+v", d.Attestations, want)
	}
	data, err := os.ReadFile(d.Path(want.File))
	if err != nil {
		t.Fatal(err)
	}
	env, payload, err := envelope.Parse(data, envelope.InTotoPayloadType)
	if err != nil {
		t.Fatal(err)
	}
	if err := envelope.VerifyKey(env, d.Signers[0].Key.Public()); err != nil {
		t.Errorf("signature: %v", err)
	}
	stmt, err := format.ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	var pred format.VendorStatement
	if err := json.Unmarshal(stmt.Predicate, &pred); err != nil {
		t.Fatal(err)
	}
	if stmt.PredicateType != format.VendorStatementType || pred.Control != "8.4 h" || pred.Version != "v1.2.3" || pred.Statement != want.Statement ||
		stmt.Subjects["bin/linux_amd64/app"]["sha256"] != d.Binaries[0].SHA256 {
		t.Errorf("statement %+v, predicate %+v", stmt, pred)
	}
}

func TestAttestSkip(t *testing.T) {
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), deliverytest.New(t)); !errors.As(err, &skip) {
		t.Errorf("no attestations: %v, want a skip", err)
	}
}

// TestAttestRefused: a statement can never stand in for evidence, nor be
// made for a control without a vendor part, nor twice under an alias.
func TestAttestRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		atts []config.Attestation
		want string
	}{
		"evidenced by rules": {[]config.Attestation{{Control: "gbt22239-2019-l3:8.1.4.4 a", Statement: "we only ship what is needed"}}, "a statement cannot stand in for"},
		"not applicable":     {[]config.Attestation{{Control: "gbt22239-2019-l3:8.1.4.5 a", Statement: "x"}}, "has no vendor part"},
		"unknown control":    {[]config.Attestation{{Control: "gbt22239-2019-l3:9.9 z", Statement: "x"}}, `no control "9.9 z"`},
		"twice":              {[]config.Attestation{{Control: "密评:8.4 h", Statement: "x"}, {Control: "gbt39786-2021-l3:8.4 h", Statement: "y"}}, "twice"},
		"empty file":         {[]config.Attestation{{Control: "密评:8.4 h", File: "empty.txt"}}, "empty"},
	} {
		d := deliverytest.New(t)
		deliverytest.WriteFiles(t, d.ModuleDir, map[string]string{"empty.txt": " \n"})
		d.Config.Attestations = tc.atts
		if err := (Stage{}).Run(context.Background(), d); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
