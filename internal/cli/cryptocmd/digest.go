// Package cryptocmd is `hegui digest`, `mac`, `encrypt` and `decrypt`: SM3,
// HMAC-SM3 and SM4-CBC on streams, identical to OpenSSL's (packages digest
// and symmetric do the work).
package cryptocmd

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/ctxio"
	"hegui.dev/hegui/internal/inputfile"
)

// DigestOptions are the choices of `hegui digest`.
type DigestOptions struct {
	Files     []string // "-" or none for standard input
	Algorithm string   // sm3, sha256 or sha512
}

// NewDigestCmd makes `hegui digest`.
func NewDigestCmd(env *cmdutil.Env) *cobra.Command {
	var opts DigestOptions
	cmd := &cobra.Command{
		Use:   "digest [FILE...]",
		Short: "Print SM3 (or SHA-256, SHA-512) digests of files",
		Long: `Digest prints one line per file in the format of sha256sum: the hex digest,
two spaces and the file name. With no FILE, or "-", it reads standard input.`,
		Example: `  hegui digest app.bin
  hegui digest --alg sha256 dist/* > SHA256SUMS`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			return RunDigest(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Algorithm, "alg", "sm3", "sm3, sha256 or sha512")
	return cmd
}

// MACOptions are the choices of `hegui mac`.
type MACOptions struct {
	File      string // "-" or "" for standard input
	Algorithm string // hash of the HMAC: sm3, sha256 or sha512
	KeyFile   string
	HexKey    bool // KeyFile holds hex
}

// NewMACCmd makes `hegui mac`.
func NewMACCmd(env *cmdutil.Env) *cobra.Command {
	var opts MACOptions
	cmd := &cobra.Command{
		Use:   "mac --key-file FILE [FILE]",
		Short: "Print the HMAC-SM3 (or HMAC-SHA256) of a file",
		Long: `Mac prints the HMAC of FILE (standard input when absent or "-") in hex, as
"openssl mac -digest SM3 -macopt hexkey:... HMAC" does. The key is the content
of --key-file, or its hex decoding with --hex-key.`,
		Example: `  hegui mac --key-file mac.key report.json
  hegui mac --alg sha256 --hex-key --key-file mac.hex < data.bin`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			return RunMAC(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Algorithm, "alg", "sm3", "hash of the HMAC: sm3, sha256 or sha512")
	cmd.Flags().StringVar(&opts.KeyFile, "key-file", "", "read the key from `FILE`")
	cmd.Flags().BoolVar(&opts.HexKey, "hex-key", false, "the key file holds hex")
	return cmd
}

// RunDigest prints a sha256sum-style line per file.
func RunDigest(ctx context.Context, env *cmdutil.Env, o DigestOptions) error {
	alg, err := digest.ParseAlgorithm(o.Algorithm)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	files := o.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, file := range files {
		in, done, err := env.OpenInput(file, "hashing "+file)
		if err != nil {
			return err
		}
		sums, _, err := digest.Sum(ctx, in, alg)
		done()
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		fmt.Fprintf(env.Stdout, "%s  %s\n", hex.EncodeToString(sums[0]), file)
	}
	return nil
}

// RunMAC prints the HMAC of a file in hex.
func RunMAC(ctx context.Context, env *cmdutil.Env, o MACOptions) error {
	alg, err := digest.ParseAlgorithm(o.Algorithm)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	if o.KeyFile == "" {
		return cmdutil.Usagef("--key-file is required")
	}
	key, err := inputfile.Read(ctx, o.KeyFile, inputfile.KeyLimit)
	if err != nil {
		return fmt.Errorf("read MAC key: %w", err)
	}
	if o.HexKey {
		if key, err = hex.DecodeString(string(bytes.TrimSpace(key))); err != nil {
			return fmt.Errorf("MAC key %q is not hex: %w", o.KeyFile, err)
		}
	}
	if len(key) == 0 {
		return fmt.Errorf("MAC key %q is empty", o.KeyFile)
	}
	file := cmp.Or(o.File, "-")
	in, done, err := env.OpenInput(file, "hashing "+file)
	if err != nil {
		return err
	}
	defer done()
	h := alg.NewHMAC(key)
	if _, err := ctxio.Copy(ctx, h, in); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintln(env.Stdout, hex.EncodeToString(h.Sum(nil)))
	return nil
}
