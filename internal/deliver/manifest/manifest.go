// Package manifest is the last writing stage: it lists every file of the
// delivery with its size, SHA-256 and SM3 in manifest.json, writes
// SHA256SUMS and SM3SUMS (the first checkable with `sha256sum -c`), and
// signs manifest.json with every
// signer in a DSSE envelope, manifest.dsse.json. Since the manifest covers
// every other file, its signatures cover the whole delivery.
package manifest

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
)

// Stage writes the checksum files, the manifest and its signatures.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "manifest" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	files, err := format.HashFiles(ctx, d.Dir, func(p string) bool {
		return format.OutsideManifest(p) || p == format.SHA256SumsFile || p == format.SM3SumsFile
	})
	if err != nil {
		return err
	}
	var sha, sm strings.Builder
	for _, f := range files {
		fmt.Fprintf(&sha, "%s  %s\n", f.SHA256, f.Path)
		fmt.Fprintf(&sm, "%s  %s\n", f.SM3, f.Path)
	}
	for name, content := range map[string]string{format.SHA256SumsFile: sha.String(), format.SM3SumsFile: sm.String()} {
		if err := os.WriteFile(d.Path(name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	sums, err := format.HashFiles(ctx, d.Dir, func(p string) bool { return p != format.SHA256SumsFile && p != format.SM3SumsFile })
	if err != nil {
		return err
	}
	files = append(files, sums...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })

	m := format.Manifest{
		Schema: format.ManifestSchema, Project: d.Name, Module: d.Module.Path, Version: d.Version.Version, Commit: d.Version.Commit,
		Signed: time.Now().UTC().Truncate(time.Second), Files: files,
	}
	for _, s := range d.Signers {
		m.Signers = append(m.Signers, format.SignerEntry{
			KeyID: s.KeyID, Algorithm: string(s.Algorithm), Role: s.Role, Development: s.Development,
			PublicKey: format.SignerPublicKeyPath(s.KeyID), Chain: chainPath(s),
		})
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := os.WriteFile(d.Path(format.ManifestFile), data, 0o644); err != nil {
		return err
	}
	var keys []crypto.Signer
	for _, s := range d.Signers {
		keys = append(keys, s.Key)
	}
	env, err := envelope.Sign(ctx, envelope.ManifestPayloadType, data, keys...)
	if err != nil {
		return fmt.Errorf("sign the manifest: %w", err)
	}
	envData, err := envelope.Marshal(env)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.ManifestEnvelopeFile), envData, 0o644); err != nil {
		return err
	}
	d.Log.Stepf("%d files; signed by %d key(s)", len(files), len(env.Signatures))
	return nil
}

func chainPath(s *delivery.Signer) string {
	if len(s.Chain) == 0 {
		return ""
	}
	return format.SignerChainPath(s.KeyID)
}
