package pki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// ParseSubject reads a distinguished name in the slash form OpenSSL's -subj
// takes: "/C=CN/O=Example Ltd/CN=Example Root". A "/" inside a value is
// written "\/". Recognised attributes: C, ST, L, O, OU, CN, serialNumber,
// street, postalCode.
func ParseSubject(s string) (pkix.Name, error) {
	var name pkix.Name
	if !strings.HasPrefix(s, "/") {
		return name, fmt.Errorf("subject %q must start with \"/\", like /C=CN/O=Example/CN=Example Root", s)
	}
	for _, part := range splitUnescaped(s[1:]) {
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		value = strings.TrimSpace(value)
		if !ok || value == "" {
			return name, fmt.Errorf("subject attribute %q is not KEY=VALUE", part)
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "c":
			name.Country = append(name.Country, value)
		case "st":
			name.Province = append(name.Province, value)
		case "l":
			name.Locality = append(name.Locality, value)
		case "o":
			name.Organization = append(name.Organization, value)
		case "ou":
			name.OrganizationalUnit = append(name.OrganizationalUnit, value)
		case "cn":
			if name.CommonName != "" {
				return name, fmt.Errorf("subject has more than one CN")
			}
			name.CommonName = value
		case "serialnumber":
			name.SerialNumber = value
		case "street":
			name.StreetAddress = append(name.StreetAddress, value)
		case "postalcode":
			name.PostalCode = append(name.PostalCode, value)
		default:
			return name, fmt.Errorf("unknown subject attribute %q (use C, ST, L, O, OU, CN, serialNumber, street, postalCode)", key)
		}
	}
	if len(name.ToRDNSequence()) == 0 {
		return name, fmt.Errorf("subject %q is empty", s)
	}
	return name, nil
}

// splitUnescaped splits on "/" except where it is escaped as "\/".
func splitUnescaped(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '/':
			cur.WriteByte('/')
			i++
		case s[i] == '/':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}

// attributeNames are the short names used when printing a name.
var attributeNames = map[string]string{
	"2.5.4.3":              "CN",
	"2.5.4.5":              "serialNumber",
	"2.5.4.6":              "C",
	"2.5.4.7":              "L",
	"2.5.4.8":              "ST",
	"2.5.4.9":              "street",
	"2.5.4.10":             "O",
	"2.5.4.11":             "OU",
	"2.5.4.17":             "postalCode",
	"1.2.840.113549.1.9.1": "emailAddress",
}

// FormatName prints a DER-encoded name (a certificate's RawSubject or
// RawIssuer) in the slash form ParseSubject reads, keeping the order of the
// attributes in the encoding.
func FormatName(raw []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) > 0 {
		return "(unparsable name)"
	}
	var b strings.Builder
	for _, rdn := range rdns {
		for _, atv := range rdn {
			key, ok := attributeNames[atv.Type.String()]
			if !ok {
				key = atv.Type.String()
			}
			fmt.Fprintf(&b, "/%s=%s", key, strings.ReplaceAll(fmt.Sprint(atv.Value), "/", `\/`))
		}
	}
	if b.Len() == 0 {
		return "(empty)"
	}
	return b.String()
}
