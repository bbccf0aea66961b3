package keys

import (
	"testing"
)

// FuzzParsePrivateKey feeds arbitrary bytes to the private key parser: it
// must return a key or an error, never panic.
func FuzzParsePrivateKey(f *testing.F) {
	for _, alg := range Algorithms {
		priv, err := Generate(alg, nil)
		if err != nil {
			f.Fatal(err)
		}
		plain, _ := MarshalPrivateKeyPEM(priv)
		prot := DefaultProtection(alg)
		prot.Iterations = MinIterations
		enc, _ := EncryptPrivateKeyPEM(priv, []byte("pw"), prot)
		f.Add(plain)
		f.Add(enc)
	}
	f.Add([]byte("-----BEGIN EC PARAMETERS-----\nBggqgRzPVQGCLQ==\n-----END EC PARAMETERS-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		priv, err := ParsePrivateKey(data, password("pw"))
		if err == nil {
			if _, err := AlgorithmOf(priv.Public()); err != nil {
				t.Fatalf("parsed an unsupported key: %v", err)
			}
		}
		Inspect(data)
	})
}

// FuzzParsePublicKey feeds arbitrary bytes to the public key parser.
func FuzzParsePublicKey(f *testing.F) {
	for _, alg := range Algorithms {
		priv, _ := Generate(alg, nil)
		pub, _ := MarshalPublicKeyPEM(priv.Public())
		f.Add(pub)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := ParsePublicKey(data)
		if err == nil {
			if _, err := ID(pub); err != nil {
				t.Fatalf("parsed key has no ID: %v", err)
			}
		}
	})
}
