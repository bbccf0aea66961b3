package modsign

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// Limits on the objects of a publication when they are read back.
const (
	MaxSignatureSize = 64 << 10
	MaxLogProofSize  = 64 << 10
)

// Trust is what a verifier trusts: the publishers' public keys (any one of
// them signing is enough) and the audit log's verifier keys (every one of
// them must have signed the checkpoint).
type Trust struct {
	Publishers []crypto.PublicKey
	Log        []note.Verifier
}

// LogProof is the .tlog object: the audit-log entry of a publication
// exactly as logged (canonical JSON) and its inclusion proof (C2SP
// tlog-proof, with the signed checkpoint).
type LogProof struct {
	Entry string `json:"entry"`
	Proof string `json:"proof"`
}

// Marshal encodes the log proof as JSON with a final newline.
func (lp LogProof) Marshal() ([]byte, error) {
	data, err := jsonv2.Marshal(lp, jsonv2.Deterministic(true))
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ParseLogProof decodes a .tlog object strictly.
func ParseLogProof(data []byte) (LogProof, error) {
	var lp LogProof
	if len(data) > MaxLogProofSize {
		return lp, fmt.Errorf("audit-log proof: larger than %d bytes", MaxLogProofSize)
	}
	if err := jsonv2.Unmarshal(bytes.TrimSpace(data), &lp, jsonv2.RejectUnknownMembers(true)); err != nil {
		return lp, fmt.Errorf("audit-log proof: %v", err)
	}
	if lp.Entry == "" || lp.Proof == "" {
		return lp, errors.New("audit-log proof: entry or proof missing")
	}
	return lp, nil
}

// Verified is a publication that passed Verify.
type Verified struct {
	Statement Statement
	// KeyID is the trusted publisher key that signed.
	KeyID string
	// Index is the entry's index in the log and Checkpoint the signed
	// checkpoint it is proven in.
	Index      uint64
	Checkpoint translog.Checkpoint
}

// Verify checks a publication offline: the envelope sig holds a signature
// by a trusted publisher over a statement of go.sum lines, and tlog proves
// that the log recorded a "module.publish" event by that key for exactly
// those lines, in a checkpoint signed by the log's keys.
func Verify(sig, tlog []byte, trust Trust) (*Verified, error) {
	if len(trust.Publishers) == 0 {
		return nil, errors.New("no trusted publisher keys")
	}
	if len(trust.Log) == 0 {
		return nil, errors.New("no audit-log verifier keys")
	}
	if len(sig) > MaxSignatureSize {
		return nil, fmt.Errorf("signature: larger than %d bytes", MaxSignatureSize)
	}
	env, payload, err := envelope.Parse(sig, PayloadType)
	if err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	st, err := ParseStatement(payload)
	if err != nil {
		return nil, err
	}
	keyID := ""
	for _, pub := range trust.Publishers {
		if envelope.VerifyKey(env, pub) == nil {
			if keyID, err = keys.ID(pub); err != nil {
				return nil, err
			}
			break
		}
	}
	if keyID == "" {
		return nil, fmt.Errorf("signature: not signed by a trusted publisher (signed by key %s)", strings.Join(envelope.KeyIDs(env), ", "))
	}
	lp, err := ParseLogProof(tlog)
	if err != nil {
		return nil, err
	}
	proof, err := translog.ParseInclusionProof([]byte(lp.Proof))
	if err != nil {
		return nil, fmt.Errorf("audit-log proof: %v", err)
	}
	cp, err := proof.Verify([]byte(lp.Entry), trust.Log)
	if err != nil {
		return nil, fmt.Errorf("audit-log proof: %v", err)
	}
	ev, err := translog.ParseEvent([]byte(lp.Entry))
	if err != nil {
		return nil, fmt.Errorf("audit-log entry: %v", err)
	}
	if err := checkEvent(ev, st, keyID); err != nil {
		return nil, fmt.Errorf("audit-log entry %d: %v", proof.Index, err)
	}
	return &Verified{Statement: st, KeyID: keyID, Index: proof.Index, Checkpoint: cp}, nil
}

// GoSumFile is the name the audit-log event gives the signed go.sum lines
// in its digests.
const GoSumFile = "go.sum"

// publishEvent describes a publication for the audit log: the action, the
// publisher's key as actor, the version as object and the signed lines by
// their SHA-256 and SM3.
func publishEvent(st Statement, keyID string) translog.Event {
	lines := st.GoSum()
	sha := sha256.Sum256(lines)
	sm3 := digest.SM3.New()
	sm3.Write(lines)
	return translog.Event{
		Action:      PublishAction,
		Actor:       "key:" + keyID,
		Object:      st.Object(),
		Outcome:     translog.OutcomeSuccess,
		Application: "hegui",
		Message:     fmt.Sprintf("hegui proxy publish %s", st.Object()),
		Digests: []translog.Digest{
			{Name: GoSumFile, Algorithm: "sha256", Value: hex.EncodeToString(sha[:])},
			{Name: GoSumFile, Algorithm: "sm3", Value: hex.EncodeToString(sm3.Sum(nil))},
		},
		Attributes: map[string]string{"module": st.Module, "version": st.Version, "zip": st.ZipHash, "mod": st.ModHash},
	}
}

// checkEvent checks that a logged event records the publication of st by
// keyID: action, object, actor and the SHA-256 of the signed lines.
func checkEvent(ev translog.Event, st Statement, keyID string) error {
	if ev.Action != PublishAction {
		return fmt.Errorf("action %q, want %q", ev.Action, PublishAction)
	}
	if ev.Object != st.Object() {
		return fmt.Errorf("names %q, not %s", ev.Object, st.Object())
	}
	if ev.Actor != "key:"+keyID {
		return fmt.Errorf("publisher %q, but the signature is by key:%s", ev.Actor, keyID)
	}
	sha := sha256.Sum256(st.GoSum())
	want := hex.EncodeToString(sha[:])
	for _, d := range ev.Digests {
		if d.Name == GoSumFile && d.Algorithm == "sha256" {
			if d.Value != want {
				return fmt.Errorf("records other go.sum lines (SHA-256 %s) than those signed (%s)", d.Value, want)
			}
			return nil
		}
	}
	return errors.New("does not name the signed go.sum lines by their SHA-256")
}
