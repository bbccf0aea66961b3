// Package documents is the stage that carries the vendor's documents in
// the delivery (hegui.yaml's documents: a design description, a user
// guide, an operations manual, SECURITY.md, a coding standard), each
// tagged with the controls it answers. They are copied to documents/NAME,
// so the manifest lists and signs them, and report.json records them; the
// compliance matrix cites them under the controls they answer.
package documents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/inputfile"
)

// Stage copies the documents.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "documents" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	docs := d.Config.Documents
	if len(docs) == 0 {
		return delivery.Skip("no documents in hegui.yaml")
	}
	cats, err := compliance.Catalogs()
	if err != nil {
		return err
	}
	// The controls as the report names them: an alias (等保) becomes the
	// catalog's id, so that the matrix finds them.
	controls := make([][]string, len(docs))
	for i, doc := range docs {
		controls[i] = []string{}
		for _, ref := range doc.Controls {
			cat, ctl, err := compliance.FindControl(cats, ref)
			if err != nil {
				return fmt.Errorf("document %s: %w", doc.Path, err)
			}
			controls[i] = append(controls[i], format.ControlRef(cat.ID, ctl.ID))
		}
	}
	// Read beneath the module root only: a symbolic link out of the
	// module, or a FIFO in a document's place, is refused.
	root, err := inputfile.OpenDir(d.ModuleDir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := os.MkdirAll(d.Path(format.DocumentsDir), 0o755); err != nil {
		return err
	}
	for i, doc := range docs {
		data, err := root.Read(ctx, doc.Path, config.MaxDocumentSize)
		if err != nil {
			return fmt.Errorf("document %s: %w", doc.Path, err)
		}
		rel := format.DocumentsDir + "/" + path.Base(doc.Path)
		if err := os.WriteFile(d.Path(rel), data, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		d.Documents = append(d.Documents, format.Document{File: rel, Source: doc.Path, Kind: doc.Kind, Title: doc.Title,
			SHA256: hex.EncodeToString(sum[:]), Controls: controls[i]})
		d.Log.Stepf("%s (%s): %s", rel, doc.Kind, describeControls(controls[i]))
	}
	return nil
}

func describeControls(cs []string) string {
	switch len(cs) {
	case 0:
		return "no controls named"
	case 1:
		return cs[0]
	}
	return fmt.Sprintf("%s and %d more", cs[0], len(cs)-1)
}
