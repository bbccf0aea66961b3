package delivercmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/verify"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// VerifyOptions are the choices of `hegui verify`.
type VerifyOptions struct {
	Delivery string   // the delivery directory
	Roots    []string // trusted CA certificate files
	Pubs     []string // trusted public key files
	Source   string   // source directory, for Rebuild
	Rebuild  bool
	JSON     bool
	LogPub   string // the audit log's verifier keys file
	LogURL   string // check online that the log is consistent with the delivery
}

// NewVerifyCmd makes `hegui verify`.
func NewVerifyCmd(env *cmdutil.Env) *cobra.Command {
	var opts VerifyOptions
	cmd := &cobra.Command{
		Use:   "verify DELIVERY (--trust-root CA.pem | --pub KEY)",
		Short: "Check a delivery offline: signatures, every file, provenance, SBOMs",
		Long: `Verify checks a delivery made by "hegui deliver" without any network:

  manifest    manifest.json is exactly the document signed in manifest.dsse.json
  signature   a signer's certificate chains to --trust-root, allows code signing
              and was valid when the manifest was signed; or the manifest is
              signed by a --pub key; every other signature is valid too
  files       every file has the size, SHA-256 and SM3 the manifest lists;
              none is missing and none was added
  provenance  the in-toto/SLSA provenance is signed by a trusted key and its
              subjects are exactly the binaries
  sbom        each SBOM matches the build information of its binary
  checksums   SHA256SUMS and SM3SUMS agree with the manifest
  image       when the delivery carries an OCI image (image/): every blob has
              its digest, each platform's image runs the delivery's binary for
              that platform as a non-root user, and every attached SBOM and
              provenance is the delivery's file
  transparency  when the delivery was recorded in an audit log: the entry
              is in the log's signed checkpoint (keys from --log-pub, else the
              delivery's copy) and names this manifest; with --log URL, the
              log's current state is consistent with that checkpoint (online)
  rebuild     with --source DIR --rebuild: the binaries rebuilt from source
              are identical

Exit status: 0 when every check holds, 1 otherwise, 2 for usage errors.`,
		Example: `  hegui verify dist/app_v1.2.0 --trust-root company-root.pem
  hegui verify dist/app_v1.2.0 --pub release.pub --json
  hegui verify dist/app_v1.2.0 --trust-root root.pem --source . --rebuild
  hegui verify dist/app_v1.2.0 --pub release.pub --log-pub log.pub --log https://audit.example.cn`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Delivery = args[0]
			return RunVerify(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Roots, "trust-root", nil, "trusted root CA certificates `FILE` (PEM; repeatable)")
	cmd.Flags().StringSliceVar(&opts.Pubs, "pub", nil, "trusted public key `FILE` (repeatable)")
	cmd.Flags().StringVar(&opts.Source, "source", "", "source `DIR` for --rebuild")
	cmd.Flags().BoolVar(&opts.Rebuild, "rebuild", false, "rebuild the binaries from --source and compare digests")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&opts.LogPub, "log-pub", "", "the audit log's trusted verifier keys `FILE` (log.pub)")
	cmd.Flags().StringVar(&opts.LogURL, "log", "", "also check online that the audit log at `URL` is consistent with the delivery's checkpoint")
	return cmd
}

// RunVerify verifies a delivery and prints the checklist (or JSON); an
// error when a check fails.
func RunVerify(ctx context.Context, env *cmdutil.Env, o VerifyOptions) error {
	if len(o.Roots) == 0 && len(o.Pubs) == 0 {
		return cmdutil.Usagef("give --trust-root CA.pem or --pub KEY: what the delivery must be signed by")
	}
	if o.Rebuild && o.Source == "" {
		return cmdutil.Usagef("--rebuild needs --source DIR")
	}
	opts := verify.Options{Dir: o.Delivery, Source: o.Source, Rebuild: o.Rebuild, Progress: func(s string) { env.Infof("  %s", s) }}
	opts.LogURL, opts.CheckLog = o.LogURL, logclient.CheckConsistent
	if o.LogPub != "" {
		var err error
		if opts.LogKeys, err = translog.ReadVerifierKeys(o.LogPub); err != nil {
			return err
		}
	}
	anchors, err := cmdutil.LoadAnchors(o.Roots, o.Pubs)
	if err != nil {
		return err
	}
	opts.Roots, opts.Keys = anchors.Roots, anchors.Keys
	res, err := verify.Run(ctx, opts)
	if err != nil {
		return err
	}
	if o.JSON {
		if err := env.PrintJSON(res); err != nil {
			return err
		}
	} else {
		printChecklist(env, res)
	}
	if !res.Passed {
		return fmt.Errorf("verification of %s failed: %s", o.Delivery, strings.Join(res.Failed(), ", "))
	}
	return nil
}

// printChecklist prints the result for a person; with --quiet only the
// checks that failed (the error line on stderr says the rest). Everything in it that
// came from the delivery (names, versions, file names in details) is
// printed escaped, so that a file named with terminal control sequences
// cannot rewrite what the user sees.
func printChecklist(env *cmdutil.Env, res *verify.Result) {
	if env.Quiet {
		for _, it := range res.Items {
			if !it.Passed {
				fmt.Fprintf(env.Stdout, "[FAIL] %s: %s\n", it.Name, escapeText(it.Detail))
			}
		}
		return
	}
	fmt.Fprintf(env.Stdout, "Verifying %s", escapeText(res.Delivery))
	if res.Project != "" {
		fmt.Fprintf(env.Stdout, " (%s %s)", escapeText(res.Project), escapeText(res.Version))
	}
	fmt.Fprintln(env.Stdout)
	for _, it := range res.Items {
		mark := "PASS"
		if !it.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(env.Stdout, "  [%s] %-12s %s\n", mark, it.Name, escapeText(it.Detail))
	}
	if res.Untrusted {
		fmt.Fprintln(env.Stdout, "  no other check ran (files, provenance, SBOMs, report): without a valid signature by a trusted key on the manifest, nothing in the delivery can be believed")
	}
	if res.Development {
		fmt.Fprintln(env.Stdout, "  note: signed with a development key; it shows the delivery is unaltered, not who made it")
	}
	if res.Passed {
		fmt.Fprintln(env.Stdout, "Verified: every check holds.")
	}
}

// escapeText writes control characters, invalid UTF-8 and the Unicode
// characters that reorder text as Go escapes (\x1b, \u202e), leaving
// every other character, Chinese included, as it is.
func escapeText(s string) string {
	if !strings.ContainsFunc(s, needsEscape) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			if q == "'"+string(r)+"'" {
				q = fmt.Sprintf("'\\u%04x'", r)
			}
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}
