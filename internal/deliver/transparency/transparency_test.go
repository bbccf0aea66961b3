package transparency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/translog"
)

// TestSkipWithoutLog: no audit-log.url, no event and no proof. Appending
// to a running log and checking the proof is tested end to end with
// `hegui log serve` in the command's tests.
func TestSkipWithoutLog(t *testing.T) {
	d := deliverytest.New(t)
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) {
		t.Fatalf("%v, want a skip", err)
	}
	if _, err := os.Stat(d.Path(format.TransparencyDir)); !os.IsNotExist(err) {
		t.Errorf("a skipped stage wrote %s: %v", format.TransparencyDir, err)
	}
}

// TestEvent checks the event that names the delivery: the publish action,
// the primary signer as actor, and manifest.json by its digests, which is
// what format.CheckTransparency reads back.
func TestEvent(t *testing.T) {
	d := deliverytest.New(t)
	manifest := []byte(`{"schema":"hegui.dev/manifest/v1"}`)
	if err := os.WriteFile(d.Path(format.ManifestFile), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	ev, err := event(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("the event does not validate: %v", err)
	}
	sum := sha256.Sum256(manifest)
	if ev.Action != format.PublishAction || ev.Actor != "key:"+d.Signers[0].KeyID || ev.Object != "app_v1.2.3" || ev.Outcome != translog.OutcomeSuccess {
		t.Errorf("event %+v", ev)
	}
	found := false
	for _, dg := range ev.Digests {
		if dg.Name == format.ManifestFile && dg.Algorithm == "sha256" && dg.Value == hex.EncodeToString(sum[:]) {
			found = true
		}
	}
	if !found {
		t.Errorf("the event does not name manifest.json by its SHA-256: %+v", ev.Digests)
	}
}
