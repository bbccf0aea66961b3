// Package mask finds personal information in text and masks it.
//
// Detectors validate what they find, not only its shape: a resident ID
// number (居民身份证号码) must carry a valid GB 11643 check character, a real
// birth date and a province code; a unified social credit code (统一社会信用
// 代码) its GB 32100 check; a bank card number Luhn's check and a known
// issuer prefix; an IBAN its ISO 7064 mod 97 check. Kinds with no check
// (mobile numbers, passports, travel permits, licence plates) are matched
// by their allocated prefixes and scored up or down by the words around
// them (身份证, 手机, passport, 订单号...).
//
// Masking works on characters (runes), never bytes, so Chinese text stays
// valid UTF-8. Operators mask, redact, replace, pseudonymise with a keyed
// HMAC-SM3 (never an unsalted hash: an ID or phone number space is small
// enough to enumerate), tokenize through a Vault, or encrypt with SM4-GCM.
//
// The package imports the standard library and gmsm only, so that services
// can link it without pulling in servers or SDKs.
package mask
