// Package format is what a hegui delivery is on disk (docs/delivery-format.md):
// the names of its files, manifest.json and its signer entries, the
// provenance statement as the verifier reads it, the SBOM readers, the
// transparency-log evidence, and report.json with its typed statuses.
//
// The stages of `hegui deliver` write these files and `hegui verify` reads
// them; both import this package and nothing else of each other. It holds
// no pipeline: nothing here builds, scans or signs, so the verifier does
// not compile the scanners.
package format

import (
	"path"
	"strings"
)

// The files of a delivery, relative to its directory, with slashes.
const (
	ManifestFile         = "manifest.json"      // every other file, with sizes and digests
	ManifestEnvelopeFile = "manifest.dsse.json" // the signatures over manifest.json
	SHA256SumsFile       = "SHA256SUMS"         // "digest  path" lines, sha256sum -c
	SM3SumsFile          = "SM3SUMS"            // the same with SM3
	ProvenanceFile       = "provenance.intoto.jsonl"
	ReportJSONFile       = "report.json"
	ReportHTMLFile       = "report.html"
	VulnsJSONFile        = "vulns.json"
	VulnsSARIFFile       = "vulns.sarif"
	OpenVEXFile          = "vex.openvex.json"
	SASTJSONFile         = "sast.json"
	SASTSARIFFile        = "sast.sarif"
	TestsJSONFile        = "tests.json" // the module's own tests (hegui.dev/tests/v1)
	CBOMFile             = "cbom.cdx.json"
	// PIIJSONFile (pii.go) is the personal information in the module's files.
	// ComplianceFile is the compliance matrix as a signed in-toto
	// statement (one DSSE envelope on one line).
	ComplianceFile = "compliance.intoto.jsonl"

	BinDir          = "bin"          // bin/OS_ARCH/NAME, one directory per target
	SBOMDir         = "sbom"         // sbom/NAME_OS_ARCH.{spdx,cdx}.json
	SignersDir      = "signers"      // signers/KEYID.pub and .chain.pem
	CosignDir       = "cosign"       // Sigstore bundles and the keys they name
	TransparencyDir = "transparency" // the audit-log proof, outside the manifest
	DocumentsDir    = "documents"    // documents/NAME: the vendor's documents (hegui.yaml documents)
	AttestationsDir = "attestations" // attestations/FRAMEWORK_CONTROL.intoto.jsonl: signed vendor statements

	TransparencyEntryFile = TransparencyDir + "/entry.json"       // the event as logged
	TransparencyProofFile = TransparencyDir + "/entry.tlog-proof" // C2SP tlog-proof
	TransparencyKeysFile  = TransparencyDir + "/log.pub"          // the log's verifier keys

	SPDXSuffix      = ".spdx.json"
	CycloneDXSuffix = ".cdx.json"
)

// IsBinary reports whether a delivery path is a binary (under bin/).
func IsBinary(p string) bool { return strings.HasPrefix(p, BinDir+"/") }

// SBOMBase is the path of a binary's SBOMs without their suffix:
// sbom/NAME_SLUG for bin/SLUG/NAME.
func SBOMBase(binary, targetSlug string) string {
	return SBOMDir + "/" + path.Base(binary) + "_" + targetSlug
}

// IsSBOM reports whether a delivery path is an SBOM document, and whether
// it is SPDX (else CycloneDX).
func IsSBOM(p string) (ok, spdx bool) {
	if path.Dir(p) != SBOMDir {
		return false, false
	}
	switch {
	case strings.HasSuffix(p, SPDXSuffix):
		return true, true
	case strings.HasSuffix(p, CycloneDXSuffix):
		return true, false
	}
	return false, false
}

// SignerPublicKeyPath is where a signer's public key is kept.
func SignerPublicKeyPath(keyID string) string { return SignersDir + "/" + keyID[:16] + ".pub" }

// SignerChainPath is where a signer's certificate chain is kept.
func SignerChainPath(keyID string) string { return SignersDir + "/" + keyID[:16] + ".chain.pem" }

// OutsideManifest reports whether a delivery path is not listed in the
// manifest: the manifest and its signatures, and the transparency log's
// proof of them (written after the manifest; the log vouches for it).
func OutsideManifest(p string) bool {
	return p == ManifestFile || p == ManifestEnvelopeFile || strings.HasPrefix(p, TransparencyDir+"/")
}
