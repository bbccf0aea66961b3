// Package envelope signs and verifies DSSE envelopes (the in-toto signature
// wrapper, github.com/secure-systems-lab/dsse) with hegui's keys: SM2 (with
// SM3 and the default ID), ECDSA P-256 and Ed25519, in software or in a
// token. The DSSE library computes the pre-authentication encoding
// PAE(type, payload); package sign signs it. Key IDs are hegui key IDs.
package envelope

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/sign"
)

// Envelope is a DSSE envelope.
type Envelope = dsse.Envelope

// Payload types hegui signs.
const (
	InTotoPayloadType   = "application/vnd.in-toto+json"
	ManifestPayloadType = "application/vnd.hegui.manifest.v1+json"
)

type signer struct{ key crypto.Signer }

func (s signer) Sign(_ context.Context, data []byte) ([]byte, error) {
	return sign.SignMessage(s.key, data, sign.Options{})
}

func (s signer) KeyID() (string, error) { return keys.ID(s.key.Public()) }

// Sign wraps payload in an envelope signed by every key, in order.
func Sign(ctx context.Context, payloadType string, payload []byte, signers ...crypto.Signer) (*Envelope, error) {
	if len(signers) == 0 {
		return nil, errors.New("no signing key")
	}
	var ss []dsse.Signer
	for _, k := range signers {
		ss = append(ss, signer{k})
	}
	es, err := dsse.NewEnvelopeSigner(ss...)
	if err != nil {
		return nil, err
	}
	return es.SignPayload(ctx, payloadType, payload)
}

// Marshal encodes an envelope as indented JSON with a final newline.
func Marshal(e *Envelope) ([]byte, error) {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Parse decodes an envelope and its payload, checking the payload type.
// The JSON is read strictly: exact member names, no member twice, nothing
// after the envelope, so that no two readers can see different payloads.
func Parse(data []byte, payloadType string) (*Envelope, []byte, error) {
	var e Envelope
	if err := jsonv2.Unmarshal(data, &e); err != nil {
		return nil, nil, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if e.PayloadType != payloadType {
		return nil, nil, fmt.Errorf("payload type %q, want %q", e.PayloadType, payloadType)
	}
	payload, err := e.DecodeB64Payload()
	if err != nil {
		return nil, nil, fmt.Errorf("payload: %w", err)
	}
	if len(e.Signatures) == 0 {
		return nil, nil, errors.New("the envelope carries no signature")
	}
	return &e, payload, nil
}

// VerifyKey checks that the envelope holds a valid signature by pub over its
// pre-authentication encoding. Other signatures in the envelope are ignored.
func VerifyKey(e *Envelope, pub crypto.PublicKey) error {
	id, err := keys.ID(pub)
	if err != nil {
		return err
	}
	payload, err := e.DecodeB64Payload()
	if err != nil {
		return err
	}
	pae := dsse.PAE(e.PayloadType, payload)
	found := false
	for _, s := range e.Signatures {
		if s.KeyID != "" && s.KeyID != id {
			continue
		}
		found = found || s.KeyID == id
		sig, err := decodeSig(s.Sig)
		if err != nil {
			continue
		}
		if sign.VerifyMessage(pub, pae, sig, sign.Options{}) == nil {
			return nil
		}
	}
	if found {
		return fmt.Errorf("the signature by key %s does not match: the signed document or the signature was changed", keys.ShortID(id))
	}
	return fmt.Errorf("no signature by key %s", keys.ShortID(id))
}

// KeyIDs lists the key IDs the envelope's signatures claim.
func KeyIDs(e *Envelope) []string {
	var ids []string
	for _, s := range e.Signatures {
		ids = append(ids, s.KeyID)
	}
	return ids
}

// decodeSig reads a DSSE signature, which writers encode in standard or
// URL-safe base64.
func decodeSig(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("signature is not base64")
}
