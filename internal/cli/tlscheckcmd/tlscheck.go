// Package tlscheckcmd is `hegui tlscheck`: does a TLS endpoint meet the
// transport rules (internal/tlscheck).
package tlscheckcmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/sarif"
	"hegui.dev/hegui/internal/tlscheck"
)

// Options are the choices of `hegui tlscheck`.
type Options struct {
	Addr       string
	Profile    string
	ServerName string
	CAFiles    []string
	Timeout    time.Duration
	JSON       bool
	SARIF      string
}

// NewTLSCheckCmd makes `hegui tlscheck`.
func NewTLSCheckCmd(env *cmdutil.Env) *cobra.Command {
	var o Options
	cmd := &cobra.Command{
		Use:   "tlscheck HOST:PORT [--profile gbt22239-l3|modern|FILE]",
		Short: "Check a TLS endpoint's versions, cipher suites and certificates against a profile",
		Long: `Tlscheck connects to a TLS endpoint and reports what it accepts — each
protocol version, and each cipher suite Go implements tried one by one —
its certificate chain (key algorithms and sizes, signature algorithms,
expiry, names, whether it verifies), OCSP stapling and whether it asks for a
client certificate. It then holds them to a profile:

  gbt22239-l3  GB/T 22239-2019 level 3, 8.1.2.2: TLS 1.2 or later, forward
               secrecy and AEAD only, no RC4/3DES/NULL/EXPORT, RSA >= 2048 and
               EC >= 256 bits, a chain that verifies, expiry warned 30 days ahead
  modern       TLS 1.3 only, and the same certificate rules, OCSP stapling
  FILE.yaml    your own (docs/tlscheck.md)

What Go cannot speak is listed, not guessed: SSL 3.0, suites Go does not
implement, SM2 certificates and TLCP (GB/T 38636).

The --json document is evidence about the deployed system: attach it to a
delivery's compliance report with "hegui report DELIVERY --evidence FILE",
which judges it again by gbt22239-l3 and shows it beside the operator part
of the transport controls (docs/tlscheck.md).

Exit status: 0 when nothing fails the profile, 1 otherwise (or when the
endpoint cannot be reached), 2 for usage errors.`,
		Example: `  hegui tlscheck www.example.cn:443
  hegui tlscheck 10.0.0.5:8443 --servername api.internal --ca company-root.pem --profile modern
  hegui tlscheck db.internal:5433 --json
  hegui tlscheck gateway:443 --sarif tls.sarif
  hegui tlscheck api.internal:443 --json > tls-api.json; hegui report dist/app_v1.2.3 --evidence tls-api.json -o report.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Addr = args[0]
			return Run(cmd.Context(), env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Profile, "profile", "gbt22239-l3", "the `PROFILE` to judge by: gbt22239-l3, modern, or a YAML file")
	f.StringVar(&o.ServerName, "servername", "", "the `NAME` sent as SNI and checked against the certificate (default the host)")
	f.StringSliceVar(&o.CAFiles, "ca", nil, "verify the chain against these CA certificates `FILE` (PEM; default the system's roots)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Second, "bound each connection and handshake to `DURATION`")
	f.BoolVar(&o.JSON, "json", false, "print the result and findings as JSON")
	f.StringVar(&o.SARIF, "sarif", "", "also write the findings as SARIF 2.1.0 to `FILE`")
	return cmd
}

// Run runs `hegui tlscheck`.
func Run(ctx context.Context, env *cmdutil.Env, o Options) error {
	p, err := tlscheck.LoadProfile(o.Profile)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	var roots *x509.CertPool
	if len(o.CAFiles) > 0 {
		roots = x509.NewCertPool()
		for _, f := range o.CAFiles {
			certs, err := cmdutil.ReadCertificates(f)
			if err != nil {
				return err
			}
			for _, c := range certs {
				std, err := x509.ParseCertificate(c.Raw)
				if err != nil {
					if c.SignatureAlgorithm == smx509.SM2WithSM3 || strings.Contains(err.Error(), "unsupported elliptic curve") {
						return cmdutil.Usagef("%s holds an SM2 certificate (%s): Go's TLS, which tlscheck probes with, cannot use SM2 chains (docs/tlscheck.md)", f, c.Subject)
					}
					return fmt.Errorf("%s: %v", f, err)
				}
				roots.AddCert(std)
			}
		}
	}
	if !o.JSON {
		env.Infof("probing %s: each version, each cipher suite...", o.Addr)
	}
	res, err := tlscheck.Probe(ctx, tlscheck.Options{Addr: o.Addr, ServerName: o.ServerName, Roots: roots, Timeout: o.Timeout})
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	findings := tlscheck.Judge(res, p)
	failed := tlscheck.Failed(findings)
	if o.SARIF != "" {
		data, err := toSARIF(res, p, findings)
		if err != nil {
			return err
		}
		if err := cmdutil.WriteOutput(o.SARIF, data, 0o644, true); err != nil {
			return err
		}
	}
	if o.JSON {
		if err := env.PrintJSON(tlscheck.NewReport(res, p, findings)); err != nil {
			return err
		}
	} else {
		print(env, res, p, findings)
	}
	if !res.Reachable {
		return fmt.Errorf("%s: no TLS handshake worked: %s", o.Addr, res.Error)
	}
	if failed {
		n := 0
		for _, f := range findings {
			if f.Level == tlscheck.Error {
				n++
			}
		}
		word := "findings"
		if n == 1 {
			word = "finding"
		}
		return fmt.Errorf("%s does not meet %s: %d %s", o.Addr, p.Name, n, word)
	}
	return nil
}

func print(env *cmdutil.Env, r *tlscheck.Result, p tlscheck.Profile, findings []tlscheck.Finding) {
	w := func(k, format string, args ...any) {
		fmt.Fprintf(env.Stdout, "  %-11s %s\n", k, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(env.Stdout, "%s (server name %s), profile %s: %s\n", r.Target, r.ServerName, p.Name, p.Title)
	var vs []string
	for _, v := range r.Versions {
		mark := "no"
		if v.Accepted {
			mark = "yes"
		}
		vs = append(vs, v.Name+" "+mark)
	}
	w("protocols", "%s", strings.Join(vs, ", "))
	for _, v := range r.Versions {
		if len(v.Suites) > 0 {
			w(v.Name, "%s", strings.Join(v.Suites, " "))
		}
	}
	if r.NegotiatedVersion != "" {
		w("negotiated", "%s %s %s", r.NegotiatedVersion, r.NegotiatedSuite, r.NegotiatedGroup)
	}
	for i, c := range r.Chain {
		key := fmt.Sprintf("%s %d", c.KeyAlgorithm, c.KeyBits)
		names := strings.Join(append(append([]string(nil), c.DNSNames...), c.IPAddresses...), ", ")
		k := ""
		if i == 0 {
			k = "chain"
		}
		w(k, "%d: %s  %s  %s  until %s (%d days)  %s", i, c.Subject, key, c.SignatureAlgorithm, c.NotAfter.Format("2006-01-02"), c.DaysLeft, names)
	}
	if r.Reachable && len(r.Chain) > 0 {
		if r.ChainVerified {
			w("trust", "the chain verifies for %s", r.ServerName)
		} else {
			w("trust", "does not verify: %s", r.ChainError)
		}
		stapled := "not stapled"
		if r.OCSPStapled {
			stapled = "stapled"
		}
		w("OCSP", "%s", stapled)
		w("client cert", "%s", r.ClientCertificate)
	}
	if !r.Reachable {
		w("error", "%s", r.Error)
	}
	fmt.Fprintln(env.Stdout, "  findings")
	for _, f := range findings {
		if f.Level == tlscheck.Note && f.Rule == "unprobed" && env.Quiet {
			continue
		}
		fmt.Fprintf(env.Stdout, "    %-7s %-16s %s\n", strings.ToUpper(f.Level), f.Rule, f.Message)
	}
}

// toSARIF writes the findings as SARIF, each located at the endpoint.
func toSARIF(r *tlscheck.Result, p tlscheck.Profile, findings []tlscheck.Finding) ([]byte, error) {
	l := sarif.New("hegui tlscheck", "", "https://hegui.dev/docs/tlscheck")
	for _, f := range findings {
		l.AddRule(sarif.Rule{ID: "tls/" + f.Rule, Short: tlscheck.Rules[f.Rule], Level: f.Level, Tags: []string{"security", "tls", p.Name}})
		l.Add(sarif.Result{RuleID: "tls/" + f.Rule, Level: f.Level, Message: f.Message,
			Location: &sarif.Location{File: "tls://" + r.Target, Absolute: true, Message: r.ServerName}})
	}
	data, err := l.Bytes()
	if err != nil {
		return nil, errors.New("write SARIF: " + err.Error())
	}
	return data, nil
}
