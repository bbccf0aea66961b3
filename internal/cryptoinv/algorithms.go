// Package cryptoinv describes the cryptography of a delivery, because a
// commercial cryptography assessment (密评, GB/T 39786) starts from such an
// inventory: the algorithms that protect the delivery itself (signatures,
// digests), the keys and certificates that made them, and the algorithms
// the delivered binaries carry, read from the packages linked into them.
package cryptoinv

import "strings"

// Classes of algorithm, as an assessor sorts them.
const (
	// National: Chinese commercial cryptography (GM/T, GB/T): SM2, SM3,
	// SM4, SM9, ZUC.
	National = "national"
	// International: current international standards (AES, SHA-2, ECDSA, ...).
	International = "international"
	// Legacy: broken or deprecated (MD5, SHA-1, DES, RC4, DSA).
	Legacy = "legacy"
)

// Algorithm describes one algorithm.
type Algorithm struct {
	Name      string `json:"name"`
	Family    string `json:"family"`
	Primitive string `json:"primitive"` // CycloneDX crypto primitive: signature, hash, block-cipher, ...
	Class     string `json:"class"`
	OID       string `json:"oid,omitempty"`
	Standard  string `json:"standard,omitempty"`
}

// algorithms are the algorithms hegui recognises, by name.
var algorithms = map[string]Algorithm{
	"SM2":               {Family: "SM2", Primitive: "signature", Class: National, OID: "1.2.156.10197.1.301", Standard: "GB/T 32918"},
	"SM2-with-SM3":      {Family: "SM2", Primitive: "signature", Class: National, OID: "1.2.156.10197.1.501", Standard: "GB/T 32918, GM/T 0009"},
	"SM3":               {Family: "SM3", Primitive: "hash", Class: National, OID: "1.2.156.10197.1.401", Standard: "GB/T 32905"},
	"HMAC-SM3":          {Family: "SM3", Primitive: "mac", Class: National, Standard: "GB/T 15852.2 with GB/T 32905"},
	"SM4":               {Family: "SM4", Primitive: "block-cipher", Class: National, OID: "1.2.156.10197.1.104", Standard: "GB/T 32907"},
	"SM9":               {Family: "SM9", Primitive: "signature", Class: National, OID: "1.2.156.10197.1.302", Standard: "GB/T 38635"},
	"ZUC":               {Family: "ZUC", Primitive: "stream-cipher", Class: National, Standard: "GB/T 33133"},
	"ECDSA-P256-SHA256": {Family: "ECDSA", Primitive: "signature", Class: International, OID: "1.2.840.10045.4.3.2", Standard: "FIPS 186-5"},
	"ECDSA-SHA256":      {Family: "ECDSA", Primitive: "signature", Class: International, OID: "1.2.840.10045.4.3.2", Standard: "FIPS 186-5"},
	"ECDSA-SHA384":      {Family: "ECDSA", Primitive: "signature", Class: International, OID: "1.2.840.10045.4.3.3", Standard: "FIPS 186-5"},
	"SHA256-RSA":        {Family: "RSA", Primitive: "signature", Class: International, OID: "1.2.840.113549.1.1.11", Standard: "RFC 8017"},
	"ECDSA":             {Family: "ECDSA", Primitive: "signature", Class: International, OID: "1.2.840.10045.2.1", Standard: "FIPS 186-5"},
	"Ed25519":           {Family: "EdDSA", Primitive: "signature", Class: International, OID: "1.3.101.112", Standard: "RFC 8032"},
	"RSA":               {Family: "RSA", Primitive: "signature", Class: International, OID: "1.2.840.113549.1.1.1", Standard: "RFC 8017"},
	"DSA":               {Family: "DSA", Primitive: "signature", Class: Legacy, OID: "1.2.840.10040.4.1", Standard: "FIPS 186-4 (withdrawn in 186-5)"},
	"ECDH":              {Family: "ECDH", Primitive: "key-agree", Class: International, Standard: "NIST SP 800-56A"},
	"X25519":            {Family: "ECDH", Primitive: "key-agree", Class: International, OID: "1.3.101.110", Standard: "RFC 7748"},
	"ML-KEM":            {Family: "ML-KEM", Primitive: "kem", Class: International, Standard: "FIPS 203"},
	"SHA-256":           {Family: "SHA-2", Primitive: "hash", Class: International, OID: "2.16.840.1.101.3.4.2.1", Standard: "FIPS 180-4"},
	"SHA-512":           {Family: "SHA-2", Primitive: "hash", Class: International, OID: "2.16.840.1.101.3.4.2.3", Standard: "FIPS 180-4"},
	"SHA-3":             {Family: "SHA-3", Primitive: "hash", Class: International, Standard: "FIPS 202"},
	"BLAKE2":            {Family: "BLAKE2", Primitive: "hash", Class: International, Standard: "RFC 7693"},
	"SHA-1":             {Family: "SHA-1", Primitive: "hash", Class: Legacy, OID: "1.3.14.3.2.26", Standard: "FIPS 180-4 (deprecated)"},
	"MD5":               {Family: "MD5", Primitive: "hash", Class: Legacy, OID: "1.2.840.113549.2.5", Standard: "RFC 1321 (broken)"},
	"MD4":               {Family: "MD4", Primitive: "hash", Class: Legacy, Standard: "RFC 1320 (broken)"},
	"RIPEMD-160":        {Family: "RIPEMD", Primitive: "hash", Class: Legacy},
	"HMAC":              {Family: "HMAC", Primitive: "mac", Class: International, Standard: "FIPS 198-1"},
	"AES":               {Family: "AES", Primitive: "block-cipher", Class: International, OID: "2.16.840.1.101.3.4.1", Standard: "FIPS 197"},
	"DES":               {Family: "DES", Primitive: "block-cipher", Class: Legacy, OID: "1.3.14.3.2.7", Standard: "FIPS 46-3 (withdrawn)"},
	"3DES":              {Family: "DES", Primitive: "block-cipher", Class: Legacy, OID: "1.2.840.113549.3.7", Standard: "NIST SP 800-67 (withdrawn)"},
	"RC4":               {Family: "RC4", Primitive: "stream-cipher", Class: Legacy, OID: "1.2.840.113549.3.4", Standard: "RFC 7465 prohibits it in TLS"},
	"ChaCha20-Poly1305": {Family: "ChaCha20", Primitive: "ae", Class: International, Standard: "RFC 8439"},
	"XSalsa20-Poly1305": {Family: "Salsa20", Primitive: "ae", Class: International},
	"PBKDF2":            {Family: "PBKDF2", Primitive: "kdf", Class: International, OID: "1.2.840.113549.1.5.12", Standard: "RFC 8018"},
	"HKDF":              {Family: "HKDF", Primitive: "kdf", Class: International, Standard: "RFC 5869"},
	"Argon2":            {Family: "Argon2", Primitive: "kdf", Class: International, Standard: "RFC 9106"},
	"bcrypt":            {Family: "bcrypt", Primitive: "kdf", Class: International},
	"scrypt":            {Family: "scrypt", Primitive: "kdf", Class: International, Standard: "RFC 7914"},
	"DRBG":              {Family: "DRBG", Primitive: "drbg", Class: International, Standard: "NIST SP 800-90A"},
	"SM2-key-exchange":  {Family: "SM2", Primitive: "key-agree", Class: National, Standard: "GB/T 32918.3"},
	"SM3-KDF":           {Family: "SM3", Primitive: "kdf", Class: National, Standard: "GB/T 32918.4"},
	"CBC-MAC":           {Family: "CBC-MAC", Primitive: "mac", Class: International, Standard: "ISO/IEC 9797-1"},
	"Poly1305":          {Family: "Poly1305", Primitive: "mac", Class: International, Standard: "RFC 8439"},
	"ChaCha20":          {Family: "ChaCha20", Primitive: "stream-cipher", Class: International, Standard: "RFC 8439"},
	"Salsa20":           {Family: "Salsa20", Primitive: "stream-cipher", Class: International},
	"XTS":               {Family: "XTS", Primitive: "other", Class: International, Standard: "IEEE 1619 (a block-cipher mode)"},
	"Twofish":           {Family: "Twofish", Primitive: "block-cipher", Class: International},
	"Blowfish":          {Family: "Blowfish", Primitive: "block-cipher", Class: Legacy, Standard: "64-bit block (Sweet32)"},
	"CAST5":             {Family: "CAST", Primitive: "block-cipher", Class: Legacy, OID: "1.2.840.113533.7.66.10", Standard: "RFC 2144"},
	"TEA":               {Family: "TEA", Primitive: "block-cipher", Class: Legacy},
	"XTEA":              {Family: "TEA", Primitive: "block-cipher", Class: Legacy},
	"RC2":               {Family: "RC2", Primitive: "block-cipher", Class: Legacy, OID: "1.2.840.113549.3.2", Standard: "RFC 2268"},
	"ElGamal":           {Family: "ElGamal", Primitive: "pke", Class: Legacy},
	"BN256":             {Family: "BN256", Primitive: "other", Class: Legacy, Standard: "pairing curve below 128-bit security"},
	"HPKE":              {Family: "HPKE", Primitive: "pke", Class: International, Standard: "RFC 9180"},
	"SHAKE":             {Family: "SHA-3", Primitive: "xof", Class: International, Standard: "FIPS 202"},
	"ML-DSA":            {Family: "ML-DSA", Primitive: "signature", Class: International, Standard: "FIPS 204"},
	"SLH-DSA":           {Family: "SLH-DSA", Primitive: "signature", Class: International, Standard: "FIPS 205"},
}

// Lookup returns the algorithm called name (with its name filled in).
func Lookup(name string) (Algorithm, bool) {
	a, ok := algorithms[name]
	a.Name = name
	return a, ok
}

// packageAlgorithms maps import paths (or path prefixes ending in "/")
// of crypto packages to the algorithms they implement. Protocols are
// listed apart.
var packageAlgorithms = map[string][]string{
	"crypto/aes":                           {"AES"},
	"crypto/des":                           {"DES", "3DES"},
	"crypto/rc4":                           {"RC4"},
	"crypto/md5":                           {"MD5"},
	"crypto/sha1":                          {"SHA-1"},
	"crypto/sha256":                        {"SHA-256"},
	"crypto/sha512":                        {"SHA-512"},
	"crypto/sha3":                          {"SHA-3"},
	"crypto/hmac":                          {"HMAC"},
	"crypto/ecdsa":                         {"ECDSA"},
	"crypto/ed25519":                       {"Ed25519"},
	"crypto/ecdh":                          {"ECDH", "X25519"},
	"crypto/rsa":                           {"RSA"},
	"crypto/dsa":                           {"DSA"},
	"crypto/mlkem":                         {"ML-KEM"},
	"crypto/hkdf":                          {"HKDF"},
	"crypto/pbkdf2":                        {"PBKDF2"},
	"crypto/rand":                          {"DRBG"},
	"golang.org/x/crypto/chacha20poly1305": {"ChaCha20-Poly1305"},
	"golang.org/x/crypto/curve25519":       {"X25519"},
	"golang.org/x/crypto/ed25519":          {"Ed25519"},
	"golang.org/x/crypto/argon2":           {"Argon2"},
	"golang.org/x/crypto/bcrypt":           {"bcrypt"},
	"golang.org/x/crypto/scrypt":           {"scrypt"},
	"golang.org/x/crypto/blake2b":          {"BLAKE2"},
	"golang.org/x/crypto/blake2s":          {"BLAKE2"},
	"golang.org/x/crypto/sha3":             {"SHA-3"},
	"golang.org/x/crypto/pbkdf2":           {"PBKDF2"},
	"golang.org/x/crypto/hkdf":             {"HKDF"},
	"golang.org/x/crypto/md4":              {"MD4"},
	"golang.org/x/crypto/ripemd160":        {"RIPEMD-160"},
	"golang.org/x/crypto/nacl/auth":        {"HMAC", "SHA-512"},
	"golang.org/x/crypto/nacl/box":         {"XSalsa20-Poly1305", "X25519"},
	"golang.org/x/crypto/nacl/secretbox":   {"XSalsa20-Poly1305"},
	"golang.org/x/crypto/nacl/sign":        {"Ed25519"},
	"golang.org/x/crypto/poly1305":         {"Poly1305"},
	"golang.org/x/crypto/chacha20":         {"ChaCha20"},
	"golang.org/x/crypto/salsa20":          {"Salsa20"},
	"golang.org/x/crypto/salsa20/salsa":    {"Salsa20"},
	"golang.org/x/crypto/xts":              {"XTS"},
	"golang.org/x/crypto/twofish":          {"Twofish"},
	"golang.org/x/crypto/blowfish":         {"Blowfish"},
	"golang.org/x/crypto/cast5":            {"CAST5"},
	"golang.org/x/crypto/tea":              {"TEA"},
	"golang.org/x/crypto/xtea":             {"XTEA"},
	"golang.org/x/crypto/bn256":            {"BN256"},
	"golang.org/x/crypto/openpgp/elgamal":  {"ElGamal"},
	"golang.org/x/crypto/pkcs12":           {"RC2", "3DES", "SHA-1"},
	"crypto/hpke":                          {"HPKE"},
	"github.com/emmansun/gmsm/sm2/sm2ec":   {"SM2"},
	"github.com/emmansun/gmsm/ecdh":        {"SM2-key-exchange"},
	"github.com/emmansun/gmsm/kdf":         {"SM3-KDF"},
	"github.com/emmansun/gmsm/cbcmac":      {"CBC-MAC"},
	"github.com/emmansun/gmsm/cfca":        {"SM2", "SM4"},
	"github.com/emmansun/gmsm/drbg":        {"DRBG"},
	"github.com/emmansun/gmsm/rand":        {"DRBG"},
	"github.com/emmansun/gmsm/mlkem":       {"ML-KEM"},
	"github.com/emmansun/gmsm/mldsa":       {"ML-DSA"},
	"github.com/emmansun/gmsm/slhdsa":      {"SLH-DSA"},
	"github.com/emmansun/gmsm/shake":       {"SHAKE"},
	"github.com/emmansun/gmsm/pkcs8":       {"PBKDF2"},
	"github.com/emmansun/gmsm/sm2":         {"SM2", "SM2-with-SM3"},
	"github.com/emmansun/gmsm/sm3":         {"SM3", "HMAC-SM3"},
	"github.com/emmansun/gmsm/sm4":         {"SM4"},
	"github.com/emmansun/gmsm/sm9":         {"SM9"},
	"github.com/emmansun/gmsm/zuc":         {"ZUC"},
	"github.com/tjfoc/gmsm/sm2":            {"SM2", "SM2-with-SM3"},
	"github.com/tjfoc/gmsm/sm3":            {"SM3"},
	"github.com/tjfoc/gmsm/sm4":            {"SM4"},
}

// packageProtocols maps packages to the protocols they implement.
var packageProtocols = map[string]string{
	"crypto/tls":                      "TLS",
	"golang.org/x/crypto/ssh":         "SSH",
	"github.com/emmansun/gmsm/tlcp":   "TLCP (GB/T 38636)",
	"gitee.com/Trisia/gotlcp/tlcp":    "TLCP (GB/T 38636)",
	"github.com/tjfoc/gmsm/gmtls":     "TLCP (GB/T 38636)",
	"crypto/x509":                     "X.509",
	"github.com/emmansun/gmsm/smx509": "X.509 (SM2)",
	"github.com/emmansun/gmsm/pkcs7":  "PKCS #7 / CMS (SM2)",
	"github.com/emmansun/gmsm/tls13":  "TLS 1.3",
	"golang.org/x/crypto/ssh/":        "SSH",
	"golang.org/x/crypto/acme":        "ACME",
	"golang.org/x/crypto/acme/":       "ACME",
	"golang.org/x/crypto/ocsp":        "OCSP",
	"golang.org/x/crypto/openpgp":     "OpenPGP",
	"golang.org/x/crypto/openpgp/":    "OpenPGP",
	"golang.org/x/crypto/otr":         "OTR",
}

// withoutAlgorithm are the crypto packages that implement no algorithm of
// their own, each with why: the packages they are used with name the
// algorithm. A test holds every crypto package of the standard library,
// golang.org/x/crypto and gmsm to this table or the two above.
var withoutAlgorithm = map[string]string{
	"crypto":                              "the hash and signer interfaces and their registry",
	"crypto/cipher":                       "modes of operation; the block cipher's package names the algorithm",
	"crypto/elliptic":                     "curve arithmetic used by ecdsa and ecdh, which name the algorithm",
	"crypto/fips140":                      "reports the FIPS 140-3 mode",
	"crypto/subtle":                       "constant-time helpers",
	"crypto/x509/pkix":                    "ASN.1 structures of X.509",
	"crypto/mlkem/mlkemtest":              "test helpers",
	"golang.org/x/crypto/cryptobyte":      "ASN.1 and TLS encoding",
	"golang.org/x/crypto/cryptobyte/asn1": "ASN.1 tags",
	"golang.org/x/crypto/x509roots/nss":   "a root certificate store",
	"github.com/emmansun/gmsm/cipher":     "modes of operation (CCM, XTS, ...); the block cipher's package names the algorithm",
	"github.com/emmansun/gmsm/padding":    "block padding",
	"github.com/emmansun/gmsm/pkcs":       "PKCS encodings; pkcs7 and pkcs8 name their algorithms",
}

// AlgorithmsOf returns the algorithms a package implements, if it is a
// crypto package hegui knows.
func AlgorithmsOf(importPath string) []string {
	if a, ok := packageAlgorithms[importPath]; ok {
		return a
	}
	for prefix, a := range packageAlgorithms {
		if strings.HasSuffix(prefix, "/") && strings.HasPrefix(importPath, prefix) {
			return a
		}
	}
	return nil
}

// ProtocolOf returns the protocol a package implements, or "".
func ProtocolOf(importPath string) string {
	if p, ok := packageProtocols[importPath]; ok {
		return p
	}
	for prefix, p := range packageProtocols {
		if strings.HasSuffix(prefix, "/") && strings.HasPrefix(importPath, prefix) {
			return p
		}
	}
	return ""
}
