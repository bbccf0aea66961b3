// Package certcmd is `hegui cert`: SM2 CAs, certificate requests, issuing,
// inspecting and verifying certificates (package pki does the work).
package certcmd

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
)

// NewCertCmd makes `hegui cert` and its subcommands.
func NewCertCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Make, inspect and verify X.509 certificates (SM2, ECDSA, Ed25519)",
		Long: `Certificates for SM2 keys are signed with SM2-with-SM3 (1.2.156.10197.1.501)
under the default ID 1234567812345678. OpenSSL 3.0 checks them with
"openssl verify -vfyopt distid:1234567812345678".

Profiles: root-ca, intermediate-ca, code-signing (extKeyUsage codeSigning),
tls-server and tls-client.`,
		Example: `  hegui key generate --out root.key && hegui key generate --out signer.key
  hegui cert ca --key root.key --subject "/C=CN/O=Example/CN=Example Root" --out root.pem
  hegui cert csr --key signer.key --subject "/C=CN/O=Example/CN=Release Signing" --out signer.csr
  hegui cert issue --ca root.pem --ca-key root.key --csr signer.csr --profile code-signing --out signer.pem
  hegui cert verify signer.pem --roots root.pem --purpose code-signing`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	for _, add := range []func(*cmdutil.Env) *cobra.Command{newCertCACmd, newCertCSRCmd, newCertIssueCmd, newCertInspectCmd, newCertVerifyCmd} {
		cmd.AddCommand(add(env))
	}
	return cmd
}

// nameFlags are the subject and alternative names of a certificate or request.
type nameFlags struct {
	subject string
	dns     []string
	ips     []string
	emails  []string
	uris    []string
}

func addNameFlags(cmd *cobra.Command, n *nameFlags, subjectRequired bool) {
	usage := "subject as /C=CN/O=Org/CN=Name"
	if !subjectRequired {
		usage += " (default: the request's)"
	}
	cmd.Flags().StringVar(&n.subject, "subject", "", usage)
	cmd.Flags().StringSliceVar(&n.dns, "dns", nil, "DNS name (repeatable)")
	cmd.Flags().StringSliceVar(&n.ips, "ip", nil, "IP address (repeatable)")
	cmd.Flags().StringSliceVar(&n.emails, "email", nil, "e-mail address (repeatable)")
	cmd.Flags().StringSliceVar(&n.uris, "uri", nil, "URI (repeatable)")
}

func (n *nameFlags) template() (pki.Template, error) {
	var t pki.Template
	if n.subject != "" {
		name, err := pki.ParseSubject(n.subject)
		if err != nil {
			return t, cmdutil.UsageError{Err: err}
		}
		t.Subject = name
	}
	t.DNSNames, t.EmailAddresses = n.dns, n.emails
	for _, s := range n.ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return t, cmdutil.Usagef("--ip %q is not an IP address", s)
		}
		t.IPAddresses = append(t.IPAddresses, ip)
	}
	for _, s := range n.uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return t, cmdutil.Usagef("--uri %q is not an absolute URI", s)
		}
		t.URIs = append(t.URIs, u)
	}
	return t, nil
}

// validityFlags set how long a certificate lasts and how deep a CA may go.
type validityFlags struct {
	days    int
	pathLen int
}

func addValidityFlags(cmd *cobra.Command, v *validityFlags, withPathLen bool) {
	cmd.Flags().IntVar(&v.days, "days", 0, "validity in days (default: 3650 for a root, 1825 for an intermediate, 397 for TLS servers, 365 otherwise)")
	if withPathLen {
		cmd.Flags().IntVar(&v.pathLen, "path-len", -1, "CA path length: the number of intermediate CAs allowed below (default: none for a root, 0 for an intermediate)")
	}
}

func (v *validityFlags) apply(cmd *cobra.Command, t *pki.Template) error {
	if v.days < 0 {
		return cmdutil.Usagef("--days must be positive")
	}
	t.Validity = time.Duration(v.days) * 24 * time.Hour
	if cmd.Flags().Changed("path-len") {
		if v.pathLen < 0 {
			return cmdutil.Usagef("--path-len must be 0 or more")
		}
		t.PathLen = &v.pathLen
	}
	return nil
}

func newCertCACmd(env *cmdutil.Env) *cobra.Command {
	var out string
	var force bool
	var names nameFlags
	var validity validityFlags
	var key *cmdutil.KeyRef
	cmd := &cobra.Command{
		Use:   "ca --key KEY --subject DN --out FILE",
		Short: "Create a self-signed root CA certificate",
		Example: `  hegui cert ca --key keyring:root --subject "/C=CN/O=Example/CN=Example SM2 Root" --path-len 1 --out root.pem
  openssl x509 -in root.pem -noout -text`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := key.Required("key"); err != nil {
				return err
			}
			if names.subject == "" || out == "" {
				return cmdutil.Usagef("--subject and --out are required")
			}
			t, err := names.template()
			if err != nil {
				return err
			}
			if err := validity.apply(cmd, &t); err != nil {
				return err
			}
			k, err := key.OpenSigner(cmd.Context())
			if err != nil {
				return err
			}
			defer k.Close()
			cert, err := pki.CreateRoot(k, t)
			if err != nil {
				return err
			}
			if err := cmdutil.WriteOutput(out, pki.EncodeCertificates(cert), 0o644, force); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Created root CA %s: %s (%s, valid until %s)\n", pki.FormatName(cert.RawSubject), out, k.Alg, cert.NotAfter.Format(time.DateOnly))
			return nil
		},
	}
	key = cmdutil.AddKeyFlag(cmd, env, "key", "the CA's key")
	addNameFlags(cmd, &names, true)
	addValidityFlags(cmd, &validity, true)
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the certificate to `FILE` (PEM)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	return cmd
}

func newCertCSRCmd(env *cmdutil.Env) *cobra.Command {
	var out string
	var force bool
	var names nameFlags
	var key *cmdutil.KeyRef
	cmd := &cobra.Command{
		Use:   "csr --key KEY --subject DN --out FILE",
		Short: "Create a certificate request (PKCS#10)",
		Example: `  hegui cert csr --key signer.key --subject "/C=CN/O=Example/CN=Release Signing" --out signer.csr
  hegui cert csr --key server.key --subject /CN=api.example.cn --dns api.example.cn --out server.csr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := key.Required("key"); err != nil {
				return err
			}
			if out == "" {
				return cmdutil.Usagef("--out is required")
			}
			t, err := names.template()
			if err != nil {
				return err
			}
			k, err := key.OpenSigner(cmd.Context())
			if err != nil {
				return err
			}
			defer k.Close()
			der, err := pki.CreateCSR(k, t)
			if err != nil {
				return err
			}
			if err := cmdutil.WriteOutput(out, pki.EncodeCSR(der), 0o644, force); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Created certificate request %s (%s key %s)\n", out, k.Alg, keys.ShortID(k.ID))
			return nil
		},
	}
	key = cmdutil.AddKeyFlag(cmd, env, "key", "the requester's key")
	addNameFlags(cmd, &names, true)
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the request to `FILE` (PEM)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	return cmd
}

func newCertIssueCmd(env *cmdutil.Env) *cobra.Command {
	var caPath, csrPath, profileName, out string
	var force bool
	var names nameFlags
	var validity validityFlags
	var caKey *cmdutil.KeyRef
	cmd := &cobra.Command{
		Use:   "issue --ca CERT --ca-key KEY --csr FILE --profile PROFILE --out FILE",
		Short: "Issue a certificate from a request",
		Long: `Issue checks the request's signature and issues a certificate of the given
profile: intermediate-ca, code-signing, tls-server or tls-client. The subject
and alternative names come from the request unless given here. Requests made
by OpenSSL 3.0 for SM2 keys need "-sigopt distid:1234567812345678".`,
		Example: `  hegui cert issue --ca root.pem --ca-key keyring:root --csr signer.csr --profile code-signing --out signer.pem
  hegui cert issue --ca root.pem --ca-key root.key --csr int.csr --profile intermediate-ca --path-len 0 --out int.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if caPath == "" || caKey.Ref == "" || csrPath == "" || profileName == "" || out == "" {
				return cmdutil.Usagef("--ca, --ca-key, --csr, --profile and --out are required")
			}
			profile, err := pki.ParseProfile(profileName)
			if err != nil || profile == pki.ProfileRootCA {
				return cmdutil.Usagef("unknown profile %q (want intermediate-ca, code-signing, tls-server or tls-client)", profileName)
			}
			t, err := names.template()
			if err != nil {
				return err
			}
			t.Profile = profile
			if err := validity.apply(cmd, &t); err != nil {
				return err
			}
			if profile == pki.ProfileIntermediateCA && t.PathLen == nil {
				zero := 0
				t.PathLen = &zero
			}
			cas, err := cmdutil.ReadCertificates(caPath)
			if err != nil {
				return err
			}
			data, err := inputfile.Read(cmd.Context(), csrPath, inputfile.KeyLimit)
			if err != nil {
				return fmt.Errorf("read request: %w", err)
			}
			csr, err := pki.ParseCSR(data)
			if err != nil {
				return fmt.Errorf("request %q: %w", csrPath, err)
			}
			k, err := caKey.OpenSigner(cmd.Context())
			if err != nil {
				return err
			}
			defer k.Close()
			cert, err := pki.Issue(cas[0], k, csr, t)
			if err != nil {
				return err
			}
			if err := cmdutil.WriteOutput(out, pki.EncodeCertificates(cert), 0o644, force); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Issued %s certificate %s: %s (valid until %s)\n", profile, pki.FormatName(cert.RawSubject), out, cert.NotAfter.Format(time.DateOnly))
			return nil
		},
	}
	cmd.Flags().StringVar(&caPath, "ca", "", "the issuing CA certificate `FILE`")
	caKey = cmdutil.AddKeyFlag(cmd, env, "ca-key", "the issuing CA's key")
	cmd.Flags().StringVar(&csrPath, "csr", "", "the certificate request `FILE`")
	cmd.Flags().StringVar(&profileName, "profile", "", "intermediate-ca, code-signing, tls-server or tls-client")
	addNameFlags(cmd, &names, false)
	addValidityFlags(cmd, &validity, true)
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the certificate to `FILE` (PEM)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing file")
	return cmd
}

func newCertInspectCmd(env *cmdutil.Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "inspect FILE",
		Short:   "Show certificates or a certificate request in readable form",
		Example: "  hegui cert inspect root.pem\n  hegui cert inspect signer.csr --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := inputfile.Read(cmd.Context(), args[0], inputfile.KeyLimit)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			var descs []pki.Description
			if strings.Contains(string(data), "CERTIFICATE REQUEST-----") {
				csr, err := pki.ParseCSR(data)
				if err != nil {
					return fmt.Errorf("%q: %w", args[0], err)
				}
				descs = append(descs, pki.DescribeCSR(csr))
			} else {
				certs, err := pki.ParseCertificates(data)
				if err != nil {
					if csr, cerr := pki.ParseCSR(data); cerr == nil {
						descs = append(descs, pki.DescribeCSR(csr))
					} else {
						return fmt.Errorf("%q: %w", args[0], err)
					}
				}
				for _, c := range certs {
					descs = append(descs, pki.DescribeCertificate(c))
				}
			}
			if asJSON {
				return env.PrintJSON(descs)
			}
			for i, d := range descs {
				if i > 0 {
					fmt.Fprintln(env.Stdout)
				}
				writeDescription(env.Stdout, d)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// writeDescription prints a certificate or request, one field a line.
func writeDescription(out io.Writer, d pki.Description) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s:\t%s\n", k, v)
		}
	}
	list := func(k string, vs []string) { line(k, strings.Join(vs, ", ")) }
	fmt.Fprintf(w, "%s\n", strings.ToUpper(d.Kind[:1])+d.Kind[1:])
	line("  Version", fmt.Sprint(d.Version))
	line("  Serial", d.Serial)
	line("  Subject", d.Subject)
	line("  Issuer", d.Issuer)
	if d.NotBefore != nil {
		line("  Valid from", d.NotBefore.UTC().Format(time.RFC3339))
		line("  Valid until", d.NotAfter.UTC().Format(time.RFC3339))
	}
	if d.SelfSigned {
		line("  Self-signed", "yes")
	}
	line("  Public key", d.PublicKey.AlgorithmOID)
	line("  Curve", d.PublicKey.Parameters)
	line("  Key type", d.PublicKey.Algorithm)
	line("  Key ID", d.PublicKey.KeyID)
	line("  Signature", d.SignatureAlgorithm)
	if d.CA != nil {
		ca := fmt.Sprintf("CA:%v", *d.CA)
		if d.PathLen != nil {
			ca += fmt.Sprintf(", path length %d", *d.PathLen)
		}
		line("  Basic constraints", ca)
	}
	list("  Key usage", d.KeyUsage)
	list("  Extended key usage", d.ExtKeyUsage)
	list("  DNS names", d.DNSNames)
	list("  IP addresses", d.IPAddresses)
	list("  E-mail", d.EmailAddresses)
	list("  URIs", d.URIs)
	line("  Subject key ID", d.SubjectKeyID)
	line("  Authority key ID", d.AuthorityKeyID)
	for _, e := range d.Extensions {
		crit := ""
		if e.Critical {
			crit = " (critical)"
		}
		line("  Extension", e.OID+crit)
	}
	if d.Fingerprints != nil {
		line("  SHA-256", d.Fingerprints.SHA256)
		line("  SM3", d.Fingerprints.SM3)
	}
	w.Flush()
}

func newCertVerifyCmd(env *cmdutil.Env) *cobra.Command {
	var rootsPath, intermediatesPath, purposeName, at, dnsName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify CERT --roots ROOTS",
		Short: "Verify a certificate chain",
		Long: `Verify builds a chain from CERT (which may carry intermediates after it) and
--intermediates to one of --roots, and checks signatures, validity at --at,
basic constraints, path lengths, key usage and the purpose's extended key
usage. Exit status: 0 valid, 1 invalid, 2 usage error.`,
		Example: `  hegui cert verify signer.pem --roots root.pem --intermediates int.pem --purpose code-signing
  hegui cert verify server.pem --roots root.pem --purpose tls-server --dns api.example.cn --at 2027-01-01`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rootsPath == "" {
				return cmdutil.Usagef("--roots is required")
			}
			purpose, err := pki.ParsePurpose(purposeName)
			if err != nil {
				return cmdutil.UsageError{Err: err}
			}
			_, chain, err := cmdutil.VerifyCertificateFiles(args[0], rootsPath, intermediatesPath, at, purpose, dnsName)
			if asJSON {
				res := chainResult{Certificate: args[0], Valid: err == nil}
				if err != nil {
					res.Error = human.OneLine(err.Error())
				}
				for _, c := range chain {
					res.Chain = append(res.Chain, pki.FormatName(c.RawSubject))
				}
				if jerr := env.PrintJSON(res); jerr != nil {
					return jerr
				}
				return err
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: OK (%s)\n", args[0], purpose)
			for i, c := range chain {
				fmt.Fprintf(env.Stdout, "  %d %s\n", i, pki.FormatName(c.RawSubject))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rootsPath, "roots", "", "trusted root certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&intermediatesPath, "intermediates", "", "intermediate certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&purposeName, "purpose", "any", "code-signing, tls-server, tls-client or any")
	cmd.Flags().StringVar(&at, "at", "", "check validity at `TIME` (RFC 3339 or YYYY-MM-DD; default now)")
	cmd.Flags().StringVar(&dnsName, "dns", "", "also check the certificate is valid for this DNS name")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (also on failure)")
	return cmd
}

// chainResult is what cert verify prints with --json.
type chainResult struct {
	Certificate string   `json:"certificate"`
	Valid       bool     `json:"valid"`
	Error       string   `json:"error,omitempty"`
	Chain       []string `json:"chain,omitempty"` // subjects, leaf first
}
