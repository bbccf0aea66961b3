// Package cbom is the stage that takes the delivery's cryptographic
// inventory (package cryptoinv) — what protects the delivery, with which
// keys and certificates, and which algorithms the binaries carry — and
// writes it as a CycloneDX 1.6 cryptography BOM, cbom.cdx.json, for the
// commercial cryptography assessment (密评).
package cbom

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/keys"
)

// Stage fills d.Crypto.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "cbom" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	inv := Inventory(d)
	d.Crypto = inv
	data, err := CycloneDX(inv, d)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.CBOMFile), data, 0o644); err != nil {
		return err
	}
	classes := inv.Classes()
	d.Log.Stepf("%d algorithms (%d national, %d international, %d legacy), %d keys, %d certificates; %s",
		len(inv.Algorithms), len(classes[cryptoinv.National]), len(classes[cryptoinv.International]),
		len(classes[cryptoinv.Legacy]), len(inv.Keys), len(inv.Certificates), format.CBOMFile)
	return nil
}

// SignatureAlgorithm names the signature a key of alg makes over the
// delivery's documents.
func SignatureAlgorithm(alg keys.Algorithm) string {
	switch alg {
	case keys.SM2:
		return "SM2-with-SM3"
	case keys.ECDSAP256:
		return "ECDSA-P256-SHA256"
	}
	return "Ed25519"
}

// Inventory takes the delivery's cryptographic inventory.
func Inventory(d *delivery.Delivery) *cryptoinv.Inventory {
	inv := &cryptoinv.Inventory{}
	for _, s := range d.Signers {
		covers := []string{format.ManifestFile}
		purpose := "co-signature of the manifest"
		if s.Role == "primary" {
			covers = append(covers, d.Provenance)
			purpose = "signature of the manifest and the provenance"
		}
		if s.Algorithm == keys.ECDSAP256 && len(d.Bundles) > 0 {
			covers = append(covers, "cosign/ (Sigstore bundles)")
		}
		inv.Protection = append(inv.Protection, cryptoinv.Use{
			Algorithm: SignatureAlgorithm(s.Algorithm), Purpose: purpose, Covers: covers, KeyID: s.KeyID,
		})
		inv.Keys = append(inv.Keys, cryptoinv.Key{
			ID: s.KeyID, Algorithm: string(s.Algorithm), Role: s.Role, Store: store(s.Label), Development: s.Development,
		})
		for _, c := range s.Chain {
			inv.Certificates = append(inv.Certificates, cryptoinv.CertificateOf(c, s.KeyID))
		}
	}
	inv.Protection = append(inv.Protection,
		cryptoinv.Use{Algorithm: "SM3", Purpose: "digest of every file", Covers: []string{format.ManifestFile, format.SM3SumsFile, "SBOMs (binaries)"}},
		cryptoinv.Use{Algorithm: "SHA-256", Purpose: "digest of every file", Covers: []string{format.ManifestFile, format.SHA256SumsFile, "provenance subjects", "SBOMs (binaries)"}},
	)
	libs := map[string]bool{}
	for _, b := range d.Binaries {
		bc, ls := cryptoinv.Binary(b.Path, b.Packages, moduleOf(b.Modules))
		inv.Binaries = append(inv.Binaries, bc)
		for _, l := range ls {
			libs[l] = true
		}
	}
	for l := range libs {
		inv.Libraries = append(inv.Libraries, l)
	}
	inv.Finish()
	return inv
}

// store says where a signer's key is kept, from its label.
func store(label string) string {
	switch {
	case strings.HasPrefix(label, "pkcs11:"):
		return "PKCS#11 token"
	case strings.Contains(label, "keyring:"):
		return "keyring"
	}
	return "file"
}

// moduleOf maps a package to "module@version" by the longest module path
// that prefixes it; standard-library packages map to "".
func moduleOf(mods []gotool.Module) func(string) string {
	return func(pkg string) string {
		best := ""
		for _, m := range mods {
			if (pkg == m.Path || strings.HasPrefix(pkg, m.Path+"/")) && len(m.Path) > len(best) {
				best = m.Path
				if m.Version != "" {
					best += "@" + m.Version
				}
			}
		}
		return best
	}
}

// CycloneDX writes the inventory as a CycloneDX 1.6 BOM of cryptographic
// assets: algorithms, certificates, the signers' public keys and
// protocols, with each binary depending on the assets it carries.
func CycloneDX(inv *cryptoinv.Inventory, d *delivery.Delivery) ([]byte, error) {
	bom := cdx.NewBOM()
	bom.Version = 1
	app := cdx.Component{
		BOMRef: "delivery", Type: cdx.ComponentTypeApplication, Name: d.Name, Version: d.Version.Version,
		PackageURL: "pkg:golang/" + d.Module.Path + "@" + d.Version.Version,
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: d.Version.CommitTime.UTC().Format(time.RFC3339),
		Component: &app,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{
			{Type: cdx.ComponentTypeApplication, Name: "hegui", Version: d.HeguiVersion},
		}},
	}
	var comps []cdx.Component
	algRef := func(name string) string { return "crypto/algorithm/" + name }
	for _, a := range inv.Algorithms {
		props := &cdx.CryptoAlgorithmProperties{Primitive: cdx.CryptoPrimitive(a.Primitive), ExecutionEnvironment: cdx.CryptoExecutionEnvironmentSoftwarePlainRAM}
		comps = append(comps, cdx.Component{
			BOMRef: algRef(a.Name), Type: cdx.ComponentTypeCryptographicAsset, Name: a.Name,
			CryptoProperties: &cdx.CryptoProperties{AssetType: cdx.CryptoAssetTypeAlgorithm, AlgorithmProperties: props, OID: a.OID},
			Properties:       &[]cdx.Property{{Name: "hegui:class", Value: a.Class}, {Name: "hegui:standard", Value: orNone(a.Standard)}},
		})
	}
	var provides []string
	for _, u := range inv.Protection {
		provides = append(provides, algRef(u.Algorithm))
	}
	for _, k := range inv.Keys {
		ref := "crypto/key/" + k.ID
		state := cdx.CryptoKeyStateActive
		comps = append(comps, cdx.Component{
			BOMRef: ref, Type: cdx.ComponentTypeCryptographicAsset, Name: "signing key " + keys.ShortID(k.ID),
			CryptoProperties: &cdx.CryptoProperties{AssetType: cdx.CryptoAssetTypeRelatedCryptoMaterial,
				RelatedCryptoMaterialProperties: &cdx.RelatedCryptoMaterialProperties{
					Type: cdx.RelatedCryptoMaterialTypePublicKey, ID: k.ID, State: state, Format: "PEM",
					AlgorithmRef: cdx.BOMReference(algRef(SignatureAlgorithm(keys.Algorithm(k.Algorithm)))),
				}},
			Properties: &[]cdx.Property{{Name: "hegui:role", Value: k.Role}, {Name: "hegui:store", Value: k.Store},
				{Name: "hegui:development", Value: fmt.Sprint(k.Development)}},
		})
		provides = append(provides, ref)
	}
	for _, c := range inv.Certificates {
		ref := "crypto/certificate/" + c.SHA256
		var sigAlg cdx.BOMReference
		if _, known := cryptoinv.Lookup(c.SignatureAlgorithm); known {
			sigAlg = cdx.BOMReference(algRef(c.SignatureAlgorithm))
		}
		comps = append(comps, cdx.Component{
			BOMRef: ref, Type: cdx.ComponentTypeCryptographicAsset, Name: c.Subject,
			CryptoProperties: &cdx.CryptoProperties{AssetType: cdx.CryptoAssetTypeCertificate,
				CertificateProperties: &cdx.CertificateProperties{
					SubjectName: c.Subject, IssuerName: c.Issuer, SerialNumber: c.Serial,
					NotValidBefore: c.NotBefore.Format(time.RFC3339), NotValidAfter: c.NotAfter.Format(time.RFC3339),
					SignatureAlgorithmRef: sigAlg,
					SubjectPublicKeyRef:   cdx.BOMReference("crypto/key/" + c.SignerKeyID),
					CertificateFormat:     "X.509", CertificateExtension: "pem",
				}},
			Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: c.SHA256}},
		})
		provides = append(provides, ref)
	}
	protocols := map[string]bool{}
	deps := []cdx.Dependency{}
	for _, b := range inv.Binaries {
		ref := "binary/" + b.Path
		comps = append(comps, cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeFile, Name: b.Path})
		var p []string
		for _, a := range b.Algorithms {
			p = append(p, algRef(a))
		}
		for _, pr := range b.Protocols {
			protocols[pr] = true
			p = append(p, "crypto/protocol/"+pr)
		}
		dep := cdx.Dependency{Ref: ref}
		if len(p) > 0 { // a binary with no cryptography provides nothing
			dep.Provides = &p
		}
		deps = append(deps, dep)
	}
	var names []string
	for pr := range protocols {
		names = append(names, pr)
	}
	sort.Strings(names)
	for _, pr := range names {
		typ := cdx.CryptoProtocolTypeOther
		switch {
		case pr == "TLS":
			typ = cdx.CryptoProtocolTypeTLS
		case pr == "SSH":
			typ = cdx.CryptoProtocolTypeSSH
		}
		comps = append(comps, cdx.Component{
			BOMRef: "crypto/protocol/" + pr, Type: cdx.ComponentTypeCryptographicAsset, Name: pr,
			CryptoProperties: &cdx.CryptoProperties{AssetType: cdx.CryptoAssetTypeProtocol,
				ProtocolProperties: &cdx.CryptoProtocolProperties{Type: typ}},
		})
	}
	root := cdx.Dependency{Ref: "delivery"}
	if len(provides) > 0 {
		root.Provides = &provides
	}
	deps = append([]cdx.Dependency{root}, deps...)
	bom.Components = &comps
	bom.Dependencies = &deps
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	// The BOM is made as 1.6 and encoded as it is: cyclonedx-go v0.12.0's
	// conversion to an older version (EncodeVersion) does not know the
	// cryptographic-asset component type and would turn every asset into
	// an "application" (convert.go, supportsComponentType).
	bom.SpecVersion, bom.JSONSchema = cdx.SpecVersion1_6, cbomSchema
	if err := enc.Encode(bom); err != nil {
		return nil, fmt.Errorf("write the CBOM: %w", err)
	}
	return buf.Bytes(), nil
}

// cbomSchema is CycloneDX 1.6's JSON schema URI, as the library writes it.
const cbomSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
