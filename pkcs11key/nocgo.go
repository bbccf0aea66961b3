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
	if _, err := ParseURI(uri); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Close does nothing.
func (k *Key) Close() error { return nil }
