package modsign

import (
	"context"
	"crypto"
	"errors"
	"fmt"

	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// LoadTrust reads the publishers' public key files (PEM, as `hegui key
// generate` writes them) and the audit log's verifier keys file (log.pub,
// as `hegui log init` writes it).
func LoadTrust(publishers []string, logKeys string) (Trust, error) {
	var t Trust
	if len(publishers) == 0 {
		return t, errors.New("no publisher public keys")
	}
	for _, file := range publishers {
		data, err := inputfile.Read(context.Background(), file, inputfile.KeyLimit)
		if err != nil {
			return t, fmt.Errorf("publisher key: %w", err)
		}
		pub, err := keys.ParsePublicKey(data)
		if err != nil {
			return t, fmt.Errorf("publisher key %s: %w", file, err)
		}
		t.Publishers = append(t.Publishers, crypto.PublicKey(pub))
	}
	if logKeys == "" {
		return t, errors.New("no audit-log verifier keys (log.pub)")
	}
	data, err := inputfile.Read(context.Background(), logKeys, inputfile.KeyLimit)
	if err != nil {
		return t, fmt.Errorf("audit-log keys: %w", err)
	}
	if t.Log, err = translog.ParseVerifierKeys(data); err != nil {
		return t, fmt.Errorf("audit-log keys %s: %w", logKeys, err)
	}
	return t, nil
}
