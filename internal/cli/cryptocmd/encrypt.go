package cryptocmd

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/ctxio"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/symmetric"
)

// EncryptOptions are the choices of `hegui encrypt`.
type EncryptOptions struct {
	// File is the plaintext; "-" or "" for standard input.
	File string
	// KeyFile holds the SM4 key: 16 bytes, or 32 hex digits.
	KeyFile string
	// IV is the IV in hex (32 digits); "" means a random IV, written as
	// the first 16 bytes of the output.
	IV string
	// Out is the ciphertext file; "-" for standard output.
	Out string
	// Force replaces an existing Out.
	Force bool
}

// DecryptOptions are the choices of `hegui decrypt`.
type DecryptOptions struct {
	// File is the ciphertext; "-" or "" for standard input.
	File string
	// KeyFile holds the SM4 key: 16 bytes, or 32 hex digits.
	KeyFile string
	// IV is the IV in hex (32 digits); "" means the first 16 bytes of the
	// input, as encrypt writes them without one.
	IV string
	// Out is the plaintext file, written only when the whole input
	// decrypts; "-" for standard output.
	Out string
	// Force replaces an existing Out.
	Force bool
}

// addCipherFlags adds the flags encrypt and decrypt share.
func addCipherFlags(cmd *cobra.Command, keyFile, iv, out *string, force *bool) {
	cmd.Flags().StringVar(keyFile, "key-file", "", "SM4 key `FILE`: 16 bytes, or 32 hex digits")
	cmd.Flags().StringVar(iv, "iv", "", "IV as 32 hex digits (default: random, stored as the first 16 bytes of the output)")
	cmd.Flags().StringVarP(out, "out", "o", "", "write to `FILE` (\"-\" for standard output)")
	cmd.Flags().BoolVar(force, "force", false, "replace an existing output file")
}

// keyAndIV checks the choices encrypt and decrypt share and reads the key.
// iv is nil when ivHex is "".
func keyAndIV(ctx context.Context, keyFile, ivHex, out string) (key, iv []byte, err error) {
	if keyFile == "" {
		return nil, nil, cmdutil.Usagef("--key-file is required")
	}
	if out == "" {
		return nil, nil, cmdutil.Usagef("--out is required (\"-\" for standard output)")
	}
	if ivHex != "" {
		if iv, err = hex.DecodeString(ivHex); err != nil || len(iv) != symmetric.BlockSize {
			return nil, nil, cmdutil.Usagef("--iv must be 32 hex digits")
		}
	}
	data, err := inputfile.Read(ctx, keyFile, inputfile.KeyLimit)
	if err != nil {
		return nil, nil, fmt.Errorf("read SM4 key: %w", err)
	}
	if len(data) == symmetric.KeySize {
		return data, iv, nil
	}
	if key, err := hex.DecodeString(string(bytes.TrimSpace(data))); err == nil && len(key) == symmetric.KeySize {
		return key, iv, nil
	}
	return nil, nil, fmt.Errorf("SM4 key %q must hold 16 bytes or 32 hex digits", keyFile)
}

// openOutput opens the destination: stdout, or a file published only when
// complete, so a failed decryption leaves no partial plaintext behind. A
// device or a pipe is written as the data comes (atomicfile.CreateOutput).
func openOutput(env *cmdutil.Env, out string, force bool) (io.Writer, func() error, func(), error) {
	if out == "-" {
		return env.Stdout, func() error { return nil }, func() {}, nil
	}
	f, err := atomicfile.CreateOutput(out, 0o600, !force)
	if err != nil {
		return nil, nil, nil, cmdutil.OutputError(out, err)
	}
	commit := func() error { return cmdutil.OutputError(out, f.Commit()) }
	return f, commit, f.Abort, nil
}

// NewEncryptCmd makes `hegui encrypt`.
func NewEncryptCmd(env *cmdutil.Env) *cobra.Command {
	var opts EncryptOptions
	cmd := &cobra.Command{
		Use:   "encrypt --key-file KEY --out FILE [FILE]",
		Short: "Encrypt a file with SM4-CBC (OpenSSL-compatible)",
		Long: `Encrypt encrypts FILE (standard input when absent or "-") with SM4-CBC and
PKCS#7 padding. With --iv the output is exactly what
"openssl enc -sm4-cbc -K KEY -iv IV" writes. Without --iv a random IV is
generated and written before the ciphertext; decrypt without --iv reads it
back. CBC gives no integrity: sign the result, or MAC it, to detect changes.`,
		Example: `  hegui encrypt --key-file sm4.key --out backup.tar.enc backup.tar
  hegui encrypt --key-file sm4.hex --iv 000102030405060708090a0b0c0d0e0f --out data.enc data`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			return RunEncrypt(cmd.Context(), env, opts)
		},
	}
	addCipherFlags(cmd, &opts.KeyFile, &opts.IV, &opts.Out, &opts.Force)
	return cmd
}

// RunEncrypt encrypts a file with SM4-CBC, behind a random IV unless one is
// given.
func RunEncrypt(ctx context.Context, env *cmdutil.Env, o EncryptOptions) error {
	key, iv, err := keyAndIV(ctx, o.KeyFile, o.IV, o.Out)
	if err != nil {
		return err
	}
	in, done, err := env.OpenInput(cmp.Or(o.File, "-"), "encrypting")
	if err != nil {
		return err
	}
	defer done()
	out, commit, abort, err := openOutput(env, o.Out, o.Force)
	if err != nil {
		return err
	}
	defer abort()
	if iv == nil {
		iv = make([]byte, symmetric.BlockSize)
		rand.Read(iv)
		if _, err := out.Write(iv); err != nil {
			return err
		}
	}
	enc, err := symmetric.NewSM4CBCEncrypter(out, key, iv)
	if err != nil {
		return err
	}
	if _, err := ctxio.Copy(ctx, enc, in); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return commit()
}

// NewDecryptCmd makes `hegui decrypt`.
func NewDecryptCmd(env *cmdutil.Env) *cobra.Command {
	var opts DecryptOptions
	cmd := &cobra.Command{
		Use:   "decrypt --key-file KEY --out FILE [FILE]",
		Short: "Decrypt an SM4-CBC file (from hegui encrypt or openssl enc -sm4-cbc)",
		Long: `Decrypt reverses encrypt. Without --iv the IV is read from the first 16
bytes of the input. A wrong key or IV, or a damaged file, fails on the
padding check and leaves no output file.`,
		Example: `  hegui decrypt --key-file sm4.key --out backup.tar backup.tar.enc
  openssl enc -sm4-cbc -K $(cat sm4.hex) -iv 000102030405060708090a0b0c0d0e0f -in data -out data.enc
  hegui decrypt --key-file sm4.hex --iv 000102030405060708090a0b0c0d0e0f --out data.out data.enc`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			return RunDecrypt(cmd.Context(), env, opts)
		},
	}
	addCipherFlags(cmd, &opts.KeyFile, &opts.IV, &opts.Out, &opts.Force)
	return cmd
}

// RunDecrypt decrypts an SM4-CBC file. A wrong key or IV, or a damaged
// file, fails the padding check and leaves no output file.
func RunDecrypt(ctx context.Context, env *cmdutil.Env, o DecryptOptions) error {
	key, iv, err := keyAndIV(ctx, o.KeyFile, o.IV, o.Out)
	if err != nil {
		return err
	}
	file := cmp.Or(o.File, "-")
	in, done, err := env.OpenInput(file, "decrypting")
	if err != nil {
		return err
	}
	defer done()
	if iv == nil {
		iv = make([]byte, symmetric.BlockSize)
		if _, err := io.ReadFull(in, iv); err != nil {
			return fmt.Errorf("%s: too short to hold an IV and a ciphertext", file)
		}
	}
	dec, err := symmetric.NewSM4CBCDecrypter(in, key, iv)
	if err != nil {
		return err
	}
	out, commit, abort, err := openOutput(env, o.Out, o.Force)
	if err != nil {
		return err
	}
	defer abort()
	if _, err := ctxio.Copy(ctx, out, dec); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return commit()
}
