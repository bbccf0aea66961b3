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

// NewSignCmd makes `hegui sign`.
func NewSignCmd(env *cmdutil.Env) *cobra.Command {
	var output, sm2ID string
	var asJSON bool
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
			if err := key.Required("key"); err != nil {
				return err
			}
			if output != "" && len(args) > 1 {
				return cmdutil.Usagef("--output names one signature file; sign one file at a time with it, or leave it out")
			}
			for _, f := range args {
				if f == "-" && output == "" {
					return cmdutil.Usagef("signing standard input needs --output")
				}
			}
			k, err := key.OpenSigner(cmd.Context())
			if err != nil {
				return err
			}
			defer k.Close()
			if sm2ID != "" && k.Alg != keys.SM2 {
				return cmdutil.Usagef("--sm2-id applies to SM2 keys; this key is %s", k.Alg)
			}
			var results []SignResult
			for _, file := range args {
				sigPath := output
				if sigPath == "" {
					sigPath = file + ".sig"
				}
				in, done, err := env.OpenInput(file, "signing "+file)
				if err != nil {
					return err
				}
				sig, err := sign.Sign(cmd.Context(), k, in, sign.Options{SM2ID: sm2ID})
				done()
				if err != nil {
					return fmt.Errorf("sign %s: %w", file, err)
				}
				if err := cmdutil.WriteOutput(sigPath, sig, 0o644, true); err != nil {
					return err
				}
				results = append(results, SignResult{File: file, Signature: sigPath, Algorithm: k.Alg, KeyID: k.ID})
				if !asJSON {
					fmt.Fprintf(env.Stdout, "Signed %s: %s (%s, key %s)\n", file, sigPath, k.Alg, keys.ShortID(k.ID))
				}
			}
			if asJSON {
				return env.PrintJSON(results)
			}
			return nil
		},
	}
	key = cmdutil.AddKeyFlag(cmd, env, "key", "signing key")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the signature to `FILE` (default FILE.sig)")
	cmd.Flags().StringVar(&sm2ID, "sm2-id", "", "SM2 distinguishing ID (default 1234567812345678)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
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

// NewVerifyBlobCmd makes `hegui verify-blob`.
func NewVerifyBlobCmd(env *cmdutil.Env) *cobra.Command {
	var sigPath, pubPath, certPath, rootsPath, intermediatesPath, at, sm2ID string
	var asJSON bool
	key := &cmdutil.KeyRef{Env: env}
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
			file := args[0]
			given := 0
			for _, s := range []string{pubPath, key.Ref, certPath} {
				if s != "" {
					given++
				}
			}
			if given != 1 {
				return cmdutil.Usagef("give exactly one of --pub, --key and --cert")
			}
			if certPath == "" && (rootsPath != "" || intermediatesPath != "" || at != "") {
				return cmdutil.Usagef("--roots, --intermediates and --at apply to --cert")
			}
			if certPath != "" && rootsPath == "" {
				return cmdutil.Usagef("--cert needs --roots: the trust anchors the certificate must chain to")
			}
			if sigPath == "" {
				sigPath = file + ".sig"
			}
			res := VerifyResult{File: file, Signature: sigPath}
			err := verifyBlob(env, cmd, &res, file, sm2ID, func() (crypto.PublicKey, error) {
				switch {
				case pubPath != "":
					return cmdutil.ReadPublicKeyFile(pubPath)
				case key.Ref != "":
					return key.OpenPublic(cmd.Context())
				}
				leaf, chain, err := cmdutil.VerifyCertificateFiles(certPath, rootsPath, intermediatesPath, at, pki.PurposeCodeSigning, "")
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
			if asJSON {
				if jerr := env.PrintJSON(res); jerr != nil {
					return jerr
				}
			} else if err == nil {
				fmt.Fprintf(env.Stdout, "Verified OK: %s (%s, key %s)\n", file, res.Algorithm, keys.ShortID(res.KeyID))
				if len(res.Chain) > 0 {
					fmt.Fprintf(env.Stdout, "  signer certificate: %s\n", res.Chain[0])
				}
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&sigPath, "signature", "s", "", "the signature `FILE` (default FILE.sig)")
	cmd.Flags().StringVar(&pubPath, "pub", "", "public key `FILE` (PEM or DER)")
	cmd.Flags().StringVar(&key.Ref, "key", "", "key `REF`: keyring:NAME|ID or pkcs11:URI")
	cmd.Flags().StringVar(&certPath, "cert", "", "signer certificate `FILE` (PEM; may carry its intermediates after it)")
	cmd.Flags().StringVar(&rootsPath, "roots", "", "trusted root certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&intermediatesPath, "intermediates", "", "intermediate certificates `FILE` (PEM bundle)")
	cmd.Flags().StringVar(&at, "at", "", "check the certificate's validity at `TIME` (RFC 3339 or YYYY-MM-DD; default now)")
	cmd.Flags().StringVar(&sm2ID, "sm2-id", "", "SM2 distinguishing ID (default 1234567812345678)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (also on failure)")
	return cmd
}

func verifyBlob(env *cmdutil.Env, cmd *cobra.Command, res *VerifyResult, file, sm2ID string, publicKey func() (crypto.PublicKey, error)) error {
	pub, err := publicKey()
	if err != nil {
		return err
	}
	res.Algorithm, _ = keys.AlgorithmOf(pub)
	res.KeyID, _ = keys.ID(pub)
	if sm2ID != "" && res.Algorithm != keys.SM2 {
		return cmdutil.Usagef("--sm2-id applies to SM2 keys; this key is %s", res.Algorithm)
	}
	sig, err := readSignature(cmd.Context(), res.Signature)
	if err != nil {
		return err
	}
	in, done, err := env.OpenInput(file, "verifying "+file)
	if err != nil {
		return err
	}
	defer done()
	err = sign.Verify(cmd.Context(), pub, in, sig, sign.Options{SM2ID: sm2ID})
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
