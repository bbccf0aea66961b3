package format

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDeliveryReader(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := OpenDelivery(ctx, dir); err == nil || !strings.Contains(err.Error(), "is not a delivery") {
		t.Fatalf("an empty directory: %v", err)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ReportJSONFile, "{}\n")
	write("extra.txt", "not listed\n")
	files, err := HashFiles(ctx, dir, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	m := Manifest{Schema: ManifestSchema, Project: "app", Signers: []SignerEntry{{KeyID: strings.Repeat("ab", 32), PublicKey: "signers/abababababababab.pub"}}}
	for _, f := range files {
		if f.Path == ReportJSONFile {
			m.Files = append(m.Files, f)
		}
	}
	data, _ := json.Marshal(m)
	write(ManifestFile, string(data))

	r, err := OpenDelivery(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.Read(ctx, ReportJSONFile); err != nil || string(got) != "{}\n" {
		t.Errorf("Read(report.json) = %q, %v", got, err)
	}
	all, err := HashFiles(ctx, dir, func(p string) bool { return p != ManifestFile })
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || r.ManifestEntry != all[0] {
		t.Errorf("ManifestEntry = %+v, want %+v", r.ManifestEntry, all)
	}
	if r.Digest(ReportJSONFile) != "sha256:"+m.Files[0].SHA256 || r.Digest("extra.txt") != "" {
		t.Errorf("Digest = %q", r.Digest(ReportJSONFile))
	}
	if _, err := r.Read(ctx, "extra.txt"); err == nil || !strings.Contains(err.Error(), "does not list it") {
		t.Errorf("an unlisted file: %v", err)
	}
	write(ReportJSONFile, "{ }\n")
	if _, err := r.Read(ctx, ReportJSONFile); err == nil || !strings.Contains(err.Error(), "was altered") {
		t.Errorf("a changed file: %v", err)
	}
}
