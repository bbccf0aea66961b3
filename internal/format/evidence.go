package format

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Documents and vendor statements a delivery carries as compliance
// evidence (hegui.yaml's documents and attestations).

// DocumentKinds are the kinds of document a delivery may carry.
var DocumentKinds = []string{"design", "user-guide", "operations", "security-policy", "coding-standard", "other"}

// Document is a document the delivery carries, tagged with the controls it
// answers ("FRAMEWORK:CONTROL").
type Document struct {
	// File is its path in the delivery (documents/NAME); Source its path
	// in the module.
	File     string   `json:"file"`
	Source   string   `json:"source"`
	Kind     string   `json:"kind"`
	Title    string   `json:"title,omitempty"`
	SHA256   string   `json:"sha256"`
	Controls []string `json:"controls"`
}

// VendorStatementType is the predicate type of a vendor statement.
const VendorStatementType = "https://hegui.dev/attestations/vendor-statement/v1"

// CompliancePredicateType is the predicate type of the compliance matrix
// attestation (ComplianceFile).
const CompliancePredicateType = "https://hegui.dev/attestations/compliance/v2"

// Attestation is a signed vendor statement: what the vendor states about
// a control that no artefact can show, bound to the control and to the
// delivery's binaries, signed with the delivery's keys.
type Attestation struct {
	Framework string `json:"framework"`
	Control   string `json:"control"`
	File      string `json:"file"`
	Statement string `json:"statement"`
}

// VendorStatement is the predicate of an attestation: the statement, the
// control it stands in for, and the delivery it belongs to.
type VendorStatement struct {
	Framework string `json:"framework"`
	Control   string `json:"control"`
	Statement string `json:"statement"`
	Module    string `json:"module"`
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
}

// ControlRef is "FRAMEWORK:CONTROL", the way hegui.yaml names a control.
func ControlRef(framework, control string) string { return framework + ":" + control }

// ParseControlRef splits "FRAMEWORK:CONTROL".
func ParseControlRef(ref string) (framework, control string, err error) {
	framework, control, ok := strings.Cut(ref, ":")
	framework, control = strings.TrimSpace(framework), strings.TrimSpace(control)
	if !ok || framework == "" || control == "" {
		return "", "", fmt.Errorf("control %q: want FRAMEWORK:CONTROL, like gbt22239-2019-l3:8.1.4.1 a", ref)
	}
	return framework, control, nil
}

// AttestationPath is the delivery path of the statement for a control.
func AttestationPath(framework, control string) string {
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, control)
	return AttestationsDir + "/" + framework + "_" + slug + ".intoto.jsonl"
}

// DigestOf is "sha256:HEX" of data, the way reports cite files.
func DigestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// LogCoordinate is where an event sits in a transparency audit log.
type LogCoordinate struct {
	URL   string `json:"url"`
	Index uint64 `json:"index"`
}
