package documents

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/format"
)

func TestDocuments(t *testing.T) {
	d := deliverytest.New(t)
	deliverytest.WriteFiles(t, d.ModuleDir, map[string]string{
		"SECURITY.md":        "Report vulnerabilities to security@example.com.\n",
		"docs/design/app.md": "# Design\n",
	})
	d.Config.Documents = []config.Document{
		{Path: "SECURITY.md", Kind: "security-policy", Controls: []string{"ssdf:RV.1.3"}},
		{Path: "docs/design/app.md", Kind: "design", Title: "Design description", Controls: []string{"等保:8.1.4.4 a"}},
	}
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if len(d.Documents) != 2 {
		t.Fatalf("documents %+v", d.Documents)
	}
	// Aliases become the catalogs' ids, as the compliance matrix names them.
	if got := d.Documents[0]; got.File != "documents/SECURITY.md" || got.Source != "SECURITY.md" || got.Controls[0] != "nist-ssdf-1.1:RV.1.3" || len(got.SHA256) != 64 {
		t.Errorf("first document %+v", got)
	}
	if got := d.Documents[1]; got.File != "documents/app.md" || got.Controls[0] != "gbt22239-2019-l3:8.1.4.4 a" || got.Title != "Design description" {
		t.Errorf("second document %+v", got)
	}
	if data, err := os.ReadFile(d.Path("documents/app.md")); err != nil || string(data) != "# Design\n" {
		t.Errorf("copied document: %q, %v", data, err)
	}
}

func TestDocumentsSkip(t *testing.T) {
	d := deliverytest.New(t)
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) {
		t.Errorf("no documents: %v, want a skip", err)
	}
}

// TestDocumentsRefused: a document outside the module (through a
// symbolic link), a FIFO in a document's place, a missing file and an
// unknown control are refused with the document named.
func TestDocumentsRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o600)
	for name, tc := range map[string]struct {
		setup func(moduleDir string)
		doc   config.Document
		want  string
	}{
		"symlink out":     {func(dir string) { os.Symlink(outside, filepath.Join(dir, "LINK.md")) }, config.Document{Path: "LINK.md", Kind: "other"}, "LINK.md"},
		"fifo":            {func(dir string) { syscall.Mkfifo(filepath.Join(dir, "PIPE.md"), 0o644) }, config.Document{Path: "PIPE.md", Kind: "other"}, "named pipe"},
		"missing":         {func(string) {}, config.Document{Path: "NOPE.md", Kind: "other"}, "NOPE.md"},
		"unknown control": {func(dir string) { os.WriteFile(filepath.Join(dir, "A.md"), nil, 0o644) }, config.Document{Path: "A.md", Kind: "other", Controls: []string{"ssdf:XX.9"}}, `no control "XX.9"`},
	} {
		d := deliverytest.New(t)
		os.MkdirAll(d.ModuleDir, 0o755)
		tc.setup(d.ModuleDir)
		d.Config.Documents = []config.Document{tc.doc}
		err := (Stage{}).Run(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tc.want)
		}
		if _, err := os.Stat(d.Path(format.DocumentsDir + "/" + filepath.Base(tc.doc.Path))); err == nil {
			t.Errorf("%s: the document was copied", name)
		}
	}
}
