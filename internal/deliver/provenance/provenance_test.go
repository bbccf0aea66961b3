package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
)

// TestProvenance runs the stage on a delivery of two binaries and checks
// what the verifier checks: the envelope is signed by the primary key, the
// statement parses as format reads it, its subjects are the binaries and
// its recipes are theirs. The statement is compared with the golden file,
// but for what changes with every run (invocation ID, start and end time).
func TestProvenance(t *testing.T) {
	d := deliverytest.New(t)
	deliverytest.AddBinary(t, d, "app", "linux/amd64", []byte("amd64 binary"))
	deliverytest.AddBinary(t, d, "app", "linux/loong64", []byte("loong64 binary"))
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if d.Provenance != format.ProvenanceFile {
		t.Errorf("d.Provenance = %q", d.Provenance)
	}
	data, err := os.ReadFile(d.Path(format.ProvenanceFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(data, []byte("\n")) != 1 || !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("%s is not one envelope on one line", format.ProvenanceFile)
	}
	env, payload, err := envelope.Parse(bytes.TrimSpace(data), envelope.InTotoPayloadType)
	if err != nil {
		t.Fatal(err)
	}
	if err := envelope.VerifyKey(env, d.Signers[0].Key.Public()); err != nil {
		t.Errorf("the primary key's signature does not verify: %v", err)
	}
	p, err := format.ParseProvenance(payload)
	if err != nil {
		t.Fatal(err)
	}
	recipes, tc, _, err := p.Recipes()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Subjects) != 2 || len(recipes) != 2 || tc.SourceDateEpoch != deliverytest.CommitTime.Unix() {
		t.Errorf("subjects %v, recipes %+v, toolchain %+v", p.Subjects, recipes, tc)
	}
	for i, b := range d.Binaries {
		if got := p.Subjects[b.Path]; got["sha256"] != b.SHA256 || got["sm3"] != b.SM3 {
			t.Errorf("subject %s: %v", b.Path, got)
		}
		if !reflect.DeepEqual(recipes[i], b.Recipe) {
			t.Errorf("recipe %d: %+v, want %+v", i, recipes[i], b.Recipe)
		}
	}
	golden.Check(t, "statement.json.golden", stable(t, payload))
}

// stable is the statement indented, without what changes with every run.
func stable(t *testing.T, payload []byte) []byte {
	t.Helper()
	var stmt map[string]any
	if err := json.Unmarshal(payload, &stmt); err != nil {
		t.Fatal(err)
	}
	run := stmt["predicate"].(map[string]any)["runDetails"].(map[string]any)
	meta := run["metadata"].(map[string]any)
	for _, k := range []string{"invocationId", "startedOn", "finishedOn"} {
		if meta[k] == "" || meta[k] == nil {
			t.Errorf("runDetails.metadata.%s is empty", k)
		}
		meta[k] = "(varies)"
	}
	out, err := json.MarshalIndent(stmt, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}
