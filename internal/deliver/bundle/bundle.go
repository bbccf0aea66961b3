// Package bundle is the stage that writes, for every ECDSA P-256 signer, a
// Sigstore bundle (v0.3) per binary: the binary's SHA-256 and an ECDSA
// signature over it, identified by a public-key hint, with no transparency
// log entry. `cosign verify-blob --key KEY --bundle FILE` accepts such a
// bundle offline (scripts/cosign-verify.sh shows the flags), so teams that
// already use cosign can check a delivery without hegui. Sigstore has no
// SM2, which is why only ECDSA signers get bundles. The bundle of
// bin/linux_amd64/app by key 0123456789abcdef is
// cosign/bin/linux_amd64/app.0123456789abcdef.sigstore.json.
package bundle

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/sign"
)

// MediaType is the bundle format written.
const MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Stage writes the bundles.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "bundle" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	for _, s := range d.Signers {
		if s.Algorithm != keys.ECDSAP256 {
			continue
		}
		if err := os.MkdirAll(d.Path(format.CosignDir), 0o755); err != nil {
			return err
		}
		for _, b := range d.Binaries {
			if err := os.MkdirAll(d.Path(path.Dir(BundlePath(b.Path, ""))), 0o755); err != nil {
				return err
			}
		}
		pub, err := keys.MarshalPublicKeyPEM(s.Key.Public())
		if err != nil {
			return err
		}
		short := keys.ShortID(s.KeyID)
		if err := os.WriteFile(d.Path(path.Join(format.CosignDir, short+".pub")), pub, 0o644); err != nil {
			return err
		}
		for _, b := range d.Binaries {
			f, err := os.Open(d.Path(b.Path))
			if err != nil {
				return err
			}
			sig, err := sign.Sign(ctx, s.Key, f, sign.Options{})
			f.Close()
			if err != nil {
				return fmt.Errorf("sign %s for the cosign bundle: %w", b.Path, err)
			}
			data, err := Marshal(b.SHA256, sig, s.KeyID)
			if err != nil {
				return err
			}
			name := BundlePath(b.Path, short)
			if err := os.WriteFile(d.Path(name), data, 0o644); err != nil {
				return err
			}
			d.Bundles = append(d.Bundles, name)
		}
		d.Log.Stepf("key %s: %d bundles", short, len(d.Binaries))
	}
	if len(d.Bundles) == 0 {
		return delivery.Skip("no ECDSA P-256 signer, so no cosign bundles (add one under signing.co-signers)")
	}
	return nil
}

// BundlePath is where the bundle of a binary by a key goes: the binary's
// path under cosign/, with the short key ID and .sigstore.json appended, so
// that scripts find the binary from the bundle's name.
func BundlePath(binary, shortKeyID string) string {
	return path.Join(format.CosignDir, binary) + "." + shortKeyID + ".sigstore.json"
}

// Marshal encodes a message-signature bundle for a SHA-256 digest (hex) and
// a DER ECDSA signature.
func Marshal(sha256Hex string, sig []byte, keyID string) ([]byte, error) {
	digest, err := hex.DecodeString(sha256Hex)
	if err != nil {
		return nil, err
	}
	b := &protobundle.Bundle{
		MediaType: MediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: keyID}},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest},
			Signature:     sig,
		}},
	}
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(b)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Unmarshal decodes a bundle written by Marshal and returns the digest
// (hex), the signature and the key hint.
func Unmarshal(data []byte) (string, []byte, string, error) {
	var b protobundle.Bundle
	if err := protojson.Unmarshal(data, &b); err != nil {
		return "", nil, "", fmt.Errorf("not a Sigstore bundle: %w", err)
	}
	if b.GetMediaType() != MediaType {
		return "", nil, "", fmt.Errorf("bundle media type %q, want %q", b.GetMediaType(), MediaType)
	}
	ms := b.GetMessageSignature()
	if ms == nil || ms.GetMessageDigest().GetAlgorithm() != protocommon.HashAlgorithm_SHA2_256 {
		return "", nil, "", fmt.Errorf("bundle holds no SHA-256 message signature")
	}
	return hex.EncodeToString(ms.GetMessageDigest().GetDigest()), ms.GetSignature(), b.GetVerificationMaterial().GetPublicKey().GetHint(), nil
}
