package tlscheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/inputfile"
)

// Profile is what an endpoint must meet.
type Profile struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title"`
	// MinVersion is the oldest version allowed: "1.2" or "1.3".
	MinVersion string `yaml:"min-version"`
	// ForwardSecrecy requires every accepted TLS 1.0-1.2 suite to use an
	// ephemeral key exchange (ECDHE); AEAD requires GCM or ChaCha20-Poly1305
	// (without it, a CBC suite is a warning).
	ForwardSecrecy bool `yaml:"forward-secrecy"`
	AEAD           bool `yaml:"aead"`
	// Forbid are words that no accepted suite's name may contain (RC4,
	// 3DES, CBC, SHA1...).
	Forbid []string `yaml:"forbid"`
	// MinRSABits and MinECBits bound the chain's keys.
	MinRSABits int `yaml:"min-rsa-bits"`
	MinECBits  int `yaml:"min-ec-bits"`
	// ExpiryWarningDays warns about a certificate that expires sooner.
	ExpiryWarningDays int `yaml:"expiry-warning-days"`
	// Trusted requires the chain to verify for the server name.
	Trusted bool `yaml:"trusted"`
	// OCSPStapling warns when no OCSP response is stapled.
	OCSPStapling bool `yaml:"ocsp-stapling"`
}

// Profiles are the built-in profiles.
var Profiles = map[string]Profile{
	// GB/T 22239-2019 level 3, 8.1.2.2 a and b (通信传输: integrity and
	// confidentiality of communication by cryptography), as commonly
	// assessed: TLS 1.2 or later, forward secrecy, no weak suites, keys of
	// at least 2048 (RSA) or 256 (EC) bits, a chain that verifies.
	"gbt22239-l3": {
		Name: "gbt22239-l3", Title: "GB/T 22239-2019 level 3, 8.1.2.2 (等保2.0 三级 通信传输)",
		MinVersion: "1.2", ForwardSecrecy: true,
		Forbid:     []string{"RC4", "3DES", "NULL", "EXPORT"},
		MinRSABits: 2048, MinECBits: 256, ExpiryWarningDays: 30, Trusted: true,
	},
	// TLS 1.3 only (Mozilla's "modern").
	"modern": {
		Name: "modern", Title: "TLS 1.3 only",
		MinVersion: "1.3", ForwardSecrecy: true, AEAD: true,
		MinRSABits: 2048, MinECBits: 256, ExpiryWarningDays: 30, Trusted: true, OCSPStapling: true,
	},
}

// LoadProfile is a built-in profile by name, or a profile file (YAML with
// Profile's keys).
func LoadProfile(nameOrFile string) (Profile, error) {
	if p, ok := Profiles[nameOrFile]; ok {
		return p, nil
	}
	if !strings.ContainsAny(nameOrFile, "/.") {
		var names []string
		for n := range Profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		return Profile{}, fmt.Errorf("profile %q: give one of %s, or a profile file (.yaml)", nameOrFile, strings.Join(names, ", "))
	}
	data, err := inputfile.Read(context.Background(), nameOrFile, inputfile.DocumentLimit)
	if err != nil {
		return Profile{}, err
	}
	var p Profile
	if err := config.DecodeYAML(data, &p); err != nil {
		return Profile{}, fmt.Errorf("%s: %v", nameOrFile, err)
	}
	if p.Name == "" {
		p.Name = strings.TrimSuffix(filepath.Base(nameOrFile), filepath.Ext(nameOrFile))
	}
	if _, err := p.minVersion(); err != nil {
		return Profile{}, fmt.Errorf("%s: %v", nameOrFile, err)
	}
	return p, nil
}

func (p Profile) minVersion() (uint16, error) {
	switch p.MinVersion {
	case "", "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	case "1.0":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	}
	return 0, fmt.Errorf("min-version %q: give 1.0, 1.1, 1.2 or 1.3", p.MinVersion)
}

// Finding levels (SARIF's).
const (
	Error   = "error"
	Warning = "warning"
	Note    = "note"
)

// Finding is one thing a profile says of a result.
type Finding struct {
	Rule    string `json:"rule"`
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Rules are the findings' rules, with what they mean.
var Rules = map[string]string{
	"unreachable":      "No TLS handshake with the endpoint worked",
	"old-version":      "A protocol version older than the profile allows is accepted",
	"no-min-version":   "No version the profile allows is accepted",
	"weak-suite":       "A cipher suite the profile forbids is accepted",
	"no-fs":            "A cipher suite without forward secrecy is accepted",
	"not-aead":         "A cipher suite without authenticated encryption (AEAD) is accepted",
	"small-key":        "A certificate's key is smaller than the profile allows",
	"expired":          "A certificate is expired or not yet valid",
	"expiring":         "A certificate expires soon",
	"untrusted":        "The chain does not verify for the server name",
	"sha1-signature":   "A certificate is signed with SHA-1 or MD5",
	"no-ocsp-stapling": "No OCSP response is stapled",
	"client-cert":      "Whether the endpoint asks for client certificates",
	"unprobed":         "What this probe cannot see",
}

// Judge holds a result to a profile.
func Judge(r *Result, p Profile) []Finding {
	var f []Finding
	add := func(rule, level, format string, args ...any) {
		f = append(f, Finding{Rule: rule, Level: level, Message: fmt.Sprintf(format, args...)})
	}
	if !r.Reachable {
		hint := ""
		// A server that speaks TLS but refused every handshake may offer
		// only what Go cannot (SM2); one that does not speak TLS at all
		// does not need the hint.
		if strings.Contains(r.Error, "remote error") || strings.HasPrefix(r.Error, "refused") {
			hint = "; if the server offers only SM2 (TLCP, or sm2sig_sm3 in TLS 1.3), this probe cannot speak it"
		}
		add("unreachable", Error, "no handshake worked (%s)%s", r.Error, hint)
		return f
	}
	min, _ := p.minVersion()
	allowed := false
	for _, v := range r.Versions {
		if !v.Accepted {
			continue
		}
		if v.id < min {
			add("old-version", Error, "%s is accepted; %s allows TLS %s or later", v.Name, p.Name, p.MinVersion)
		} else {
			allowed = true
		}
		// One finding per version and rule, naming every suite.
		var forbidden, noFS, notAEAD []string
		for _, s := range v.Suites {
			for _, w := range p.Forbid {
				if strings.Contains(s, "_"+w+"_") || strings.HasSuffix(s, "_"+w) {
					forbidden = append(forbidden, s+" ("+w+")")
				}
			}
			if v.id == tls.VersionTLS13 {
				continue
			}
			if p.ForwardSecrecy && !strings.HasPrefix(s, "TLS_ECDHE_") {
				noFS = append(noFS, s)
			}
			if !strings.Contains(s, "_GCM_") && !strings.Contains(s, "CHACHA20_POLY1305") {
				notAEAD = append(notAEAD, s)
			}
		}
		if len(forbidden) > 0 {
			add("weak-suite", Error, "%s accepts %s, which %s forbids", v.Name, strings.Join(forbidden, ", "), p.Name)
		}
		if len(noFS) > 0 {
			add("no-fs", Error, "%s accepts %s: no forward secrecy (RSA key exchange)", v.Name, strings.Join(noFS, ", "))
		}
		if len(notAEAD) > 0 {
			level := Warning
			if p.AEAD {
				level = Error
			}
			add("not-aead", level, "%s accepts %s: not AEAD (CBC or a stream cipher)", v.Name, strings.Join(notAEAD, ", "))
		}
	}
	if !allowed {
		add("no-min-version", Error, "no version allowed by %s (TLS %s or later) is accepted", p.Name, p.MinVersion)
	}
	for i, c := range r.Chain {
		where := fmt.Sprintf("certificate %d (%s)", i, c.Subject)
		switch {
		case c.KeyAlgorithm == "RSA" && c.KeyBits < p.MinRSABits:
			add("small-key", Error, "%s: RSA %d bits, %s wants at least %d", where, c.KeyBits, p.Name, p.MinRSABits)
		case c.KeyAlgorithm == "ECDSA" && c.KeyBits < p.MinECBits:
			add("small-key", Error, "%s: EC %d bits, %s wants at least %d", where, c.KeyBits, p.Name, p.MinECBits)
		}
		switch {
		case r.Time.After(c.NotAfter):
			add("expired", Error, "%s expired on %s", where, c.NotAfter.Format("2006-01-02"))
		case r.Time.Before(c.NotBefore):
			add("expired", Error, "%s is valid only from %s", where, c.NotBefore.Format("2006-01-02"))
		case p.ExpiryWarningDays > 0 && c.DaysLeft < p.ExpiryWarningDays:
			add("expiring", Warning, "%s expires in %d days (%s)", where, c.DaysLeft, c.NotAfter.Format("2006-01-02"))
		}
		if sa := c.SignatureAlgorithm; i < len(r.Chain)-1 || !c.IsCA {
			if strings.Contains(sa, "SHA1") || strings.Contains(sa, "MD5") {
				add("sha1-signature", Error, "%s is signed with %s", where, sa)
			}
		}
	}
	if p.Trusted && !r.ChainVerified {
		add("untrusted", Error, "the chain does not verify for %s: %s", r.ServerName, r.ChainError)
	}
	if p.OCSPStapling && !r.OCSPStapled {
		add("no-ocsp-stapling", Warning, "no OCSP response is stapled")
	}
	add("client-cert", Note, "client certificate: %s", r.ClientCertificate)
	add("unprobed", Note, "not probed: %s", strings.Join(r.Unprobed, "; "))
	return f
}

// Failed reports whether any finding is an error.
func Failed(f []Finding) bool {
	for _, x := range f {
		if x.Level == Error {
			return true
		}
	}
	return false
}
