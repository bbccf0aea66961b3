// Package keys creates, encodes and decodes the signing keys hegui works with:
// SM2 (GB/T 32918, curve sm2p256v1), ECDSA P-256 and Ed25519.
//
// # Formats
//
// Private keys are PKCS#8 (RFC 5958) in PEM. An encrypted key is an
// EncryptedPrivateKeyInfo protected with PBES2 (RFC 8018): PBKDF2 derives the
// key-encryption key from a password and a random 16-byte salt, and a block
// cipher in CBC mode encrypts the PKCS#8 structure.
//
//	-----BEGIN ENCRYPTED PRIVATE KEY-----   PBES2(PBKDF2(prf, salt, iterations), cipher)
//	-----BEGIN PRIVATE KEY-----             unencrypted PKCS#8
//	-----BEGIN PUBLIC KEY-----              SubjectPublicKeyInfo (RFC 5280)
//
// Two protection profiles exist (see [Protection]):
//
//   - The default for SM2 keys is PBKDF2 with HMAC-SM3 (OID 1.2.156.10197.1.401.2)
//     and SM4-CBC (OID 1.2.156.10197.1.104.2), as GmSSL writes them. For ECDSA and
//     Ed25519 keys it is PBKDF2 with HMAC-SHA256 and AES-256-CBC.
//   - The OpenSSL profile replaces HMAC-SM3 by HMAC-SHA256, because OpenSSL 3.0
//     cannot derive keys with HMAC-SM3 ("unsupported prf"); it still uses SM4-CBC
//     for SM2 keys.
//
// Reading accepts both profiles, unencrypted PKCS#8, SEC 1 "EC PRIVATE KEY"
// blocks as written by `openssl ecparam -genkey`, and DER input.
//
// SM2 public keys are encoded as OpenSSL and GmSSL encode them: algorithm
// id-ecPublicKey (1.2.840.10045.2.1) with the named curve sm2p256v1
// (1.2.156.10197.1.301).
//
// A key's ID (see [ID]) is the lowercase hex SHA-256 of its DER
// SubjectPublicKeyInfo, so it never changes and anyone holding the public key
// can compute it.
//
// This package does not sign or verify; package sign does.
package keys
