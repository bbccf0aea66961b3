package bundle

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	data, err := Marshal(digest, []byte{0x30, 0x01, 0x02}, "keyid")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || doc["mediaType"] != MediaType {
		t.Fatalf("bundle JSON %s", data)
	}
	ms := doc["messageSignature"].(map[string]any)
	if ms["messageDigest"].(map[string]any)["algorithm"] != "SHA2_256" || ms["signature"] != "MAEC" {
		t.Errorf("message signature %v", ms)
	}
	got, sig, hint, err := Unmarshal(data)
	if err != nil || got != digest || len(sig) != 3 || hint != "keyid" {
		t.Errorf("unmarshal: %s %x %s %v", got, sig, hint, err)
	}
	if _, _, _, err := Unmarshal([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1"}`)); err == nil {
		t.Error("other media type accepted")
	}
}
