package manifest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
)

// TestManifest runs the stage on a delivery with a binary, a report and an
// audit-log proof, and checks what the verifier relies on: every file but
// the manifest, its envelope and transparency/ is listed with the digests
// of SHA256SUMS and SM3SUMS, and the envelope is signed by every signer.
func TestManifest(t *testing.T) {
	d := deliverytest.New(t)
	deliverytest.AddSigner(t, d, deliverytest.Ed25519Key(), "co-signer")
	deliverytest.AddBinary(t, d, "app", "linux/amd64", []byte("amd64 binary"))
	for name, content := range map[string]string{
		format.ReportJSONFile: "{}\n", format.TransparencyEntryFile: "{}\n",
	} {
		if err := os.MkdirAll(filepath.Dir(d.Path(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(d.Path(name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(d.Path(format.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := format.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	want := []string{format.SHA256SumsFile, format.SM3SumsFile, "bin/linux_amd64/app", format.ReportJSONFile}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("the manifest lists %v, want %v", paths, want)
	}
	envData, err := os.ReadFile(d.Path(format.ManifestEnvelopeFile))
	if err != nil {
		t.Fatal(err)
	}
	env, payload, err := envelope.Parse(envData, envelope.ManifestPayloadType)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(payload, data) {
		t.Error("the envelope signs something else than manifest.json")
	}
	for _, s := range d.Signers {
		if err := envelope.VerifyKey(env, s.Key.Public()); err != nil {
			t.Errorf("signer %s: %v", s.KeyID, err)
		}
	}
	sums, err := os.ReadFile(d.Path(format.SHA256SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		sum, name, _ := strings.Cut(sc.Text(), "  ")
		if name == format.SHA256SumsFile || name == format.SM3SumsFile || name == format.ManifestFile {
			t.Errorf("SHA256SUMS lists %s", name)
		}
		for _, f := range m.Files {
			if f.Path == name && f.SHA256 != sum {
				t.Errorf("SHA256SUMS and the manifest disagree on %s", name)
			}
		}
	}
	// The file as written, but for the signing time.
	golden.Check(t, "manifest.json.golden", regexp.MustCompile(`"signed": "[^"]*"`).ReplaceAll(data, []byte(`"signed": "(varies)"`)))
}
