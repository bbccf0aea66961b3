package format

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/translog"
)

// PublishAction is the action of the audit event that records a delivery
// in a transparency log: actor the primary signer's key ID, object
// NAME_VERSION, and the SHA-256 and SM3 of manifest.json as its digests.
const PublishAction = "delivery.publish"

// Evidence is what CheckTransparency found.
type Evidence struct {
	Checkpoint translog.Checkpoint
	Index      uint64
	Event      translog.Event
	// Verifiers are the log keys the checkpoint was verified with.
	Verifiers []note.Verifier
}

// CheckTransparency verifies the log proof of a delivery offline: the checkpoint's
// signatures with verifiers (the delivery's own log.pub when nil), the
// inclusion of entry.json, and that the entry names this manifest.json by
// its SHA-256. read reads a file of the delivery by its path in it.
func CheckTransparency(read func(rel string) ([]byte, error), verifiers []note.Verifier) (Evidence, error) {
	if verifiers == nil {
		data, err := read(TransparencyKeysFile)
		if err != nil {
			return Evidence{}, err
		}
		if verifiers, err = translog.ParseVerifierKeys(data); err != nil {
			return Evidence{}, fmt.Errorf("%s: %w", TransparencyKeysFile, err)
		}
	}
	entry, err := read(TransparencyEntryFile)
	if err != nil {
		return Evidence{}, err
	}
	proofData, err := read(TransparencyProofFile)
	if err != nil {
		return Evidence{}, err
	}
	proof, err := translog.ParseInclusionProof(proofData)
	if err != nil {
		return Evidence{}, fmt.Errorf("%s: %w", TransparencyProofFile, err)
	}
	cp, err := proof.Verify(entry, verifiers)
	if err != nil {
		return Evidence{}, fmt.Errorf("%s: %w", TransparencyProofFile, err)
	}
	ev, err := translog.ParseEvent(entry)
	if err != nil {
		return Evidence{}, fmt.Errorf("%s: %w", TransparencyEntryFile, err)
	}
	mdata, err := read(ManifestFile)
	if err != nil {
		return Evidence{}, err
	}
	sum := sha256.Sum256(mdata)
	want := hex.EncodeToString(sum[:])
	found := false
	for _, dg := range ev.Digests {
		if dg.Name == ManifestFile && dg.Algorithm == "sha256" {
			if dg.Value != want {
				return Evidence{}, fmt.Errorf("the logged event names another manifest.json (sha256 %s, this one is %s)", dg.Value, want)
			}
			found = true
		}
	}
	if !found || ev.Action != PublishAction {
		return Evidence{}, fmt.Errorf("%s is not a %s event for manifest.json", TransparencyEntryFile, PublishAction)
	}
	return Evidence{Checkpoint: cp, Index: proof.Index, Event: ev, Verifiers: verifiers}, nil
}
