package cryptocmd

import (
	"bytes"
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

// cipherFlags are shared by encrypt and decrypt.
type cipherFlags struct {
	keyFile string
	ivHex   string
	out     string
	force   bool
}

func addCipherFlags(cmd *cobra.Command, c *cipherFlags) {
	cmd.Flags().StringVar(&c.keyFile, "key-file", "", "SM4 key `FILE`: 16 bytes, or 32 hex digits")
	cmd.Flags().StringVar(&c.ivHex, "iv", "", "IV as 32 hex digits (default: random, stored as the first 16 bytes of the output)")
	cmd.Flags().StringVarP(&c.out, "out", "o", "", "write to `FILE` (\"-\" for standard output)")
	cmd.Flags().BoolVar(&c.force, "force", false, "replace an existing output file")
}

// keyAndIV checks the flags and reads the key. iv is nil when --iv is not
// given.
func (c *cipherFlags) keyAndIV(ctx context.Context) (key, iv []byte, err error) {
	if c.keyFile == "" {
		return nil, nil, cmdutil.Usagef("--key-file is required")
	}
	if c.out == "" {
		return nil, nil, cmdutil.Usagef("--out is required (\"-\" for standard output)")
	}
	if c.ivHex != "" {
		if iv, err = hex.DecodeString(c.ivHex); err != nil || len(iv) != symmetric.BlockSize {
			return nil, nil, cmdutil.Usagef("--iv must be 32 hex digits")
		}
	}
	data, err := inputfile.Read(ctx, c.keyFile, inputfile.KeyLimit)
	if err != nil {
		return nil, nil, fmt.Errorf("read SM4 key: %w", err)
	}
	if len(data) == symmetric.KeySize {
		return data, iv, nil
	}
	if key, err := hex.DecodeString(string(bytes.TrimSpace(data))); err == nil && len(key) == symmetric.KeySize {
		return key, iv, nil
	}
	return nil, nil, fmt.Errorf("SM4 key %q must hold 16 bytes or 32 hex digits", c.keyFile)
}

// output opens the destination: stdout, or a file published only when
// complete, so a failed decryption leaves no partial plaintext behind. A
// device or a pipe is written as the data comes (atomicfile.CreateOutput).
func (c *cipherFlags) output(env *cmdutil.Env) (io.Writer, func() error, func(), error) {
	if c.out == "-" {
		return env.Stdout, func() error { return nil }, func() {}, nil
	}
	f, err := atomicfile.CreateOutput(c.out, 0o600, !c.force)
	if err != nil {
		return nil, nil, nil, cmdutil.OutputError(c.out, err)
	}
	commit := func() error { return cmdutil.OutputError(c.out, f.Commit()) }
	return f, commit, f.Abort, nil
}

// NewEncryptCmd makes `hegui encrypt`.
func NewEncryptCmd(env *cmdutil.Env) *cobra.Command {
	var c cipherFlags
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
			key, iv, err := c.keyAndIV(cmd.Context())
			if err != nil {
				return err
			}
			in, done, err := env.OpenInput(inputArg(args), "encrypting")
			if err != nil {
				return err
			}
			defer done()
			out, commit, abort, err := c.output(env)
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
			if _, err := ctxio.Copy(cmd.Context(), enc, in); err != nil {
				return err
			}
			if err := enc.Close(); err != nil {
				return err
			}
			return commit()
		},
	}
	addCipherFlags(cmd, &c)
	return cmd
}

// NewDecryptCmd makes `hegui decrypt`.
func NewDecryptCmd(env *cmdutil.Env) *cobra.Command {
	var c cipherFlags
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
			key, iv, err := c.keyAndIV(cmd.Context())
			if err != nil {
				return err
			}
			file := inputArg(args)
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
			out, commit, abort, err := c.output(env)
			if err != nil {
				return err
			}
			defer abort()
			if _, err := ctxio.Copy(cmd.Context(), out, dec); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			return commit()
		},
	}
	addCipherFlags(cmd, &c)
	return cmd
}

func inputArg(args []string) string {
	if len(args) == 0 {
		return "-"
	}
	return args[0]
}
