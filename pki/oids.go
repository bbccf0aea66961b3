package pki

import "encoding/asn1"

// oidNames names the object identifiers a certificate or CSR of hegui's
// world carries, the GM/T 0006 ones first. Unknown OIDs are shown as numbers.
var oidNames = map[string]string{
	// GM/T 0006-2012 Cryptographic application identifier criterion.
	"1.2.156.10197.1.301":     "sm2p256v1 (SM2 curve)",
	"1.2.156.10197.1.301.1":   "SM2 signature",
	"1.2.156.10197.1.301.2":   "SM2 key exchange",
	"1.2.156.10197.1.301.3":   "SM2 encryption",
	"1.2.156.10197.1.401":     "SM3",
	"1.2.156.10197.1.401.2":   "HMAC-SM3",
	"1.2.156.10197.1.501":     "SM2-with-SM3",
	"1.2.156.10197.1.104.2":   "SM4-CBC",
	"1.2.156.10197.6.1.4.2.1": "GM/T 0010 data",
	"1.2.156.10197.6.1.4.2.2": "GM/T 0010 signedData",

	// International algorithms.
	"1.2.840.10045.2.1":     "id-ecPublicKey",
	"1.2.840.10045.3.1.7":   "prime256v1 (NIST P-256)",
	"1.3.132.0.34":          "secp384r1 (NIST P-384)",
	"1.2.840.10045.4.3.2":   "ecdsa-with-SHA256",
	"1.2.840.10045.4.3.3":   "ecdsa-with-SHA384",
	"1.3.101.112":           "Ed25519",
	"1.2.840.113549.1.1.1":  "rsaEncryption",
	"1.2.840.113549.1.1.11": "sha256WithRSAEncryption",

	// RFC 5280 extensions.
	"2.5.29.14": "subjectKeyIdentifier",
	"2.5.29.15": "keyUsage",
	"2.5.29.17": "subjectAltName",
	"2.5.29.19": "basicConstraints",
	"2.5.29.30": "nameConstraints",
	"2.5.29.31": "cRLDistributionPoints",
	"2.5.29.32": "certificatePolicies",
	"2.5.29.35": "authorityKeyIdentifier",
	"2.5.29.37": "extKeyUsage",

	"1.3.6.1.5.5.7.1.1": "authorityInfoAccess",

	// RFC 5280 extended key usages.
	"2.5.29.37.0":       "anyExtendedKeyUsage",
	"1.3.6.1.5.5.7.3.1": "serverAuth",
	"1.3.6.1.5.5.7.3.2": "clientAuth",
	"1.3.6.1.5.5.7.3.3": "codeSigning",
	"1.3.6.1.5.5.7.3.4": "emailProtection",
	"1.3.6.1.5.5.7.3.8": "timeStamping",
	"1.3.6.1.5.5.7.3.9": "OCSPSigning",
}

// OIDName returns the name of an OID with the number in parentheses, or the
// number alone when the OID is not known.
func OIDName(oid asn1.ObjectIdentifier) string {
	s := oid.String()
	if name, ok := oidNames[s]; ok {
		return name + " (" + s + ")"
	}
	return s
}
