// Package certcmd is `hegui cert`: SM2 CAs, certificate requests, issuing,
// inspecting and verifying certificates (package pki does the work).
package certcmd

import (
	"context"
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

// NameOptions are the subject and alternative names of a certificate or
// request: the --subject, --dns, --ip, --email and --uri flags of cert ca,
// csr and issue.
type NameOptions struct {
	// Subject is the distinguished name as /C=CN/O=Org/CN=Name (--subject).
	Subject string
	// DNSNames are the DNS names (--dns).
	DNSNames []string
	// IPAddresses are the IP addresses, as text (--ip).
	IPAddresses []string
	// EmailAddresses are the e-mail addresses (--email).
	EmailAddresses []string
	// URIs are absolute URIs, as text (--uri).
	URIs []string
}

func addNameFlags(cmd *cobra.Command, n *NameOptions, subjectRequired bool) {
	usage := "subject as /C=CN/O=Org/CN=Name"
	if !subjectRequired {
		usage += " (default: the request's)"
	}
	cmd.Flags().StringVar(&n.Subject, "subject", "", usage)
	cmd.Flags().StringSliceVar(&n.DNSNames, "dns", nil, "DNS name (repeatable)")
	cmd.Flags().StringSliceVar(&n.IPAddresses, "ip", nil, "IP address (repeatable)")
	cmd.Flags().StringSliceVar(&n.EmailAddresses, "email", nil, "e-mail address (repeatable)")
	cmd.Flags().StringSliceVar(&n.URIs, "uri", nil, "URI (repeatable)")
}

// template parses the names into a certificate template; a name that does
// not parse is a usage error naming its flag.
func (n NameOptions) template() (pki.Template, error) {
	var t pki.Template
	if n.Subject != "" {
		name, err := pki.ParseSubject(n.Subject)
		if err != nil {
			return t, cmdutil.UsageError{Err: err}
		}
		t.Subject = name
	}
	t.DNSNames, t.EmailAddresses = n.DNSNames, n.EmailAddresses
	for _, s := range n.IPAddresses {
		ip := net.ParseIP(s)
		if ip == nil {
			return t, cmdutil.Usagef("--ip %q is not an IP address", s)
		}
		t.IPAddresses = append(t.IPAddresses, ip)
	}
	for _, s := range n.URIs {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return t, cmdutil.Usagef("--uri %q is not an absolute URI", s)
		}
		t.URIs = append(t.URIs, u)
	}
	return t, nil
}

// addValidityFlags adds --days, and --path-len when withPathLen, whose
// value is in *pathLen and reaches the options only when given (see
// pathLenFlag).
func addValidityFlags(cmd *cobra.Command, days, pathLen *int, withPathLen bool) {
	cmd.Flags().IntVar(days, "days", 0, "validity in days (default: 3650 for a root, 1825 for an intermediate, 397 for TLS servers, 365 otherwise)")
	if withPathLen {
		cmd.Flags().IntVar(pathLen, "path-len", -1, "CA path length: the number of intermediate CAs allowed below (default: none for a root, 0 for an intermediate)")
	}
}

// pathLenFlag is --path-len's value when it was given, else nil: the flag's
// -1 default means "not given", while an explicit -1 is refused.
func pathLenFlag(cmd *cobra.Command, value int) *int {
	if !cmd.Flags().Changed("path-len") {
		return nil
	}
	return &value
}

// applyValidity sets the template's validity (days; 0 for the profile's
// default) and path length (nil for the default).
func applyValidity(t *pki.Template, days int, pathLen *int) error {
	if days < 0 {
		return cmdutil.Usagef("--days must be positive")
	}
	t.Validity = time.Duration(days) * 24 * time.Hour
	if pathLen != nil {
		if *pathLen < 0 {
			return cmdutil.Usagef("--path-len must be 0 or more")
		}
		n := *pathLen
		t.PathLen = &n
	}
	return nil
}

// openKey opens the key ref names for signing. Without a password source
// an encrypted key's password comes from $HEGUI_KEY_PASSWORD or the
// terminal, as without --password-file.
func openKey(ctx context.Context, env *cmdutil.Env, ref string, password *cmdutil.PasswordSource) (*cmdutil.SigningKey, error) {
	if password == nil {
		password = &cmdutil.PasswordSource{Env: env, EnvName: cmdutil.EnvKeyPassword, Prompt: "Password for the key: "}
	}
	k := &cmdutil.KeyRef{Env: env, Ref: ref, Password: password}
	return k.OpenSigner(ctx)
}

// CertCAOptions are the choices of `hegui cert ca`.
type CertCAOptions struct {
	// Key is the CA's key: a FILE, keyring:NAME|ID or pkcs11:URI (--key).
	Key string
	// Password is where the password of an encrypted Key comes from
	// (--password-file); nil means $HEGUI_KEY_PASSWORD, else the terminal.
	Password *cmdutil.PasswordSource
	// NameOptions name the CA; Subject is required.
	NameOptions
	// Days is the validity in days (--days); 0 means ten years.
	Days int
	// PathLen is the number of intermediate CAs allowed below (--path-len);
	// nil puts no limit.
	PathLen *int
	// Out is the PEM file to write (--out).
	Out string
	// Force replaces an existing Out (--force).
	Force bool
}

func newCertCACmd(env *cmdutil.Env) *cobra.Command {
	var opts CertCAOptions
	var pathLen int
	var key *cmdutil.KeyRef
	cmd := &cobra.Command{
		Use:   "ca --key KEY --subject DN --out FILE",
		Short: "Create a self-signed root CA certificate",
		Example: `  hegui cert ca --key keyring:root --subject "/C=CN/O=Example/CN=Example SM2 Root" --path-len 1 --out root.pem
  openssl x509 -in root.pem -noout -text`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key, opts.Password = key.Ref, key.Password
			opts.PathLen = pathLenFlag(cmd, pathLen)
			return RunCertCA(cmd.Context(), env, opts)
		},
	}
	key = cmdutil.AddKeyFlag(cmd, env, "key", "the CA's key")
	addNameFlags(cmd, &opts.NameOptions, true)
	addValidityFlags(cmd, &opts.Days, &pathLen, true)
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the certificate to `FILE` (PEM)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing file")
	return cmd
}

// RunCertCA creates a self-signed root CA certificate, writes it to o.Out
// and says so on stdout.
func RunCertCA(ctx context.Context, env *cmdutil.Env, o CertCAOptions) error {
	if o.Key == "" {
		return cmdutil.Usagef("--key is required")
	}
	if o.Subject == "" || o.Out == "" {
		return cmdutil.Usagef("--subject and --out are required")
	}
	t, err := o.NameOptions.template()
	if err != nil {
		return err
	}
	if err := applyValidity(&t, o.Days, o.PathLen); err != nil {
		return err
	}
	k, err := openKey(ctx, env, o.Key, o.Password)
	if err != nil {
		return err
	}
	defer k.Close()
	cert, err := pki.CreateRoot(k, t)
	if err != nil {
		return err
	}
	if err := cmdutil.WriteOutput(o.Out, pki.EncodeCertificates(cert), 0o644, o.Force); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Created root CA %s: %s (%s, valid until %s)\n", pki.FormatName(cert.RawSubject), o.Out, k.Alg, cert.NotAfter.Format(time.DateOnly))
	return nil
}

// CertCSROptions are the choices of `hegui cert csr`.
type CertCSROptions struct {
	// Key is the requester's key: a FILE, keyring:NAME|ID or pkcs11:URI
	// (--key).
	Key string
	// Password is where the password of an encrypted Key comes from
	// (--password-file); nil means $HEGUI_KEY_PASSWORD, else the terminal.
	Password *cmdutil.PasswordSource
	// NameOptions are the names requested.
	NameOptions
	// Out is the PEM file to write (--out).
	Out string
	// Force replaces an existing Out (--force).
	Force bool
}

func newCertCSRCmd(env *cmdutil.Env) *cobra.Command {
	var opts CertCSROptions
	var key *cmdutil.KeyRef
	cmd := &cobra.Command{
		Use:   "csr --key KEY --subject DN --out FILE",
		Short: "Create a certificate request (PKCS#10)",
		Example: `  hegui cert csr --key signer.key --subject "/C=CN/O=Example/CN=Release Signing" --out signer.csr
  hegui cert csr --key server.key --subject /CN=api.example.cn --dns api.example.cn --out server.csr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key, opts.Password = key.Ref, key.Password
			return RunCertCSR(cmd.Context(), env, opts)
		},
	}
	key = cmdutil.AddKeyFlag(cmd, env, "key", "the requester's key")
	addNameFlags(cmd, &opts.NameOptions, true)
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the request to `FILE` (PEM)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing file")
	return cmd
}

// RunCertCSR creates a certificate request (PKCS#10) signed by o.Key,
// writes it to o.Out and says so on stdout.
func RunCertCSR(ctx context.Context, env *cmdutil.Env, o CertCSROptions) error {
	if o.Key == "" {
		return cmdutil.Usagef("--key is required")
	}
	if o.Out == "" {
		return cmdutil.Usagef("--out is required")
	}
	t, err := o.NameOptions.template()
	if err != nil {
		return err
	}
	k, err := openKey(ctx, env, o.Key, o.Password)
	if err != nil {
		return err
	}
	defer k.Close()
	der, err := pki.CreateCSR(k, t)
	if err != nil {
		return err
	}
	if err := cmdutil.WriteOutput(o.Out, pki.EncodeCSR(der), 0o644, o.Force); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Created certificate request %s (%s key %s)\n", o.Out, k.Alg, keys.ShortID(k.ID))
	return nil
}

// CertIssueOptions are the choices of `hegui cert issue`.
type CertIssueOptions struct {
	// CA is the issuing CA's certificate file (--ca); its first
	// certificate issues.
	CA string
	// CAKey is the issuing CA's key: a FILE, keyring:NAME|ID or pkcs11:URI
	// (--ca-key).
	CAKey string
	// Password is where the password of an encrypted CAKey comes from
	// (--password-file); nil means $HEGUI_KEY_PASSWORD, else the terminal.
	Password *cmdutil.PasswordSource
	// CSR is the certificate request file (--csr).
	CSR string
	// Profile is intermediate-ca, code-signing, tls-server or tls-client
	// (--profile).
	Profile string
	// NameOptions replace the request's names when set.
	NameOptions
	// Days is the validity in days (--days); 0 means the profile's default.
	Days int
	// PathLen is the number of intermediate CAs allowed below an
	// intermediate CA (--path-len); nil means 0.
	PathLen *int
	// Out is the PEM file to write (--out).
	Out string
	// Force replaces an existing Out (--force).
	Force bool
}

func newCertIssueCmd(env *cmdutil.Env) *cobra.Command {
	var opts CertIssueOptions
	var pathLen int
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
			opts.CAKey, opts.Password = caKey.Ref, caKey.Password
			opts.PathLen = pathLenFlag(cmd, pathLen)
			return RunCertIssue(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.CA, "ca", "", "the issuing CA certificate `FILE`")
	caKey = cmdutil.AddKeyFlag(cmd, env, "ca-key", "the issuing CA's key")
	cmd.Flags().StringVar(&opts.CSR, "csr", "", "the certificate request `FILE`")
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "intermediate-ca, code-signing, tls-server or tls-client")
	addNameFlags(cmd, &opts.NameOptions, false)
	addValidityFlags(cmd, &opts.Days, &pathLen, true)
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the certificate to `FILE` (PEM)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing file")
	return cmd
}

// RunCertIssue checks the request's signature, issues a certificate of
// o.Profile under the CA, writes it to o.Out and says so on stdout.
func RunCertIssue(ctx context.Context, env *cmdutil.Env, o CertIssueOptions) error {
	if o.CA == "" || o.CAKey == "" || o.CSR == "" || o.Profile == "" || o.Out == "" {
		return cmdutil.Usagef("--ca, --ca-key, --csr, --profile and --out are required")
	}
	profile, err := pki.ParseProfile(o.Profile)
	if err != nil || profile == pki.ProfileRootCA {
		return cmdutil.Usagef("unknown profile %q (want intermediate-ca, code-signing, tls-server or tls-client)", o.Profile)
	}
	t, err := o.NameOptions.template()
	if err != nil {
		return err
	}
	t.Profile = profile
	if err := applyValidity(&t, o.Days, o.PathLen); err != nil {
		return err
	}
	if profile == pki.ProfileIntermediateCA && t.PathLen == nil {
		zero := 0
		t.PathLen = &zero
	}
	cas, err := cmdutil.ReadCertificates(o.CA)
	if err != nil {
		return err
	}
	data, err := inputfile.Read(ctx, o.CSR, inputfile.KeyLimit)
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	csr, err := pki.ParseCSR(data)
	if err != nil {
		return fmt.Errorf("request %q: %w", o.CSR, err)
	}
	k, err := openKey(ctx, env, o.CAKey, o.Password)
	if err != nil {
		return err
	}
	defer k.Close()
	cert, err := pki.Issue(cas[0], k, csr, t)
	if err != nil {
		return err
	}
	if err := cmdutil.WriteOutput(o.Out, pki.EncodeCertificates(cert), 0o644, o.Force); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Issued %s certificate %s: %s (valid until %s)\n", profile, pki.FormatName(cert.RawSubject), o.Out, cert.NotAfter.Format(time.DateOnly))
	return nil
}

// CertInspectOptions are the choices of `hegui cert inspect`.
type CertInspectOptions struct {
	// File holds PEM certificates or a certificate request (the argument).
	File string
	// JSON prints the descriptions as JSON (--json).
	JSON bool
}

func newCertInspectCmd(env *cmdutil.Env) *cobra.Command {
	var opts CertInspectOptions
	cmd := &cobra.Command{
		Use:     "inspect FILE",
		Short:   "Show certificates or a certificate request in readable form",
		Example: "  hegui cert inspect root.pem\n  hegui cert inspect signer.csr --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return RunCertInspect(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return cmd
}

// RunCertInspect prints the certificates or the certificate request in
// o.File, one field a line or as JSON.
func RunCertInspect(ctx context.Context, env *cmdutil.Env, o CertInspectOptions) error {
	data, err := inputfile.Read(ctx, o.File, inputfile.KeyLimit)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	var descs []pki.Description
	if strings.Contains(string(data), "CERTIFICATE REQUEST-----") {
		csr, err := pki.ParseCSR(data)
		if err != nil {
			return fmt.Errorf("%q: %w", o.File, err)
		}
		descs = append(descs, pki.DescribeCSR(csr))
	} else {
		certs, err := pki.ParseCertificates(data)
		if err != nil {
			if csr, cerr := pki.ParseCSR(data); cerr == nil {
				descs = append(descs, pki.DescribeCSR(csr))
			} else {
				return fmt.Errorf("%q: %w", o.File, err)
			}
		}
		for _, c := range certs {
			descs = append(descs, pki.DescribeCertificate(c))
		}
	}
	if o.JSON {
		return env.PrintJSON(descs)
	}
	for i, d := range descs {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		writeDescription(env.Stdout, d)
	}
	return nil
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

// CertVerifyOptions are the choices of `hegui cert verify`.
type CertVerifyOptions struct {
	// Cert is the certificate file, which may carry intermediates after
	// the certificate (the argument).
	Cert string
	// Roots is the trusted root certificates file, a PEM bundle (--roots).
	Roots string
	// Intermediates is a PEM bundle of intermediate certificates
	// (--intermediates).
	Intermediates string
	// Purpose is code-signing, tls-server, tls-client or any (--purpose,
	// whose default is any); it must be set.
	Purpose string
	// At is the time to check validity at, RFC 3339 or YYYY-MM-DD (--at);
	// empty means now.
	At string
	// DNSName, if set, must be a name the certificate is valid for (--dns).
	DNSName string
	// JSON prints the result as JSON, also on failure (--json).
	JSON bool
}

func newCertVerifyCmd(env *cmdutil.Env) *cobra.Command {
	var opts CertVerifyOptions
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
			opts.Cert = args[0]
			return RunCertVerify(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Roots, "roots", "", "trusted root certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&opts.Intermediates, "intermediates", "", "intermediate certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&opts.Purpose, "purpose", "any", "code-signing, tls-server, tls-client or any")
	cmd.Flags().StringVar(&opts.At, "at", "", "check validity at `TIME` (RFC 3339 or YYYY-MM-DD; default now)")
	cmd.Flags().StringVar(&opts.DNSName, "dns", "", "also check the certificate is valid for this DNS name")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON (also on failure)")
	return cmd
}

// RunCertVerify verifies o.Cert's chain to o.Roots for o.Purpose and
// prints the chain (or, with o.JSON, the result also on failure); an error
// when the chain is invalid.
func RunCertVerify(ctx context.Context, env *cmdutil.Env, o CertVerifyOptions) error {
	if o.Roots == "" {
		return cmdutil.Usagef("--roots is required")
	}
	purpose, err := pki.ParsePurpose(o.Purpose)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	_, chain, err := cmdutil.VerifyCertificateFiles(o.Cert, o.Roots, o.Intermediates, o.At, purpose, o.DNSName)
	if o.JSON {
		res := chainResult{Certificate: o.Cert, Valid: err == nil}
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
	fmt.Fprintf(env.Stdout, "%s: OK (%s)\n", o.Cert, purpose)
	for i, c := range chain {
		fmt.Fprintf(env.Stdout, "  %d %s\n", i, pki.FormatName(c.RawSubject))
	}
	return nil
}

// chainResult is what cert verify prints with --json.
type chainResult struct {
	Certificate string   `json:"certificate"`
	Valid       bool     `json:"valid"`
	Error       string   `json:"error,omitempty"`
	Chain       []string `json:"chain,omitempty"` // subjects, leaf first
}
