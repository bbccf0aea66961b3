// Package signcmd is `hegui sign` and `verify-blob`: detached SM2, ECDSA and
// Ed25519 signatures over files, and cosign bundles (package sign does the
// work).
package signcmd

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/pki"
	"hegui.dev/hegui/sign"
)

// SignOptions are the choices of `hegui sign`.
type SignOptions struct {
	// Files are the files to sign; "-" is standard input, which needs
	// Output.
	Files []string
	// Key is the signing key: a FILE, keyring:NAME|ID or pkcs11:URI.
	Key string
	// Password is where the password of an encrypted key comes from; nil
	// means $HEGUI_KEY_PASSWORD, else the terminal.
	Password *cmdutil.PasswordSource
	// Output is the signature file of a single file; "" writes FILE.sig
	// beside each file.
	Output string
	// SM2ID is the SM2 distinguishing ID; "" means 1234567812345678.
	SM2ID string
	// JSON prints a SignResult per file instead of a line each.
	JSON bool
}

// NewSignCmd makes `hegui sign`.
func NewSignCmd(env *cmdutil.Env) *cobra.Command {
	var opts SignOptions
	var key *cmdutil.KeyRef
	cmd := &cobra.Command{
		Use:   "sign --key KEY FILE...",
		Short: "Sign files with a detached signature",
		Long: `Sign writes a detached signature for each FILE to FILE.sig (or --output):
  sm2         SM2 with SM3 over Z || file, Z with the ID 1234567812345678 unless
              --sm2-id; DER, as "openssl dgst -sm3 -sign -sigopt distid:..." writes
  ecdsa-p256  ECDSA over SHA-256 of the file; DER, as "openssl dgst -sha256 -sign"
  ed25519     Ed25519ph (RFC 8032) over SHA-512 of the file; 64 bytes
Files of any size are read once as a stream; "-" reads standard input.`,
		Example: `  hegui sign --key release.key app-linux-amd64.tar.gz
  hegui sign --key keyring:release --password-file release.pass dist/*
  hegui sign --key 'pkcs11:token=hsm;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin' app.bin

  # Check it with OpenSSL 3
  openssl dgst -sm3 -verify release.pub -sigopt distid:1234567812345678 -signature app.bin.sig app.bin`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			opts.Key, opts.Password = key.Ref, key.Password
			return RunSign(cmd.Context(), env, opts)
		},
	}
	key = cmdutil.AddKeyFlag(cmd, env, "key", "signing key")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the signature to `FILE` (default FILE.sig)")
	cmd.Flags().StringVar(&opts.SM2ID, "sm2-id", "", "SM2 distinguishing ID (default 1234567812345678)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the results as JSON")
	return cmd
}

// RunSign signs each file with the key and writes the detached signatures,
// saying where each went (or printing them all as JSON).
func RunSign(ctx context.Context, env *cmdutil.Env, o SignOptions) error {
	key := &cmdutil.KeyRef{Env: env, Ref: o.Key, Password: o.Password}
	if key.Password == nil {
		key.Password = &cmdutil.PasswordSource{Env: env, EnvName: cmdutil.EnvKeyPassword, Prompt: "Password for the key: "}
	}
	if err := key.Required("key"); err != nil {
		return err
	}
	if len(o.Files) == 0 {
		return cmdutil.Usagef("give the FILE to sign")
	}
	if o.Output != "" && len(o.Files) > 1 {
		return cmdutil.Usagef("--output names one signature file; sign one file at a time with it, or leave it out")
	}
	for _, f := range o.Files {
		if f == "-" && o.Output == "" {
			return cmdutil.Usagef("signing standard input needs --output")
		}
	}
	k, err := key.OpenSigner(ctx)
	if err != nil {
		return err
	}
	defer k.Close()
	if o.SM2ID != "" && k.Alg != keys.SM2 {
		return cmdutil.Usagef("--sm2-id applies to SM2 keys; this key is %s", k.Alg)
	}
	var results []SignResult
	for _, file := range o.Files {
		sigPath := o.Output
		if sigPath == "" {
			sigPath = file + ".sig"
		}
		in, done, err := env.OpenInput(file, "signing "+file)
		if err != nil {
			return err
		}
		sig, err := sign.Sign(ctx, k, in, sign.Options{SM2ID: o.SM2ID})
		done()
		if err != nil {
			return fmt.Errorf("sign %s: %w", file, err)
		}
		if err := cmdutil.WriteOutput(sigPath, sig, 0o644, true); err != nil {
			return err
		}
		results = append(results, SignResult{File: file, Signature: sigPath, Algorithm: k.Alg, KeyID: k.ID})
		if !o.JSON {
			fmt.Fprintf(env.Stdout, "Signed %s: %s (%s, key %s)\n", file, sigPath, k.Alg, keys.ShortID(k.ID))
		}
	}
	if o.JSON {
		return env.PrintJSON(results)
	}
	return nil
}

// SignResult is what `hegui sign --json` prints per file.
type SignResult struct {
	File      string         `json:"file"`
	Signature string         `json:"signature"`
	Algorithm keys.Algorithm `json:"algorithm"`
	KeyID     string         `json:"keyId"`
}

// VerifyResult is what verify-blob prints with --json.
type VerifyResult struct {
	File      string         `json:"file"`
	Signature string         `json:"signature"`
	Verified  bool           `json:"verified"`
	Error     string         `json:"error,omitempty"`
	Algorithm keys.Algorithm `json:"algorithm,omitempty"`
	KeyID     string         `json:"keyId,omitempty"`
	Chain     []string       `json:"chain,omitempty"` // subjects, leaf first
}

// VerifyBlobOptions are the choices of `hegui verify-blob`. Exactly one of
// Pub, Key and Cert names the signer.
type VerifyBlobOptions struct {
	// File is the signed file; "-" is standard input.
	File string
	// Signature is the signature file, binary or base64; "" means
	// File + ".sig".
	Signature string
	// Pub is a public key file (PEM or DER).
	Pub string
	// Key is a key reference: a FILE, keyring:NAME|ID (in any state) or
	// pkcs11:URI.
	Key string
	// Cert is the signer's certificate file (PEM; it may carry its
	// intermediates after it), which must chain to Roots.
	Cert string
	// Roots is the PEM bundle of trusted root certificates, for Cert.
	Roots string
	// Intermediates is a PEM bundle of intermediate certificates, for Cert.
	Intermediates string
	// At is when Cert must be valid (RFC 3339 or YYYY-MM-DD); "" means now.
	At string
	// SM2ID is the SM2 distinguishing ID; "" means 1234567812345678.
	SM2ID string
	// JSON prints a VerifyResult, on failure too.
	JSON bool
}

// NewVerifyBlobCmd makes `hegui verify-blob`.
func NewVerifyBlobCmd(env *cmdutil.Env) *cobra.Command {
	var opts VerifyBlobOptions
	cmd := &cobra.Command{
		Use:   "verify-blob FILE (--pub KEY | --key KEY | --cert CERT --roots ROOTS)",
		Short: "Verify a detached signature made by hegui sign or OpenSSL",
		Long: `Verify-blob checks FILE against its detached signature (FILE.sig unless
--signature), made by the public key given with --pub, --key (a keyring key in
any state, so DEACTIVATED and DESTROYED keys still verify) or --cert. With
--cert the certificate must chain to --roots, allow code signing and be valid
at --at (default now). Signatures may be binary or base64.
Exit status: 0 verified, 1 not verified, 2 usage error.`,
		Example: `  hegui verify-blob --pub release.pub app.bin
  hegui verify-blob --key keyring:3f9a0c1e app.bin --signature app.bin.sig
  hegui verify-blob --cert signer.pem --roots root.pem --intermediates ca.pem app.bin

  # A signature made by OpenSSL 3
  openssl dgst -sm3 -sign key.pem -sigopt distid:1234567812345678 -out app.bin.sig app.bin
  hegui verify-blob --pub pub.pem app.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return RunVerifyBlob(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Signature, "signature", "s", "", "the signature `FILE` (default FILE.sig)")
	cmd.Flags().StringVar(&opts.Pub, "pub", "", "public key `FILE` (PEM or DER)")
	cmd.Flags().StringVar(&opts.Key, "key", "", "key `REF`: keyring:NAME|ID or pkcs11:URI")
	cmd.Flags().StringVar(&opts.Cert, "cert", "", "signer certificate `FILE` (PEM; may carry its intermediates after it)")
	cmd.Flags().StringVar(&opts.Roots, "roots", "", "trusted root certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&opts.Intermediates, "intermediates", "", "intermediate certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&opts.At, "at", "", "check the certificate's validity at `TIME` (RFC 3339 or YYYY-MM-DD; default now)")
	cmd.Flags().StringVar(&opts.SM2ID, "sm2-id", "", "SM2 distinguishing ID (default 1234567812345678)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON (also on failure)")
	return cmd
}

// RunVerifyBlob checks a file against its detached signature and says so
// (or prints a VerifyResult); an error when it does not verify.
func RunVerifyBlob(ctx context.Context, env *cmdutil.Env, o VerifyBlobOptions) error {
	given := 0
	for _, s := range []string{o.Pub, o.Key, o.Cert} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return cmdutil.Usagef("give exactly one of --pub, --key and --cert")
	}
	if o.Cert == "" && (o.Roots != "" || o.Intermediates != "" || o.At != "") {
		return cmdutil.Usagef("--roots, --intermediates and --at apply to --cert")
	}
	if o.Cert != "" && o.Roots == "" {
		return cmdutil.Usagef("--cert needs --roots: the trust anchors the certificate must chain to")
	}
	if o.Signature == "" {
		o.Signature = o.File + ".sig"
	}
	res := VerifyResult{File: o.File, Signature: o.Signature}
	err := verifyBlob(ctx, env, &res, o.SM2ID, func() (crypto.PublicKey, error) {
		switch {
		case o.Pub != "":
			return cmdutil.ReadPublicKeyFile(o.Pub)
		case o.Key != "":
			key := &cmdutil.KeyRef{Env: env, Ref: o.Key}
			return key.OpenPublic(ctx)
		}
		leaf, chain, err := cmdutil.VerifyCertificateFiles(o.Cert, o.Roots, o.Intermediates, o.At, pki.PurposeCodeSigning, "")
		if err != nil {
			return nil, err
		}
		for _, c := range chain {
			res.Chain = append(res.Chain, pki.FormatName(c.RawSubject))
		}
		return leaf.PublicKey, nil
	})
	if err != nil {
		res.Error = human.OneLine(err.Error())
	} else {
		res.Verified = true
	}
	if o.JSON {
		if jerr := env.PrintJSON(res); jerr != nil {
			return jerr
		}
	} else if err == nil {
		fmt.Fprintf(env.Stdout, "Verified OK: %s (%s, key %s)\n", o.File, res.Algorithm, keys.ShortID(res.KeyID))
		if len(res.Chain) > 0 {
			fmt.Fprintf(env.Stdout, "  signer certificate: %s\n", res.Chain[0])
		}
	}
	return err
}

// verifyBlob checks res.File against the signature in res.Signature with
// the key publicKey returns, and fills in the key's algorithm and ID.
func verifyBlob(ctx context.Context, env *cmdutil.Env, res *VerifyResult, sm2ID string, publicKey func() (crypto.PublicKey, error)) error {
	file := res.File
	pub, err := publicKey()
	if err != nil {
		return err
	}
	res.Algorithm, _ = keys.AlgorithmOf(pub)
	res.KeyID, _ = keys.ID(pub)
	if sm2ID != "" && res.Algorithm != keys.SM2 {
		return cmdutil.Usagef("--sm2-id applies to SM2 keys; this key is %s", res.Algorithm)
	}
	sig, err := readSignature(ctx, res.Signature)
	if err != nil {
		return err
	}
	in, done, err := env.OpenInput(file, "verifying "+file)
	if err != nil {
		return err
	}
	defer done()
	err = sign.Verify(ctx, pub, in, sig, sign.Options{SM2ID: sm2ID})
	if errors.Is(err, sign.ErrMismatch) {
		hint := ""
		if res.Algorithm == keys.SM2 {
			hint = "; an SM2 signature also fails under another SM2 ID (OpenSSL 3.0 signs with an empty ID unless given -sigopt distid:1234567812345678)"
		}
		return fmt.Errorf("%s: signature %s does not match (%s key %s): the file or the signature was changed, or another key made it%s",
			file, res.Signature, res.Algorithm, keys.ShortID(res.KeyID), hint)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// maxSignatureSize bounds what is read as a signature file.
const maxSignatureSize = 64 << 10

// readSignature reads a signature file, binary or base64.
func readSignature(ctx context.Context, path string) ([]byte, error) {
	data, err := inputfile.Read(ctx, path, maxSignatureSize)
	if err != nil {
		return nil, fmt.Errorf("read signature: %w", err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("signature %s is empty", path)
	}
	if text := bytes.TrimSpace(data); len(text) > 0 {
		if decoded, err := base64.StdEncoding.DecodeString(string(text)); err == nil && len(decoded) > 0 {
			return decoded, nil
		}
	}
	return data, nil
}
