// Package trust decides whether a signed manifest is signed by someone the
// verifier trusts: a public key given directly (--pub), or a signer whose
// certificate chain leads to a given root (--trust-root) and allowed code
// signing when the manifest was signed. Deliveries (internal/verify) and Go
// environment kits (internal/kit) are checked with it, so both answer the
// same question the same way.
package trust

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
)

// Anchors are what a verifier trusts.
type Anchors struct {
	// Roots are trusted CA certificates; a signer's certificate chain must
	// lead to one of them.
	Roots []*smx509.Certificate
	// Keys are trusted public keys.
	Keys []crypto.PublicKey
}

// Empty reports whether nothing is trusted.
func (a Anchors) Empty() bool { return len(a.Roots) == 0 && len(a.Keys) == 0 }

// Signed is a signed manifest as a verifier finds it.
type Signed struct {
	// Envelope holds the signatures over the manifest.
	Envelope *envelope.Envelope
	// Signers are the signers the manifest names, with the paths of their
	// public keys and certificate chains.
	Signers []format.SignerEntry
	// Time is when the manifest says it was signed: certificates must have
	// been valid then.
	Time time.Time
	// Read reads a file the manifest names (a public key or a chain), at
	// most limit bytes.
	Read func(ctx context.Context, path string) ([]byte, error)
}

// Result is what Check found.
type Result struct {
	// Trusted are the keys whose signatures verified and are trusted.
	Trusted []crypto.PublicKey
	// Detail says who signed and why each is (or is not) trusted.
	Detail string
}

// Check verifies the signatures: every signature in the envelope valid for
// the key the manifest names, and at least one by a trusted key or by a
// signer whose chain leads to a trusted root.
func Check(ctx context.Context, a Anchors, s Signed) (*Result, error) {
	if a.Empty() {
		return nil, errors.New("nothing to verify against: give a trust root or a public key")
	}
	r := &Result{}
	trustedBy := map[string]string{}
	for _, pub := range a.Keys {
		id, err := keys.ID(pub)
		if err != nil {
			return nil, err
		}
		if err := envelope.VerifyKey(s.Envelope, pub); err != nil {
			return nil, fmt.Errorf("trusted key %s: %w", keys.ShortID(id), err)
		}
		alg, _ := keys.AlgorithmOf(pub)
		trustedBy[id] = fmt.Sprintf("%s key %s (given with --pub)", alg, keys.ShortID(id))
		r.Trusted = append(r.Trusted, pub)
	}
	for _, sg := range s.Signers {
		pub, err := signerKey(ctx, s, sg)
		if err != nil {
			return nil, err
		}
		if err := envelope.VerifyKey(s.Envelope, pub); err != nil {
			return nil, fmt.Errorf("%s signature by %s: %w", sg.Role, keys.ShortID(sg.KeyID), err)
		}
		if len(a.Roots) == 0 || sg.Chain == "" {
			continue
		}
		subject, err := verifyChain(ctx, a, s, sg, pub)
		if err != nil {
			return nil, err
		}
		if _, done := trustedBy[sg.KeyID]; !done {
			r.Trusted = append(r.Trusted, pub)
		}
		trustedBy[sg.KeyID] = fmt.Sprintf("%s key %s, certificate %s, chains to a trust root and was valid when signed (%s)", sg.Algorithm, keys.ShortID(sg.KeyID), subject, s.Time.Format("2006-01-02 15:04 UTC"))
	}
	if len(r.Trusted) == 0 {
		return nil, errors.New("no signature by a trusted key: none of the signers has a certificate chain to the given roots")
	}
	var notes []string
	for _, sg := range s.Signers {
		if why, ok := trustedBy[sg.KeyID]; ok {
			notes = append(notes, why)
		} else {
			notes = append(notes, fmt.Sprintf("%s key %s (%s) also signed; not anchored in the given trust", sg.Algorithm, keys.ShortID(sg.KeyID), sg.Role))
		}
	}
	r.Detail = strings.Join(notes, "; ")
	return r, nil
}

// signerKey reads a signer's public key and checks that it is the key the
// manifest names.
func signerKey(ctx context.Context, s Signed, sg format.SignerEntry) (crypto.PublicKey, error) {
	data, err := s.Read(ctx, sg.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signer %s: %w", keys.ShortID(sg.KeyID), err)
	}
	pub, err := keys.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("signer public key %s: %w", sg.PublicKey, err)
	}
	if id, _ := keys.ID(pub); id != sg.KeyID {
		return nil, fmt.Errorf("%s holds key %s, but the manifest names %s: the key file was swapped", sg.PublicKey, keys.ShortID(id), keys.ShortID(sg.KeyID))
	}
	return pub, nil
}

// verifyChain checks a signer's certificate chain against the roots, for
// code signing, at the time the manifest says it was signed.
func verifyChain(ctx context.Context, a Anchors, s Signed, sg format.SignerEntry, pub crypto.PublicKey) (string, error) {
	data, err := s.Read(ctx, sg.Chain)
	if err != nil {
		return "", fmt.Errorf("signer %s certificate chain: %w", keys.ShortID(sg.KeyID), err)
	}
	certs, err := pki.ParseCertificates(data)
	if err != nil {
		return "", fmt.Errorf("certificate chain %s: %w", sg.Chain, err)
	}
	leaf := certs[0]
	if !keys.Equal(leaf.PublicKey, pub) {
		return "", fmt.Errorf("certificate chain %s is for another key than signer %s: the certificate was swapped", sg.Chain, keys.ShortID(sg.KeyID))
	}
	if _, err := pki.Verify(leaf, pki.VerifyOptions{Roots: a.Roots, Intermediates: certs[1:], Time: s.Time, Purpose: pki.PurposeCodeSigning}); err != nil {
		return "", fmt.Errorf("signer %s: %w", keys.ShortID(sg.KeyID), err)
	}
	return pki.FormatName(leaf.RawSubject), nil
}
