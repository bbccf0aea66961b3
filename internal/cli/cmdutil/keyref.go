package cmdutil

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/keyring"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pkcs11key"
)

// Environment variables for PKCS#11 keys, used when the URI does not say.
const (
	envPKCS11Module = "HEGUI_PKCS11_MODULE"
	envPKCS11PIN    = "HEGUI_PKCS11_PIN"
	envPKCS11SM2    = "HEGUI_PKCS11_SM2_MECHANISM"
)

// KeyringScheme prefixes a key reference that names a keyring key.
const KeyringScheme = "keyring:"

// KeyRef is a --key flag: a key file, keyring:NAME|ID or pkcs11:URI.
type KeyRef struct {
	Env      *Env
	Ref      string
	Password *PasswordSource
}

// AddKeyFlag adds the key reference flag name (and --password-file for it)
// to cmd.
func AddKeyFlag(cmd *cobra.Command, env *Env, name, usage string) *KeyRef {
	k := &KeyRef{Env: env}
	cmd.Flags().StringVar(&k.Ref, name, "", usage+": `FILE`, keyring:NAME|ID or pkcs11:URI")
	k.Password = AddPasswordFlag(cmd, env, "the key")
	return k
}

// SigningKey is an opened private key and what to call it in messages.
type SigningKey struct {
	crypto.Signer
	ID      string
	Alg     keys.Algorithm
	Label   string
	OnToken bool // a PKCS#11 key: it cannot be exported
	close   func()
}

// Close releases a token session; for other keys it does nothing.
func (s *SigningKey) Close() {
	if s.close != nil {
		s.close()
	}
}

// Required is a usage error naming flag when no key was given.
func (k *KeyRef) Required(flag string) error {
	if k.Ref == "" {
		return Usagef("--%s is required", flag)
	}
	return nil
}

// OpenSigner opens the referenced private key for signing.
func (k *KeyRef) OpenSigner(ctx context.Context) (*SigningKey, error) {
	var signer crypto.Signer
	label := k.Ref
	closeFn := func() {}
	switch {
	case pkcs11key.IsURI(k.Ref):
		cfg, err := k.Env.PKCS11Config()
		if err != nil {
			return nil, err
		}
		tok, err := pkcs11key.Open(k.Ref, cfg)
		if err != nil {
			return nil, fmt.Errorf("PKCS#11 key: %w", err)
		}
		signer, closeFn = tok, func() { tok.Close() }
		label = "PKCS#11 key"
	case strings.HasPrefix(k.Ref, KeyringScheme):
		ring, entry, err := k.Env.FindInKeyring(strings.TrimPrefix(k.Ref, KeyringScheme))
		if err != nil {
			return nil, err
		}
		if signer, err = ring.Signer(entry, k.Password.KeysFunc()); err != nil {
			return nil, fmt.Errorf("keyring key %s: %w", entry.Name, err)
		}
		label = fmt.Sprintf("keyring key %s", entry.Name)
	default:
		data, err := inputfile.Read(ctx, k.Ref, inputfile.KeyLimit)
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		if signer, err = keys.ParsePrivateKey(data, k.Password.KeysFunc()); err != nil {
			return nil, fmt.Errorf("key %q: %w", k.Ref, err)
		}
	}
	alg, err := keys.AlgorithmOf(signer.Public())
	if err != nil {
		closeFn()
		return nil, err
	}
	id, _ := keys.ID(signer.Public())
	return &SigningKey{Signer: signer, ID: id, Alg: alg, Label: label, OnToken: pkcs11key.IsURI(k.Ref), close: closeFn}, nil
}

// OpenPublic returns the public key of the reference. For keyring keys any
// state will do: DEACTIVATED and DESTROYED keys still verify. A file may
// hold a public key or a private key, whose public half is taken.
func (k *KeyRef) OpenPublic(ctx context.Context) (crypto.PublicKey, error) {
	switch {
	case pkcs11key.IsURI(k.Ref):
		s, err := k.OpenSigner(ctx)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		return s.Public(), nil
	case strings.HasPrefix(k.Ref, KeyringScheme):
		ring, entry, err := k.Env.FindInKeyring(strings.TrimPrefix(k.Ref, KeyringScheme))
		if err != nil {
			return nil, err
		}
		return ring.PublicKey(entry)
	}
	pub, err := ReadPublicKeyFile(k.Ref)
	if !errors.Is(err, keys.ErrIsPrivateKey) {
		return pub, err
	}
	s, err := k.OpenSigner(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Public(), nil
}

// ReadPublicKeyFile reads a public key file (--pub). It is a regular file
// of at most inputfile.KeyLimit bytes, or refused: such a read cannot
// block, so it takes no context.
func ReadPublicKeyFile(path string) (crypto.PublicKey, error) {
	data, err := inputfile.Read(context.Background(), path, inputfile.KeyLimit)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	pub, err := keys.ParsePublicKey(data)
	if errors.Is(err, keys.ErrIsCertificate) {
		return nil, fmt.Errorf("public key %q: %w: certificates go to --cert (hegui verify-blob) or --trust-root (hegui verify)", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("public key %q: %w", path, err)
	}
	return pub, nil
}

// OpenKeyring opens the keyring of --keyring.
func (e *Env) OpenKeyring() (*keyring.Keyring, error) {
	return keyring.Open(e.KeyringDir)
}

// FindInKeyring opens the keyring and finds the key named by ref, a name
// or ID (what follows keyring:).
func (e *Env) FindInKeyring(ref string) (*keyring.Keyring, *keyring.Entry, error) {
	ring, err := e.OpenKeyring()
	if err != nil {
		return nil, nil, err
	}
	entry, err := ring.Find(ref)
	if err != nil {
		return nil, nil, err
	}
	return ring, entry, nil
}

// PKCS11Config is the PKCS#11 configuration from the environment.
func (e *Env) PKCS11Config() (pkcs11key.Config, error) {
	cfg := pkcs11key.Config{ModulePath: e.Getenv(envPKCS11Module), PIN: e.Getenv(envPKCS11PIN)}
	if v := e.Getenv(envPKCS11SM2); v != "" {
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil || n == 0 {
			return cfg, fmt.Errorf("$%s=%q is not a mechanism number (like 0x80000101)", envPKCS11SM2, v)
		}
		cfg.SM2Mechanism = uint(n)
	}
	return cfg, nil
}
