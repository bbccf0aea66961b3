// Package statement writes the delivery's signed in-toto statements: an
// in-toto Statement v1 whose subjects are the delivery's binaries (by
// SHA-256 and SM3), its predicate, signed in a DSSE envelope by every
// signer of the delivery, one envelope on one line (as SLSA tooling
// expects). The provenance, the vendor statements and the compliance
// matrix are written this way.
package statement

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/envelope"
)

// Subjects are the delivery's binaries as in-toto subjects.
func Subjects(d *delivery.Delivery) []*intoto.ResourceDescriptor {
	var out []*intoto.ResourceDescriptor
	for _, b := range d.Binaries {
		out = append(out, &intoto.ResourceDescriptor{
			Name:   b.Path,
			Digest: map[string]string{"sha256": b.SHA256, "sm3": b.SM3},
		})
	}
	return out
}

// New makes a statement about the delivery's binaries with predicate, any
// value that encodes as a JSON object.
func New(d *delivery.Delivery, predicateType string, predicate any) (*intoto.Statement, error) {
	data, err := json.Marshal(predicate)
	if err != nil {
		return nil, err
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(data, pred); err != nil {
		return nil, fmt.Errorf("predicate %s: %w", predicateType, err)
	}
	return &intoto.Statement{Type: intoto.StatementTypeUri, Subject: Subjects(d), PredicateType: predicateType, Predicate: pred}, nil
}

// Write signs stmt with every signer of the delivery and writes the
// envelope, on one line, to rel in the delivery. It returns the number of
// signatures.
func Write(ctx context.Context, d *delivery.Delivery, rel string, stmt *intoto.Statement) (int, error) {
	payload, err := Marshal(stmt)
	if err != nil {
		return 0, err
	}
	var signers []crypto.Signer
	for _, s := range d.Signers {
		signers = append(signers, s.Key)
	}
	env, err := envelope.Sign(ctx, envelope.InTotoPayloadType, payload, signers...)
	if err != nil {
		return 0, fmt.Errorf("sign %s: %w", rel, err)
	}
	line, err := json.Marshal(env)
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(d.Path(rel), append(line, '\n'), 0o644); err != nil {
		return 0, err
	}
	return len(env.Signatures), nil
}

// Marshal encodes a statement as compact JSON. protojson varies its
// whitespace on purpose; compacting makes the payload stable.
func Marshal(stmt *intoto.Statement) ([]byte, error) {
	data, err := protojson.Marshal(stmt)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
