package pki

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"hegui.dev/hegui/keys"
)

// Description is a certificate or request in readable form, with every
// algorithm OID named. It is what `hegui cert inspect` prints.
type Description struct {
	Kind               string        `json:"kind"`    // "certificate" or "certificate request"
	Version            int           `json:"version"` // 1-based, as printed by OpenSSL
	Serial             string        `json:"serial,omitempty"`
	Subject            string        `json:"subject"`
	Issuer             string        `json:"issuer,omitempty"`
	NotBefore          *time.Time    `json:"notBefore,omitempty"`
	NotAfter           *time.Time    `json:"notAfter,omitempty"`
	SelfSigned         bool          `json:"selfSigned,omitempty"`
	PublicKey          KeyInfo       `json:"publicKey"`
	SignatureAlgorithm string        `json:"signatureAlgorithm"`
	CA                 *bool         `json:"ca,omitempty"`
	PathLen            *int          `json:"pathLen,omitempty"`
	KeyUsage           []string      `json:"keyUsage,omitempty"`
	ExtKeyUsage        []string      `json:"extKeyUsage,omitempty"`
	DNSNames           []string      `json:"dnsNames,omitempty"`
	IPAddresses        []string      `json:"ipAddresses,omitempty"`
	EmailAddresses     []string      `json:"emailAddresses,omitempty"`
	URIs               []string      `json:"uris,omitempty"`
	SubjectKeyID       string        `json:"subjectKeyId,omitempty"`
	AuthorityKeyID     string        `json:"authorityKeyId,omitempty"`
	Extensions         []Extension   `json:"extensions,omitempty"`
	Fingerprints       *Fingerprints `json:"fingerprints,omitempty"`
}

// KeyInfo describes a subject public key.
type KeyInfo struct {
	Algorithm    string `json:"algorithm"` // hegui's name, or "unsupported"
	AlgorithmOID string `json:"algorithmOid"`
	Parameters   string `json:"parameters,omitempty"` // the named curve, when there is one
	KeyID        string `json:"keyId,omitempty"`
}

// Extension names one X.509 extension.
type Extension struct {
	OID      string `json:"oid"`
	Critical bool   `json:"critical"`
}

// Fingerprints are digests of the DER certificate.
type Fingerprints struct {
	SHA256 string `json:"sha256"`
	SM3    string `json:"sm3"`
}

// DescribeCertificate describes a certificate.
func DescribeCertificate(c *smx509.Certificate) Description {
	d := Description{
		Kind:               "certificate",
		Version:            c.Version,
		Serial:             colonHex(c.SerialNumber.Bytes()),
		Subject:            FormatName(c.RawSubject),
		Issuer:             FormatName(c.RawIssuer),
		NotBefore:          &c.NotBefore,
		NotAfter:           &c.NotAfter,
		SelfSigned:         bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil,
		PublicKey:          describeKey(c.RawSubjectPublicKeyInfo, c.PublicKey),
		SignatureAlgorithm: outerSignatureAlgorithm(c.Raw),
		KeyUsage:           keyUsageNames(c.KeyUsage),
		DNSNames:           c.DNSNames,
		EmailAddresses:     c.EmailAddresses,
		SubjectKeyID:       colonHex(c.SubjectKeyId),
		AuthorityKeyID:     colonHex(c.AuthorityKeyId),
	}
	if c.BasicConstraintsValid {
		d.CA = &c.IsCA
		if c.IsCA && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
			d.PathLen = &c.MaxPathLen
		}
	}
	for _, ip := range c.IPAddresses {
		d.IPAddresses = append(d.IPAddresses, ip.String())
	}
	for _, u := range c.URIs {
		d.URIs = append(d.URIs, u.String())
	}
	for _, ext := range c.Extensions {
		d.Extensions = append(d.Extensions, Extension{OID: OIDName(ext.Id), Critical: ext.Critical})
		if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			d.ExtKeyUsage = extKeyUsageNames(ext.Value)
		}
	}
	sha := sha256.Sum256(c.Raw)
	sm := sm3.Sum(c.Raw)
	d.Fingerprints = &Fingerprints{SHA256: hex.EncodeToString(sha[:]), SM3: hex.EncodeToString(sm[:])}
	return d
}

// DescribeCSR describes a certificate request.
func DescribeCSR(r *smx509.CertificateRequest) Description {
	d := Description{
		Kind:               "certificate request",
		Version:            r.Version + 1, // PKCS#10 encodes version 1 as 0
		Subject:            FormatName(r.RawSubject),
		PublicKey:          describeKey(r.RawSubjectPublicKeyInfo, r.PublicKey),
		SignatureAlgorithm: outerSignatureAlgorithm(r.Raw),
		DNSNames:           r.DNSNames,
		EmailAddresses:     r.EmailAddresses,
	}
	for _, ip := range r.IPAddresses {
		d.IPAddresses = append(d.IPAddresses, ip.String())
	}
	for _, u := range r.URIs {
		d.URIs = append(d.URIs, u.String())
	}
	for _, ext := range r.Extensions {
		d.Extensions = append(d.Extensions, Extension{OID: OIDName(ext.Id), Critical: ext.Critical})
	}
	return d
}

// outerSignatureAlgorithm reads the signatureAlgorithm that follows the
// signed body in a certificate, CRL or request: SEQUENCE { body, algorithm, signature }.
func outerSignatureAlgorithm(raw []byte) string {
	input := cryptobyte.String(raw)
	var outer, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !input.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.SkipASN1(cbasn1.SEQUENCE) ||
		!outer.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return "unparsable"
	}
	return OIDName(oid)
}

// describeKey names the algorithm and curve of a SubjectPublicKeyInfo.
func describeKey(spki []byte, pub any) KeyInfo {
	info := KeyInfo{Algorithm: "unsupported"}
	if alg, err := keys.AlgorithmOf(pub); err == nil {
		info.Algorithm = string(alg)
		info.KeyID, _ = keys.ID(pub)
	}
	input := cryptobyte.String(spki)
	var outer, algID cryptobyte.String
	var oid, curve asn1.ObjectIdentifier
	if !input.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.ReadASN1(&algID, cbasn1.SEQUENCE) || !algID.ReadASN1ObjectIdentifier(&oid) {
		info.AlgorithmOID = "unparsable"
		return info
	}
	info.AlgorithmOID = OIDName(oid)
	if algID.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) && algID.ReadASN1ObjectIdentifier(&curve) {
		info.Parameters = OIDName(curve)
	}
	return info
}

var keyUsageBits = []struct {
	bit  smx509.KeyUsage
	name string
}{
	{smx509.KeyUsageDigitalSignature, "digitalSignature"},
	{smx509.KeyUsageContentCommitment, "contentCommitment"},
	{smx509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{smx509.KeyUsageDataEncipherment, "dataEncipherment"},
	{smx509.KeyUsageKeyAgreement, "keyAgreement"},
	{smx509.KeyUsageCertSign, "keyCertSign"},
	{smx509.KeyUsageCRLSign, "cRLSign"},
	{smx509.KeyUsageEncipherOnly, "encipherOnly"},
	{smx509.KeyUsageDecipherOnly, "decipherOnly"},
}

func keyUsageNames(ku smx509.KeyUsage) []string {
	var names []string
	for _, b := range keyUsageBits {
		if ku&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	return names
}

// extKeyUsageNames decodes the extKeyUsage extension value, so that unknown
// usages are shown by OID instead of being dropped.
func extKeyUsageNames(value []byte) []string {
	var oids []asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(value, &oids); err != nil {
		return []string{"unparsable"}
	}
	names := make([]string, len(oids))
	for i, oid := range oids {
		names[i] = OIDName(oid)
	}
	return names
}

func colonHex(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, ":")
}
