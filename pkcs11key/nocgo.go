//go:build !cgo

package pkcs11key

import "crypto"

// Available reports whether this build can open PKCS#11 modules.
const Available = false

// Key is a private key on a PKCS#11 token. Without cgo no key can be opened.
type Key struct{ crypto.Signer }

// Open reports ErrNoCgo: this build cannot load a PKCS#11 module. The URI is
// still checked, so a mistyped URI is reported as such.
func Open(uri string, cfg Config) (*Key, error) {
	if _, err := parseKeyURI(uri, typePrivate); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Close does nothing.
func (k *Key) Close() error { return nil }

// Wrapper is an AES master key on a PKCS#11 token. Without cgo no wrapper can
// be opened.
type Wrapper struct{}

// OpenWrapper reports ErrNoCgo: this build cannot load a PKCS#11 module. The
// URI is still checked, so a mistyped URI is reported as such.
func OpenWrapper(uri string, cfg Config) (*Wrapper, error) {
	if _, err := parseKeyURI(uri, typeSecretKey); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Wrap reports ErrNoCgo.
func (w *Wrapper) Wrap(dataKey []byte) ([]byte, error) { return nil, ErrNoCgo }

// Unwrap reports ErrNoCgo.
func (w *Wrapper) Unwrap(wrapped []byte) ([]byte, error) { return nil, ErrNoCgo }

// Close does nothing.
func (w *Wrapper) Close() error { return nil }
