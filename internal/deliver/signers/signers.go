// Package signers is the stage that opens the signing keys, before anything
// slow happens, so that a wrong password or an absent token fails the
// delivery at once. With no key configured it signs with a development key
// from the keyring, created on first use, and says so loudly.
package signers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/keyring"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
)

// DevKeyName is the keyring name of the development key.
const DevKeyName = "hegui-dev"

// Stage fills d.Signers.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "signers" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	cfg := d.Config.Signing
	var primary *delivery.Signer
	var err error
	if cfg.Key == "" {
		primary, err = developmentKey(d)
	} else {
		primary, err = open(d, delivery.KeyRequest{Ref: cfg.Key, PasswordFile: cfg.PasswordFile}, cfg.Certificate)
	}
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	primary.Role = "primary"
	d.Signers = append(d.Signers, primary)
	d.Log.Stepf("primary: %s key %s (%s)", primary.Algorithm, keys.ShortID(primary.KeyID), primary.Label)
	for i, c := range cfg.CoSigners {
		s, err := open(d, delivery.KeyRequest{Ref: c.Key, PasswordFile: c.PasswordFile, PasswordEnv: c.PasswordEnv}, c.Certificate)
		if err != nil {
			return fmt.Errorf("co-signer %d: %w", i+1, err)
		}
		for _, other := range d.Signers {
			if other.KeyID == s.KeyID {
				return fmt.Errorf("co-signer %d is the same key as another signer (%s)", i+1, keys.ShortID(s.KeyID))
			}
		}
		s.Role = "co-signer"
		d.Signers = append(d.Signers, s)
		d.Log.Stepf("co-signer: %s key %s (%s)", s.Algorithm, keys.ShortID(s.KeyID), s.Label)
	}
	return writePublicMaterial(d)
}

// writePublicMaterial puts each signer's public key and certificate chain
// into the delivery, where the manifest names them.
func writePublicMaterial(d *delivery.Delivery) error {
	if err := os.MkdirAll(d.Path(format.SignersDir), 0o755); err != nil {
		return err
	}
	for _, s := range d.Signers {
		pub, err := keys.MarshalPublicKeyPEM(s.Key.Public())
		if err != nil {
			return err
		}
		if err := os.WriteFile(d.Path(format.SignerPublicKeyPath(s.KeyID)), pub, 0o644); err != nil {
			return err
		}
		if len(s.Chain) > 0 {
			if err := os.WriteFile(d.Path(format.SignerChainPath(s.KeyID)), pki.EncodeCertificates(s.Chain...), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func open(d *delivery.Delivery, req delivery.KeyRequest, certFile string) (*delivery.Signer, error) {
	k, err := d.OpenKey(req)
	if err != nil {
		return nil, err
	}
	s, err := describe(k)
	if err != nil {
		k.Close()
		return nil, err
	}
	if certFile != "" {
		if err := attachChain(s, certFile); err != nil {
			k.Close()
			return nil, err
		}
	}
	return s, nil
}

func describe(k *delivery.OpenedKey) (*delivery.Signer, error) {
	alg, err := keys.AlgorithmOf(k.Signer.Public())
	if err != nil {
		return nil, err
	}
	id, err := keys.ID(k.Signer.Public())
	if err != nil {
		return nil, err
	}
	return &delivery.Signer{Signer: format.Signer{KeyID: id, Algorithm: alg, Label: k.Label}, Key: k.Signer, Close: k.Close}, nil
}

// attachChain loads the signer's certificate chain and checks that it
// belongs to the key and allows code signing now.
func attachChain(s *delivery.Signer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read certificate: %w", err)
	}
	chain, err := pki.ParseCertificates(data)
	if err != nil {
		return fmt.Errorf("certificate %q: %w", path, err)
	}
	leaf := chain[0]
	if !keys.Equal(leaf.PublicKey, s.Key.Public()) {
		return fmt.Errorf("certificate %q is for another key than %s", path, s.Label)
	}
	hasCodeSigning := false
	for _, u := range leaf.ExtKeyUsage {
		hasCodeSigning = hasCodeSigning || u == smx509.ExtKeyUsageCodeSigning
	}
	if !hasCodeSigning {
		return fmt.Errorf("certificate %q is not a code-signing certificate (no codeSigning extended key usage)", path)
	}
	if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return fmt.Errorf("certificate %q is not valid now (valid %s to %s)", path, leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly))
	}
	s.Chain = chain
	s.Subject = pki.FormatName(leaf.RawSubject)
	return nil
}

// developmentKey returns the keyring's hegui-dev key, creating an
// unencrypted SM2 key on first use.
func developmentKey(d *delivery.Delivery) (*delivery.Signer, error) {
	ring, err := keyring.Open(d.KeyringDir)
	if err != nil {
		return nil, err
	}
	entry, err := ring.Find(DevKeyName)
	if err != nil {
		priv, gerr := keys.Generate(keys.SM2, nil)
		if gerr != nil {
			return nil, gerr
		}
		if entry, err = ring.Add(DevKeyName, priv, nil, keys.Protection{}); err != nil {
			return nil, fmt.Errorf("create the development key: %w", err)
		}
		d.Log.Stepf("created the development key %s in %s", keys.ShortID(entry.ID), ring.Dir())
	}
	priv, err := ring.Signer(entry, func() ([]byte, error) {
		return nil, errors.New("the development key is encrypted; configure signing.key instead")
	})
	if err != nil {
		return nil, err
	}
	s, err := describe(&delivery.OpenedKey{Signer: priv, Label: "development key keyring:" + DevKeyName, Close: func() {}})
	if err != nil {
		return nil, err
	}
	s.Development = true
	d.Warn("THIS DELIVERY IS SIGNED WITH A DEVELOPMENT KEY (keyring:%s, %s). It proves nothing about who made it; set signing.key in %s for a release.", DevKeyName, keys.ShortID(s.KeyID), "hegui.yaml")
	return s, nil
}
