package cryptoinv

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"hegui.dev/hegui/pki"
)

// Inventory is the cryptography of one delivery.
type Inventory struct {
	// Protection is what protects the delivery itself: its signatures and
	// digests, each with what it covers.
	Protection []Use `json:"protection"`
	// Keys are the signing keys (public parts only).
	Keys []Key `json:"keys"`
	// Certificates are the signers' certificate chains.
	Certificates []Certificate `json:"certificates"`
	// Binaries lists, per delivered binary, the algorithms and protocols
	// of the crypto packages linked into it.
	Binaries []BinaryCrypto `json:"binaries"`
	// Algorithms is every algorithm above once, with its class.
	Algorithms []Algorithm `json:"algorithms"`
	// Libraries are the modules providing crypto packages to the binaries.
	Libraries []string `json:"libraries"`
}

// Use is an algorithm applied to the delivery.
type Use struct {
	Algorithm string   `json:"algorithm"`
	Purpose   string   `json:"purpose"`
	Covers    []string `json:"covers"`
	KeyID     string   `json:"keyId,omitempty"`
}

// Key is a signing key.
type Key struct {
	ID          string `json:"id"`
	Algorithm   string `json:"algorithm"` // sm2, ecdsa-p256, ed25519
	Role        string `json:"role"`
	Store       string `json:"store"` // file, keyring, pkcs11 token
	Development bool   `json:"development,omitempty"`
}

// Certificate is one certificate of a signer's chain.
type Certificate struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"`
	NotBefore          time.Time `json:"notBefore"`
	NotAfter           time.Time `json:"notAfter"`
	SignatureAlgorithm string    `json:"signatureAlgorithm"`
	PublicKeyAlgorithm string    `json:"publicKeyAlgorithm"`
	IsCA               bool      `json:"isCA"`
	SHA256             string    `json:"sha256"`
	SM3                string    `json:"sm3"`
	SignerKeyID        string    `json:"signerKeyId"`
}

// BinaryCrypto is the cryptography linked into one binary.
type BinaryCrypto struct {
	Path       string   `json:"path"`
	Algorithms []string `json:"algorithms"`
	Protocols  []string `json:"protocols,omitempty"`
	// Packages are the crypto packages that bring them in.
	Packages []string `json:"packages"`
}

// Classes counts the inventory's algorithms by class.
func (inv *Inventory) Classes() map[string][]string {
	out := map[string][]string{}
	for _, a := range inv.Algorithms {
		out[a.Class] = append(out[a.Class], a.Name)
	}
	return out
}

// Binary lists the crypto of a binary from the packages linked into it;
// moduleOf maps a package to its module ("" for the standard library).
func Binary(path string, packages []string, moduleOf func(string) string) (BinaryCrypto, []string) {
	b := BinaryCrypto{Path: path, Algorithms: []string{}, Packages: []string{}}
	var libs []string
	for _, p := range packages {
		algs := AlgorithmsOf(p)
		proto := ProtocolOf(p)
		if len(algs) == 0 && proto == "" {
			continue
		}
		b.Packages = append(b.Packages, p)
		for _, a := range algs {
			if !slices.Contains(b.Algorithms, a) {
				b.Algorithms = append(b.Algorithms, a)
			}
		}
		if proto != "" && !slices.Contains(b.Protocols, proto) {
			b.Protocols = append(b.Protocols, proto)
		}
		if m := moduleOf(p); m != "" && !slices.Contains(libs, m) {
			libs = append(libs, m)
		}
	}
	sort.Strings(b.Algorithms)
	sort.Strings(b.Protocols)
	return b, libs
}

// CertificateOf describes a certificate of the chain of the signer keyID.
func CertificateOf(c *smx509.Certificate, keyID string) Certificate {
	s := sha256.Sum256(c.Raw)
	m := sm3.Sum(c.Raw)
	return Certificate{
		Subject: pki.FormatName(c.RawSubject), Issuer: pki.FormatName(c.RawIssuer),
		Serial: strings.ToLower(c.SerialNumber.Text(16)), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		SignatureAlgorithm: signatureAlgorithmName(c), PublicKeyAlgorithm: c.PublicKeyAlgorithm.String(),
		IsCA: c.IsCA, SHA256: hex.EncodeToString(s[:]), SM3: hex.EncodeToString(m[:]), SignerKeyID: keyID,
	}
}

// signatureAlgorithmName names SM2-with-SM3 (which crypto/x509 does not know).
func signatureAlgorithmName(c *smx509.Certificate) string {
	if c.SignatureAlgorithm == smx509.SM2WithSM3 {
		return "SM2-with-SM3"
	}
	return c.SignatureAlgorithm.String()
}

// Finish fills Algorithms from the rest, sorted national first.
func (inv *Inventory) Finish() {
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		if a, ok := Lookup(name); ok {
			inv.Algorithms = append(inv.Algorithms, a)
		}
	}
	for _, u := range inv.Protection {
		add(u.Algorithm)
	}
	for _, c := range inv.Certificates {
		add(c.SignatureAlgorithm)
	}
	for _, b := range inv.Binaries {
		for _, a := range b.Algorithms {
			add(a)
		}
	}
	rank := map[string]int{National: 0, International: 1, Legacy: 2}
	sort.SliceStable(inv.Algorithms, func(i, j int) bool {
		a, b := inv.Algorithms[i], inv.Algorithms[j]
		if rank[a.Class] != rank[b.Class] {
			return rank[a.Class] < rank[b.Class]
		}
		return a.Name < b.Name
	})
	sort.Strings(inv.Libraries)
	if inv.Keys == nil {
		inv.Keys = []Key{}
	}
	if inv.Certificates == nil {
		inv.Certificates = []Certificate{}
	}
	if inv.Libraries == nil {
		inv.Libraries = []string{}
	}
}
