// Package transparency is the stage that records a delivery in a
// transparency audit log (hegui log serve) and keeps the proof in the
// delivery, and the offline check `hegui verify` runs on that proof.
//
// The stage runs after the manifest is signed. It appends one event —
// action "delivery.publish", actor the primary signer's key ID, object
// NAME_VERSION, and the SHA-256 and SM3 of manifest.json — waits for a
// signed checkpoint that covers it, and writes
//
//	transparency/entry.json          the event exactly as logged (canonical JSON)
//	transparency/entry.tlog-proof    index, inclusion proof and signed checkpoint (C2SP tlog-proof)
//	transparency/log.pub             the log's verifier keys, as configured
//
// These files are outside the manifest (the event names the manifest's
// digest, so the manifest cannot name them); they need no signature of the
// delivery's own, because the log's checkpoint signatures and the inclusion
// proof vouch for them, and the event binds them to manifest.json.
package transparency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// Stage appends the delivery's event to the configured log.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "transparency" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	cfg := d.Config.AuditLog
	if cfg.URL == "" {
		return delivery.Skip("no audit log configured (audit-log.url)")
	}
	keysPath := cfg.PublicKeys
	if !filepath.IsAbs(keysPath) {
		keysPath = filepath.Join(d.ModuleDir, keysPath)
	}
	keyData, err := os.ReadFile(keysPath)
	if err != nil {
		return fmt.Errorf("audit-log.public-keys: %w", err)
	}
	verifiers, err := translog.ParseVerifierKeys(keyData)
	if err != nil {
		return fmt.Errorf("audit-log.public-keys %s: %w", cfg.PublicKeys, err)
	}
	ev, err := event(d)
	if err != nil {
		return err
	}
	rec, err := Record(ctx, cfg.URL, d.Env(cfg.TokenEnv), verifiers, ev)
	if err != nil {
		return err
	}
	entry, proof, res, cp := rec.Entry, rec.Proof, rec.Result, rec.Checkpoint
	if err := os.MkdirAll(d.Path(format.TransparencyDir), 0o755); err != nil {
		return err
	}
	for name, data := range map[string][]byte{format.TransparencyEntryFile: entry, format.TransparencyProofFile: proof.Marshal(), format.TransparencyKeysFile: keyData} {
		if err := os.WriteFile(d.Path(name), data, 0o644); err != nil {
			return err
		}
	}
	d.Log.Stepf("entry %d of %s, proven in a checkpoint of %d entries", res.Index, cp.Origin, cp.Size)
	return nil
}

// Recorded is an event appended to an audit log: the entry as logged, its
// inclusion proof in a checkpoint signed by the log's keys.
type Recorded struct {
	Entry      []byte
	Proof      translog.InclusionProof
	Result     translog.AddResponse
	Checkpoint translog.Checkpoint
}

// Record appends ev to the audit log at url with the writer's bearer
// token, waits for a checkpoint that covers it, checks that checkpoint
// with verifiers and proves the entry's inclusion in it.
func Record(ctx context.Context, url, token string, verifiers []note.Verifier, ev translog.Event) (*Recorded, error) {
	entry, err := ev.Canonical()
	if err != nil {
		return nil, err
	}
	app, err := translog.NewHTTPAppender(url, token, nil)
	if err != nil {
		return nil, err
	}
	res, err := app.AppendAndWait(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("record %s in the audit log %s: %w", ev.Action, url, err)
	}
	cp, err := translog.OpenCheckpoint([]byte(res.Checkpoint), verifiers)
	if err != nil {
		return nil, fmt.Errorf("the audit log's checkpoint: %w", err)
	}
	src, err := logclient.OpenSource(url, nil)
	if err != nil {
		return nil, err
	}
	c, err := logclient.NewClient(src, verifiers)
	if err != nil {
		return nil, err
	}
	proof, err := c.Inclusion(ctx, entry, res.Index, cp)
	if err != nil {
		return nil, fmt.Errorf("the audit log's inclusion proof: %w", err)
	}
	return &Recorded{Entry: entry, Proof: proof, Result: res, Checkpoint: cp}, nil
}

// event describes the delivery for the log.
func event(d *delivery.Delivery) (translog.Event, error) {
	data, err := os.ReadFile(d.Path(format.ManifestFile))
	if err != nil {
		return translog.Event{}, err
	}
	sha := sha256.Sum256(data)
	sm3 := digest.SM3.New()
	sm3.Write(data)
	host, _ := os.Hostname()
	ev := translog.Event{
		Time:        d.Started.UTC(),
		Action:      format.PublishAction,
		Object:      d.Name + "_" + d.Version.Version,
		Outcome:     translog.OutcomeSuccess,
		Host:        host,
		Application: "hegui",
		Message:     fmt.Sprintf("hegui deliver %s %s (%s)", d.Name, d.Version.Version, d.Module.Path),
		Digests: []translog.Digest{
			{Name: format.ManifestFile, Algorithm: "sha256", Value: hex.EncodeToString(sha[:])},
			{Name: format.ManifestFile, Algorithm: "sm3", Value: hex.EncodeToString(sm3.Sum(nil))},
		},
		Attributes: map[string]string{"module": d.Module.Path, "version": d.Version.Version},
	}
	if d.Version.Commit != "" {
		ev.Attributes["commit"] = d.Version.Commit
	}
	if p := d.Primary(); p != nil {
		ev.Actor = "key:" + p.KeyID
	} else if len(d.Signers) > 0 {
		ev.Actor = "key:" + d.Signers[0].KeyID
	} else {
		return translog.Event{}, errors.New("no signer to name as the delivery's actor")
	}
	return ev, nil
}
