// Package keycmd is `hegui key`: generating, importing, exporting and
// inspecting keys, and the keyring's lifecycle, each change recorded in the
// audit log when one is configured (packages keys and keyring do the work).
package keycmd

import (
	"context"
	"crypto"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/keyring"
	"hegui.dev/hegui/keys"
)

// NewKeyCmd makes `hegui key` and its subcommands.
func NewKeyCmd(env *cmdutil.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create, import, export and retire signing keys",
		Long: `Signing keys are SM2 (default), ECDSA P-256 or Ed25519, stored as PKCS#8 PEM.

Private keys are encrypted unless --no-password is given: SM2 keys with
PBKDF2-HMAC-SM3 and SM4-CBC, others with PBKDF2-HMAC-SHA256 and AES-256-CBC.
OpenSSL 3.0 cannot read HMAC-SM3; "hegui key export --openssl" writes a copy
it can read.

Keys in the keyring have a lifecycle: ACTIVE keys sign, DEACTIVATED keys only
verify, DESTROYED keys have lost their private key but keep their public key
so old signatures stay verifiable. A key ID is the SHA-256 of the public key.`,
		Args: cobra.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	for _, add := range []func(*cmdutil.Env) *cobra.Command{
		newKeyGenerateCmd, newKeyImportCmd, newKeyExportCmd, newKeyInspectCmd,
		newKeyListCmd, newKeyRotateCmd, newKeyDeactivateCmd, newKeyDestroyCmd,
	} {
		cmd.AddCommand(add(env))
	}
	return cmd
}

// keyOutput says where a new private key goes: a file (--out) or the
// keyring (--name), and how it is protected.
type keyOutput struct {
	out        string
	pub        string
	name       string
	noPassword bool
	openssl    bool
	iterations int
	force      bool
	password   *cmdutil.PasswordSource
}

func addKeyOutputFlags(cmd *cobra.Command, o *keyOutput, withName bool) {
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "write the private key to `FILE` (mode 0600)")
	cmd.Flags().StringVar(&o.pub, "pub", "", "write the public key to `FILE` (default: --out with .pub)")
	if withName {
		cmd.Flags().StringVar(&o.name, "name", "", "store the key in the keyring under `NAME`")
	}
	cmd.Flags().BoolVar(&o.noPassword, "no-password", false, "store the private key unencrypted")
	cmd.Flags().IntVar(&o.iterations, "kdf-iterations", keys.DefaultIterations, "PBKDF2 iterations for the key encryption")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace existing files")
}

func (o *keyOutput) validate(allowName bool) error {
	switch {
	case allowName && o.out == "" && o.name == "":
		return cmdutil.Usagef("give --out FILE to write a key file, or --name NAME to store the key in the keyring")
	case !allowName && o.out == "":
		return cmdutil.Usagef("--out is required")
	case o.out != "" && o.name != "":
		return cmdutil.Usagef("--out and --name exclude each other")
	case o.name != "" && o.pub != "":
		return cmdutil.Usagef("--pub applies to --out; keyring keys keep their public key beside them")
	case o.iterations < keys.MinIterations || o.iterations > keys.MaxIterations:
		return cmdutil.Usagef("--kdf-iterations must be between %d and %d", keys.MinIterations, keys.MaxIterations)
	}
	if o.out != "" && o.pub == "" {
		if fi, err := os.Stat(o.out); err == nil && !fi.Mode().IsRegular() {
			return cmdutil.Usagef("--out %s is %s: give --pub FILE for the public key, which cannot go beside it", o.out, inputfile.Describe(fi.Mode()))
		}
	}
	return nil
}

func (o *keyOutput) protection(alg keys.Algorithm) keys.Protection {
	p := keys.DefaultProtection(alg)
	if o.openssl {
		p = keys.OpenSSLProtection(alg)
	}
	p.Iterations = o.iterations
	return p
}

// Result is what key commands print with --json.
type Result struct {
	ID         string           `json:"id"`
	Algorithm  keys.Algorithm   `json:"algorithm"`
	Name       string           `json:"name,omitempty"`
	State      keyring.State    `json:"state,omitempty"`
	PrivateKey string           `json:"privateKey,omitempty"`
	PublicKey  string           `json:"publicKey,omitempty"`
	Protection *keys.Protection `json:"protection,omitempty"`
}

// store writes priv to a file pair or the keyring and describes the result.
// When ctx ends before the key is written, also while its password is being
// stretched, nothing is written.
func (o *keyOutput) store(ctx context.Context, env *cmdutil.Env, priv crypto.Signer) (*Result, error) {
	alg, err := keys.AlgorithmOf(priv.Public())
	if err != nil {
		return nil, err
	}
	var password []byte
	if !o.noPassword {
		if password, err = o.password.Get(); err != nil {
			return nil, err
		}
	}
	prot := o.protection(alg)
	if o.name != "" {
		ring, err := env.OpenKeyring()
		if err != nil {
			return nil, err
		}
		e, err := ring.AddContext(ctx, o.name, priv, password, prot)
		if err != nil {
			return nil, err
		}
		return &Result{ID: e.ID, Algorithm: e.Algorithm, Name: e.Name, State: e.State, Protection: e.Protection,
			PrivateKey: ring.PrivateKeyPath(e), PublicKey: ring.PublicKeyPath(e)}, nil
	}
	var privPEM []byte
	res := &Result{Algorithm: alg, PrivateKey: o.out, PublicKey: o.pub}
	if o.noPassword {
		privPEM, err = keys.MarshalPrivateKeyPEM(priv)
	} else {
		privPEM, err = keys.EncryptPrivateKeyPEMContext(ctx, priv, password, prot)
		res.Protection = &prot
	}
	if err != nil {
		return nil, err
	}
	pubPEM, err := keys.MarshalPublicKeyPEM(priv.Public())
	if err != nil {
		return nil, err
	}
	if res.PublicKey == "" {
		res.PublicKey = cmdutil.PublicKeyPath(o.out)
	}
	res.ID, _ = keys.ID(priv.Public())
	if err := writeKeyPair(ctx, o.out, privPEM, res.PublicKey, pubPEM, o.force); err != nil {
		return nil, err
	}
	return res, nil
}

// writeKeyPair writes a private key and its public key. Both are written
// to temporary files first; only when both are complete, and ctx has not
// ended, are they renamed into place: the public key first, the private key
// last. Renaming the private key is the pair's commit: until then an old
// pair that --force replaces is intact, and a crash between the two renames
// leaves the old private key, which is what cannot be recreated, beside the
// new public key (`hegui key export --public` writes the old one again).
func writeKeyPair(ctx context.Context, privPath string, privPEM []byte, pubPath string, pubPEM []byte, force bool) error {
	pub, err := atomicfile.CreateOutput(pubPath, 0o644, !force)
	if err != nil {
		return cmdutil.OutputError(pubPath, err)
	}
	defer pub.Abort()
	priv, err := atomicfile.CreateOutput(privPath, 0o600, !force)
	if err != nil {
		return cmdutil.OutputError(privPath, err)
	}
	defer priv.Abort()
	if _, err := pub.Write(pubPEM); err != nil {
		return cmdutil.OutputError(pubPath, err)
	}
	if _, err := priv.Write(privPEM); err != nil {
		return cmdutil.OutputError(privPath, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("key not written: %w", err)
	}
	if err := pub.Commit(); err != nil {
		return cmdutil.OutputError(pubPath, err)
	}
	if err := priv.Commit(); err != nil {
		err = cmdutil.OutputError(privPath, err)
		switch {
		case pub.InPlace():
			return err
		case !force:
			os.Remove(pubPath) // made just now: nothing was there
			return err
		}
		return fmt.Errorf("%w; %s already holds the new public key, so recreate the one that goes with %s (hegui key export --public)", err, pubPath, privPath)
	}
	return nil
}

func reportKey(env *cmdutil.Env, verb string, r *Result, asJSON bool) error {
	if asJSON {
		return env.PrintJSON(r)
	}
	fmt.Fprintf(env.Stdout, "%s %s key %s\n", verb, r.Algorithm, r.ID)
	if r.Name != "" {
		fmt.Fprintf(env.Stdout, "  keyring name: %s (%s)\n", r.Name, r.State)
	}
	if r.PrivateKey != "" {
		fmt.Fprintf(env.Stdout, "  private key:  %s\n", r.PrivateKey)
	}
	fmt.Fprintf(env.Stdout, "  public key:   %s\n", r.PublicKey)
	if r.Protection != nil {
		fmt.Fprintf(env.Stdout, "  protection:   %s\n", r.Protection)
	} else if r.PrivateKey != "" {
		fmt.Fprintf(env.Stdout, "  protection:   none (unencrypted, as --no-password asked)\n")
	}
	return nil
}

func newKeyGenerateCmd(env *cmdutil.Env) *cobra.Command {
	var o keyOutput
	var algName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "generate (--out FILE | --name NAME)",
		Short: "Generate a new signing key",
		Example: `  # An SM2 key in a file, password from the terminal
  hegui key generate --out release.key

  # An ECDSA P-256 key in the keyring, password from a file
  hegui key generate --alg ecdsa-p256 --name ci --password-file ci.pass

  # An unencrypted key for a throwaway test
  hegui key generate --out test.key --no-password`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			alg, err := keys.ParseAlgorithm(algName)
			if err != nil {
				return cmdutil.UsageError{Err: err}
			}
			if err := o.validate(true); err != nil {
				return err
			}
			priv, err := keys.Generate(alg, nil)
			if err != nil {
				return err
			}
			res, err := o.store(cmd.Context(), env, priv)
			if err != nil {
				return err
			}
			if err := reportKey(env, "Generated", res, asJSON); err != nil {
				return err
			}
			return logKeyEvent(env, cmd.Context(), "key.generate", res.ID, map[string]string{"algorithm": string(res.Algorithm), "name": res.Name})
		},
	}
	cmd.Flags().StringVar(&algName, "alg", "sm2", "key algorithm: sm2, ecdsa-p256 or ed25519")
	addKeyOutputFlags(cmd, &o, true)
	o.password = cmdutil.AddPasswordFlag(cmd, env, "the new key")
	o.password.Confirm = true
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newKeyImportCmd(env *cmdutil.Env) *cobra.Command {
	var o keyOutput
	var asJSON bool
	var source *cmdutil.PasswordSource
	cmd := &cobra.Command{
		Use:   "import FILE (--out FILE | --name NAME)",
		Short: "Import a private key made elsewhere (OpenSSL, GmSSL, another hegui)",
		Long: `Import reads a private key in PKCS#8 (plain or PBES2-encrypted), SEC 1 or DER
form, as OpenSSL writes them, and stores it with hegui's protection.`,
		Example: `  openssl genpkey -algorithm SM2 -out sm2.pem
  hegui key import sm2.pem --name release

  # An encrypted OpenSSL key, re-encrypted under a new password
  hegui key import enc.pem --out release.key --password-file old.pass --new-password-file new.pass`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(true); err != nil {
				return err
			}
			data, err := inputfile.Read(cmd.Context(), args[0], inputfile.KeyLimit)
			if err != nil {
				return fmt.Errorf("read key: %w", err)
			}
			priv, err := keys.ParsePrivateKey(data, source.KeysFunc())
			if err != nil {
				return fmt.Errorf("key %q: %w", args[0], err)
			}
			res, err := o.store(cmd.Context(), env, priv)
			if err != nil {
				return err
			}
			if err := reportKey(env, "Imported", res, asJSON); err != nil {
				return err
			}
			return logKeyEvent(env, cmd.Context(), "key.import", res.ID, map[string]string{"algorithm": string(res.Algorithm), "name": res.Name})
		},
	}
	addKeyOutputFlags(cmd, &o, true)
	source = cmdutil.AddPasswordFlag(cmd, env, "the key being imported")
	o.password = cmdutil.AddNewPasswordFlag(cmd, env, "the stored key", source)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newKeyExportCmd(env *cmdutil.Env) *cobra.Command {
	var o keyOutput
	var public, asJSON bool
	ref := &cmdutil.KeyRef{Env: env}
	cmd := &cobra.Command{
		Use:   "export KEY --out FILE",
		Short: "Write a copy of a key, for OpenSSL or another machine",
		Long: `Export writes a key given as FILE or keyring:NAME|ID to a new file.

--openssl protects the copy with PBKDF2-HMAC-SHA256, which OpenSSL 3.0 reads
(it cannot read hegui's default HMAC-SM3). --public writes the public key only,
which works for keys in any lifecycle state and for private key files.`,
		Example: `  hegui key export keyring:release --openssl --out release-openssl.pem
  openssl pkey -in release-openssl.pem -noout -text

  hegui key export keyring:release --public --out release.pub`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref.Ref = args[0]
			if o.out == "" {
				return cmdutil.Usagef("--out is required")
			}
			if public {
				pub, err := ref.OpenPublic(cmd.Context())
				if err != nil {
					return err
				}
				pubPEM, err := keys.MarshalPublicKeyPEM(pub)
				if err != nil {
					return err
				}
				if err := cmdutil.WriteOutput(o.out, pubPEM, 0o644, o.force); err != nil {
					return err
				}
				id, _ := keys.ID(pub)
				alg, _ := keys.AlgorithmOf(pub)
				return reportKey(env, "Exported", &Result{ID: id, Algorithm: alg, PublicKey: o.out}, asJSON)
			}
			if err := o.validate(false); err != nil {
				return err
			}
			key, err := ref.OpenSigner(cmd.Context())
			if err != nil {
				return err
			}
			defer key.Close()
			if key.OnToken {
				return cmdutil.Usagef("a PKCS#11 key cannot leave its token; use --public to export the public key")
			}
			res, err := o.store(cmd.Context(), env, key.Signer)
			if err != nil {
				return err
			}
			return reportKey(env, "Exported", res, asJSON)
		},
	}
	addKeyOutputFlags(cmd, &o, false)
	cmd.Flags().BoolVar(&o.openssl, "openssl", false, "protect the copy so that OpenSSL 3.0 can read it")
	cmd.Flags().BoolVar(&public, "public", false, "export only the public key")
	ref.Password = cmdutil.AddPasswordFlag(cmd, env, "the key being exported")
	o.password = cmdutil.AddNewPasswordFlag(cmd, env, "the exported copy", ref.Password)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// Inspection is what `key inspect` reports.
type Inspection struct {
	File            string           `json:"file"`
	Kind            string           `json:"kind"` // "private key" or "public key"
	Format          keys.Format      `json:"format,omitempty"`
	PEM             bool             `json:"pem"`
	Protection      *keys.Protection `json:"protection,omitempty"`
	OpenSSLReadable bool             `json:"opensslReadable"`
	Algorithm       keys.Algorithm   `json:"algorithm,omitempty"`
	ID              string           `json:"id,omitempty"`
}

func newKeyInspectCmd(env *cmdutil.Env) *cobra.Command {
	var asJSON, decrypt bool
	var password *cmdutil.PasswordSource
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show how a key file is encoded and protected",
		Long: `Inspect reports a key file's format, its encryption scheme (without the
password), whether OpenSSL 3.0 can read it, and, when the key is not encrypted
or --decrypt is given, its algorithm and key ID.`,
		Example: `  hegui key inspect release.key
  hegui key inspect --decrypt --password-file release.pass release.key --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := inputfile.Read(cmd.Context(), args[0], inputfile.KeyLimit)
			if err != nil {
				return fmt.Errorf("read key: %w", err)
			}
			res := Inspection{File: args[0]}
			if pub, perr := keys.ParsePublicKey(data); perr == nil {
				res.Kind, res.PEM, res.OpenSSLReadable = "public key", strings.Contains(string(data), "-----BEGIN"), true
				res.Algorithm, _ = keys.AlgorithmOf(pub)
				res.ID, _ = keys.ID(pub)
			} else {
				info, err := keys.Inspect(data)
				if err != nil {
					return fmt.Errorf("key %q: %w", args[0], err)
				}
				res.Kind, res.Format, res.PEM, res.Protection = "private key", info.Format, info.PEM, info.Protection
				res.OpenSSLReadable = info.Protection == nil || info.Protection.OpenSSLReadable()
				if info.Protection == nil || decrypt {
					priv, err := keys.ParsePrivateKey(data, password.KeysFunc())
					if err != nil {
						return fmt.Errorf("key %q: %w", args[0], err)
					}
					res.Algorithm, _ = keys.AlgorithmOf(priv.Public())
					res.ID, _ = keys.ID(priv.Public())
				}
			}
			if asJSON {
				return env.PrintJSON(res)
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(w, "File:\t%s\n", res.File)
			if res.Format != "" {
				fmt.Fprintf(w, "Format:\t%s\n", res.Format)
			} else {
				fmt.Fprintf(w, "Format:\t%s\n", res.Kind)
			}
			if res.Protection != nil {
				fmt.Fprintf(w, "Protection:\t%s\n", res.Protection)
			} else if res.Kind == "private key" {
				fmt.Fprintf(w, "Protection:\tnone (unencrypted)\n")
			}
			if res.OpenSSLReadable {
				fmt.Fprintf(w, "OpenSSL 3.0:\tcan read this file\n")
			} else {
				fmt.Fprintf(w, "OpenSSL 3.0:\tcannot read this encryption; write a copy with `hegui key export --openssl`\n")
			}
			if res.Algorithm != "" {
				fmt.Fprintf(w, "Algorithm:\t%s\n", res.Algorithm)
				fmt.Fprintf(w, "Key ID:\t%s\n", res.ID)
			} else {
				fmt.Fprintf(w, "Algorithm:\t(encrypted; add --decrypt to see it)\n")
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&decrypt, "decrypt", false, "decrypt an encrypted key to show its algorithm and ID")
	password = cmdutil.AddPasswordFlag(cmd, env, "the key")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newKeyListCmd(env *cmdutil.Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the keys in the keyring with their lifecycle state",
		Example: "  hegui key list\n  hegui key list --json | jq -r '.[] | select(.state==\"ACTIVE\") | .id'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ring, err := env.OpenKeyring()
			if err != nil {
				return err
			}
			entries, err := ring.List()
			if err != nil {
				return err
			}
			if asJSON {
				if entries == nil {
					entries = []*keyring.Entry{}
				}
				return env.PrintJSON(entries)
			}
			if len(entries) == 0 {
				env.Infof("The keyring %s is empty; add a key with `hegui key generate --name NAME`.", ring.Dir())
				return nil
			}
			w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "KEY ID\tNAME\tALGORITHM\tSTATE\tCREATED\tENCRYPTED")
			for _, e := range entries {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", keys.ShortID(e.ID), e.Name, e.Algorithm, e.State,
					e.Created.Local().Format(time.DateTime), yesNo(e.Protection != nil))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entries as JSON")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newKeyRotateCmd(env *cmdutil.Env) *cobra.Command {
	var o keyOutput
	var algName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Replace a keyring key by a new one and deactivate the old one",
		Long: `Rotate generates a new ACTIVE key under NAME (same algorithm unless --alg) and
moves the current one to DEACTIVATED: it no longer signs, but still verifies
what it signed. The entries record which key replaced which.`,
		Example: "  hegui key rotate release --password-file release.pass",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var alg keys.Algorithm
			if algName != "" {
				a, err := keys.ParseAlgorithm(algName)
				if err != nil {
					return cmdutil.UsageError{Err: err}
				}
				alg = a
			}
			ring, err := env.OpenKeyring()
			if err != nil {
				return err
			}
			old, err := ring.Find(args[0])
			if err != nil {
				return err
			}
			if alg == "" {
				alg = old.Algorithm
			}
			var password []byte
			if !o.noPassword {
				if password, err = o.password.Get(); err != nil {
					return err
				}
			}
			fresh, prev, err := ring.Rotate(cmd.Context(), old.Name, alg, password, o.protection(alg))
			if err != nil {
				return err
			}
			if asJSON {
				if err := env.PrintJSON(map[string]*keyring.Entry{"active": fresh, "deactivated": prev}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(env.Stdout, "Rotated %s: %s is ACTIVE, %s is DEACTIVATED\n", fresh.Name, fresh.ID, prev.ID)
			}
			return logKeyEvent(env, cmd.Context(), "key.rotate", fresh.ID, map[string]string{"name": fresh.Name, "algorithm": string(fresh.Algorithm), "replaces": prev.ID})
		},
	}
	cmd.Flags().StringVar(&algName, "alg", "", "algorithm of the new key (default: that of the current key)")
	cmd.Flags().BoolVar(&o.noPassword, "no-password", false, "store the new private key unencrypted")
	cmd.Flags().IntVar(&o.iterations, "kdf-iterations", keys.DefaultIterations, "PBKDF2 iterations for the key encryption")
	o.password = cmdutil.AddPasswordFlag(cmd, env, "the new key")
	o.password.Confirm = true
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newKeyDeactivateCmd(env *cmdutil.Env) *cobra.Command {
	return &cobra.Command{
		Use:     "deactivate NAME|ID",
		Short:   "Stop a keyring key from signing; it still verifies",
		Example: "  hegui key deactivate release\n  hegui key deactivate 3f9a0c1e",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ring, err := env.OpenKeyring()
			if err != nil {
				return err
			}
			e, err := ring.Deactivate(strings.TrimPrefix(args[0], cmdutil.KeyringScheme))
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Deactivated %s (%s): it verifies but no longer signs\n", e.ID, e.Name)
			return logKeyEvent(env, cmd.Context(), "key.deactivate", e.ID, map[string]string{"name": e.Name})
		},
	}
}

func newKeyDestroyCmd(env *cmdutil.Env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "destroy ID --yes",
		Short: "Overwrite and remove the private key of a deactivated keyring key",
		Long: `Destroy overwrites the private key file of a DEACTIVATED key and removes it;
the public key and metadata stay, so signatures it made remain verifiable.
This cannot be undone, so --yes is required. ACTIVE keys must be deactivated
first.`,
		Example: "  hegui key destroy 3f9a0c1e2b7d4a55 --yes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return cmdutil.Usagef("destroying a private key cannot be undone; add --yes to confirm")
			}
			ring, err := env.OpenKeyring()
			if err != nil {
				return err
			}
			e, err := ring.Destroy(strings.TrimPrefix(args[0], cmdutil.KeyringScheme))
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Destroyed the private key of %s (%s); its public key remains for verification\n", e.ID, e.Name)
			return logKeyEvent(env, cmd.Context(), "key.destroy", e.ID, map[string]string{"name": e.Name})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the destruction")
	return cmd
}
