// Package keycmd is `hegui key`: generating, importing, exporting and
// inspecting keys, and the keyring's lifecycle, each change recorded in the
// audit log when one is configured (packages keys and keyring do the work).
//
// Each subcommand has an Options struct and a run function (KeyGenerateOptions
// and RunKeyGenerate, and so on) that tests and other programs call without
// a command line; the cobra commands only fill the Options from flags.
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

// KeyOutput says where a new private key goes, a file (Out) or the keyring
// (Name), and how it is protected: the flags --out, --pub, --name,
// --no-password, --kdf-iterations and --force that generate, import and
// export share.
type KeyOutput struct {
	Out        string // the private key file (written with mode 0600)
	Pub        string // the public key file; "" for Out with .pub
	Name       string // store the key in the keyring under this name instead
	NoPassword bool   // store the private key unencrypted
	OpenSSL    bool   // protect the key so that OpenSSL 3.0 can read it (export --openssl)
	Force      bool   // replace existing files
	// Iterations is the PBKDF2 iteration count, from keys.MinIterations to
	// keys.MaxIterations; zero is refused, as --kdf-iterations 0 is. The
	// command line's default is keys.DefaultIterations.
	Iterations int
	// Password is the password the written key is encrypted with. Nil
	// means the source the command line uses without a password file.
	Password *cmdutil.PasswordSource
}

func addKeyOutputFlags(cmd *cobra.Command, o *KeyOutput, withName bool) {
	cmd.Flags().StringVarP(&o.Out, "out", "o", "", "write the private key to `FILE` (mode 0600)")
	cmd.Flags().StringVar(&o.Pub, "pub", "", "write the public key to `FILE` (default: --out with .pub)")
	if withName {
		cmd.Flags().StringVar(&o.Name, "name", "", "store the key in the keyring under `NAME`")
	}
	cmd.Flags().BoolVar(&o.NoPassword, "no-password", false, "store the private key unencrypted")
	cmd.Flags().IntVar(&o.Iterations, "kdf-iterations", keys.DefaultIterations, "PBKDF2 iterations for the key encryption")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace existing files")
}

func (o *KeyOutput) validate(allowName bool) error {
	switch {
	case allowName && o.Out == "" && o.Name == "":
		return cmdutil.Usagef("give --out FILE to write a key file, or --name NAME to store the key in the keyring")
	case !allowName && o.Out == "":
		return cmdutil.Usagef("--out is required")
	case o.Out != "" && o.Name != "":
		return cmdutil.Usagef("--out and --name exclude each other")
	case o.Name != "" && o.Pub != "":
		return cmdutil.Usagef("--pub applies to --out; keyring keys keep their public key beside them")
	case o.Iterations < keys.MinIterations || o.Iterations > keys.MaxIterations:
		return cmdutil.Usagef("--kdf-iterations must be between %d and %d", keys.MinIterations, keys.MaxIterations)
	}
	if o.Out != "" && o.Pub == "" {
		if fi, err := os.Stat(o.Out); err == nil && !fi.Mode().IsRegular() {
			return cmdutil.Usagef("--out %s is %s: give --pub FILE for the public key, which cannot go beside it", o.Out, inputfile.Describe(fi.Mode()))
		}
	}
	return nil
}

// protection is how a new key of alg is encrypted: hegui's default, or
// what OpenSSL 3.0 reads, with iterations rounds of PBKDF2.
func protection(alg keys.Algorithm, forOpenSSL bool, iterations int) keys.Protection {
	p := keys.DefaultProtection(alg)
	if forOpenSSL {
		p = keys.OpenSSLProtection(alg)
	}
	p.Iterations = iterations
	return p
}

// keyPassword is the source --password-file makes when it is not given:
// $HEGUI_KEY_PASSWORD, else the terminal, asking for the password of what.
// Run functions use it when their Options have no source.
func keyPassword(env *cmdutil.Env, what string, confirm bool) *cmdutil.PasswordSource {
	return &cmdutil.PasswordSource{Env: env, EnvName: cmdutil.EnvKeyPassword, Prompt: "Password for " + what + ": ", Confirm: confirm}
}

// newKeyPassword is the source --new-password-file makes when it is not
// given: $HEGUI_NEW_KEY_PASSWORD, else the password of fallback.
func newKeyPassword(env *cmdutil.Env, what string, fallback *cmdutil.PasswordSource) *cmdutil.PasswordSource {
	return &cmdutil.PasswordSource{Env: env, EnvName: cmdutil.EnvNewKeyPassword, Prompt: "New password for " + what + ": ", Confirm: true, Fallback: fallback}
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
func (o *KeyOutput) store(ctx context.Context, env *cmdutil.Env, priv crypto.Signer) (*Result, error) {
	alg, err := keys.AlgorithmOf(priv.Public())
	if err != nil {
		return nil, err
	}
	var password []byte
	if !o.NoPassword {
		if password, err = o.Password.Get(); err != nil {
			return nil, err
		}
	}
	prot := protection(alg, o.OpenSSL, o.Iterations)
	if o.Name != "" {
		ring, err := env.OpenKeyring()
		if err != nil {
			return nil, err
		}
		e, err := ring.AddContext(ctx, o.Name, priv, password, prot)
		if err != nil {
			return nil, err
		}
		return &Result{ID: e.ID, Algorithm: e.Algorithm, Name: e.Name, State: e.State, Protection: e.Protection,
			PrivateKey: ring.PrivateKeyPath(e), PublicKey: ring.PublicKeyPath(e)}, nil
	}
	var privPEM []byte
	res := &Result{Algorithm: alg, PrivateKey: o.Out, PublicKey: o.Pub}
	if o.NoPassword {
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
		res.PublicKey = cmdutil.PublicKeyPath(o.Out)
	}
	res.ID, _ = keys.ID(priv.Public())
	if err := writeKeyPair(ctx, o.Out, privPEM, res.PublicKey, pubPEM, o.Force); err != nil {
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

// KeyGenerateOptions are the choices of `hegui key generate`.
type KeyGenerateOptions struct {
	Algorithm string // sm2, ecdsa-p256 or ed25519
	// KeyOutput is where the key goes; without a Password source the
	// password comes from $HEGUI_KEY_PASSWORD, else the terminal (twice).
	KeyOutput
	JSON bool // print the result as JSON
}

func newKeyGenerateCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyGenerateOptions
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
			return RunKeyGenerate(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Algorithm, "alg", "sm2", "key algorithm: sm2, ecdsa-p256 or ed25519")
	addKeyOutputFlags(cmd, &opts.KeyOutput, true)
	opts.Password = cmdutil.AddPasswordFlag(cmd, env, "the new key")
	opts.Password.Confirm = true
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// RunKeyGenerate generates a key, writes it to a file pair or the keyring,
// describes it and records the event in the audit log.
func RunKeyGenerate(ctx context.Context, env *cmdutil.Env, o KeyGenerateOptions) error {
	alg, err := keys.ParseAlgorithm(o.Algorithm)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	if err := o.validate(true); err != nil {
		return err
	}
	if o.Password == nil {
		o.Password = keyPassword(env, "the new key", true)
	}
	priv, err := keys.Generate(alg, nil)
	if err != nil {
		return err
	}
	res, err := o.store(ctx, env, priv)
	if err != nil {
		return err
	}
	if err := reportKey(env, "Generated", res, o.JSON); err != nil {
		return err
	}
	return logKeyEvent(ctx, env, "key.generate", res.ID, map[string]string{"algorithm": string(res.Algorithm), "name": res.Name})
}

// KeyImportOptions are the choices of `hegui key import`.
type KeyImportOptions struct {
	File string // the private key to import: PKCS#8, SEC 1, PEM or DER
	// KeyPassword is the password of File when it is encrypted; nil means
	// $HEGUI_KEY_PASSWORD, else the terminal.
	KeyPassword *cmdutil.PasswordSource
	// KeyOutput is where the key goes; without a Password source the
	// stored key's password comes from $HEGUI_NEW_KEY_PASSWORD, else it is
	// KeyPassword's.
	KeyOutput
	JSON bool // print the result as JSON
}

func newKeyImportCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyImportOptions
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
			opts.File = args[0]
			return RunKeyImport(cmd.Context(), env, opts)
		},
	}
	addKeyOutputFlags(cmd, &opts.KeyOutput, true)
	opts.KeyPassword = cmdutil.AddPasswordFlag(cmd, env, "the key being imported")
	opts.Password = cmdutil.AddNewPasswordFlag(cmd, env, "the stored key", opts.KeyPassword)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// RunKeyImport reads a private key made elsewhere, stores it with hegui's
// protection, describes it and records the event in the audit log.
func RunKeyImport(ctx context.Context, env *cmdutil.Env, o KeyImportOptions) error {
	if err := o.validate(true); err != nil {
		return err
	}
	if o.KeyPassword == nil {
		o.KeyPassword = keyPassword(env, "the key being imported", false)
	}
	if o.Password == nil {
		o.Password = newKeyPassword(env, "the stored key", o.KeyPassword)
	}
	data, err := inputfile.Read(ctx, o.File, inputfile.KeyLimit)
	if err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	priv, err := keys.ParsePrivateKey(data, o.KeyPassword.KeysFunc())
	if err != nil {
		return fmt.Errorf("key %q: %w", o.File, err)
	}
	res, err := o.store(ctx, env, priv)
	if err != nil {
		return err
	}
	if err := reportKey(env, "Imported", res, o.JSON); err != nil {
		return err
	}
	return logKeyEvent(ctx, env, "key.import", res.ID, map[string]string{"algorithm": string(res.Algorithm), "name": res.Name})
}

// KeyExportOptions are the choices of `hegui key export`.
type KeyExportOptions struct {
	Key    string // the key to export: FILE, keyring:NAME|ID or pkcs11:URI
	Public bool   // write only the public key, to Out
	// KeyPassword is the password of Key when it is encrypted; nil means
	// $HEGUI_KEY_PASSWORD, else the terminal.
	KeyPassword *cmdutil.PasswordSource
	// KeyOutput is where the copy goes, always a file (Name must be empty);
	// without a Password source the copy's password comes from
	// $HEGUI_NEW_KEY_PASSWORD, else it is KeyPassword's.
	KeyOutput
	JSON bool // print the result as JSON
}

func newKeyExportCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyExportOptions
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
			opts.Key = args[0]
			return RunKeyExport(cmd.Context(), env, opts)
		},
	}
	addKeyOutputFlags(cmd, &opts.KeyOutput, false)
	cmd.Flags().BoolVar(&opts.OpenSSL, "openssl", false, "protect the copy so that OpenSSL 3.0 can read it")
	cmd.Flags().BoolVar(&opts.Public, "public", false, "export only the public key")
	opts.KeyPassword = cmdutil.AddPasswordFlag(cmd, env, "the key being exported")
	opts.Password = cmdutil.AddNewPasswordFlag(cmd, env, "the exported copy", opts.KeyPassword)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// RunKeyExport writes a copy of a key, or of its public key, to a new file
// and describes it. A key in a PKCS#11 token cannot be exported, only its
// public key.
func RunKeyExport(ctx context.Context, env *cmdutil.Env, o KeyExportOptions) error {
	if o.KeyPassword == nil {
		o.KeyPassword = keyPassword(env, "the key being exported", false)
	}
	if o.Password == nil {
		o.Password = newKeyPassword(env, "the exported copy", o.KeyPassword)
	}
	ref := &cmdutil.KeyRef{Env: env, Ref: o.Key, Password: o.KeyPassword}
	if o.Out == "" {
		return cmdutil.Usagef("--out is required")
	}
	if o.Public {
		pub, err := ref.OpenPublic(ctx)
		if err != nil {
			return err
		}
		pubPEM, err := keys.MarshalPublicKeyPEM(pub)
		if err != nil {
			return err
		}
		if err := cmdutil.WriteOutput(o.Out, pubPEM, 0o644, o.Force); err != nil {
			return err
		}
		id, _ := keys.ID(pub)
		alg, _ := keys.AlgorithmOf(pub)
		return reportKey(env, "Exported", &Result{ID: id, Algorithm: alg, PublicKey: o.Out}, o.JSON)
	}
	if err := o.validate(false); err != nil {
		return err
	}
	key, err := ref.OpenSigner(ctx)
	if err != nil {
		return err
	}
	defer key.Close()
	if key.OnToken {
		return cmdutil.Usagef("a PKCS#11 key cannot leave its token; use --public to export the public key")
	}
	res, err := o.store(ctx, env, key.Signer)
	if err != nil {
		return err
	}
	return reportKey(env, "Exported", res, o.JSON)
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

// KeyInspectOptions are the choices of `hegui key inspect`.
type KeyInspectOptions struct {
	File    string // the key file: a private or a public key
	Decrypt bool   // decrypt an encrypted private key to find its algorithm and ID
	// Password is the password of File for Decrypt; nil means
	// $HEGUI_KEY_PASSWORD, else the terminal.
	Password *cmdutil.PasswordSource
	JSON     bool // print the Inspection as JSON
}

func newKeyInspectCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyInspectOptions
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
			opts.File = args[0]
			return RunKeyInspect(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Decrypt, "decrypt", false, "decrypt an encrypted key to show its algorithm and ID")
	opts.Password = cmdutil.AddPasswordFlag(cmd, env, "the key")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// RunKeyInspect prints how a key file is encoded and protected, and, when
// it is not encrypted or Decrypt is set, the key's algorithm and ID.
func RunKeyInspect(ctx context.Context, env *cmdutil.Env, o KeyInspectOptions) error {
	if o.Password == nil {
		o.Password = keyPassword(env, "the key", false)
	}
	res, err := inspectKey(ctx, o.File, o.Decrypt, o.Password)
	if err != nil {
		return err
	}
	if o.JSON {
		return env.PrintJSON(res)
	}
	return printInspection(env, res)
}

// inspectKey reads the key file and describes it; it asks for the password
// only when decrypt is set and the key is encrypted.
func inspectKey(ctx context.Context, file string, decrypt bool, password *cmdutil.PasswordSource) (*Inspection, error) {
	data, err := inputfile.Read(ctx, file, inputfile.KeyLimit)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	res := &Inspection{File: file}
	if pub, perr := keys.ParsePublicKey(data); perr == nil {
		res.Kind, res.PEM, res.OpenSSLReadable = "public key", strings.Contains(string(data), "-----BEGIN"), true
		res.Algorithm, _ = keys.AlgorithmOf(pub)
		res.ID, _ = keys.ID(pub)
		return res, nil
	}
	info, err := keys.Inspect(data)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", file, err)
	}
	res.Kind, res.Format, res.PEM, res.Protection = "private key", info.Format, info.PEM, info.Protection
	res.OpenSSLReadable = info.Protection == nil || info.Protection.OpenSSLReadable()
	if info.Protection == nil || decrypt {
		priv, err := keys.ParsePrivateKey(data, password.KeysFunc())
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", file, err)
		}
		res.Algorithm, _ = keys.AlgorithmOf(priv.Public())
		res.ID, _ = keys.ID(priv.Public())
	}
	return res, nil
}

func printInspection(env *cmdutil.Env, res *Inspection) error {
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
}

// KeyListOptions are the choices of `hegui key list`.
type KeyListOptions struct {
	JSON bool // print the keyring entries as JSON
}

func newKeyListCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyListOptions
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the keys in the keyring with their lifecycle state",
		Example: "  hegui key list\n  hegui key list --json | jq -r '.[] | select(.state==\"ACTIVE\") | .id'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunKeyList(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the entries as JSON")
	return cmd
}

// RunKeyList prints the keys in the keyring with their lifecycle state: a
// table, or a JSON array of keyring entries.
func RunKeyList(ctx context.Context, env *cmdutil.Env, o KeyListOptions) error {
	ring, err := env.OpenKeyring()
	if err != nil {
		return err
	}
	entries, err := ring.List()
	if err != nil {
		return err
	}
	if o.JSON {
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
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// KeyRotateOptions are the choices of `hegui key rotate`.
type KeyRotateOptions struct {
	Name       string // the keyring name whose ACTIVE key is replaced
	Algorithm  string // of the new key; "" for that of the current key
	NoPassword bool   // store the new private key unencrypted
	Iterations int    // PBKDF2 iterations for the new key's encryption
	// Password is the new key's password; nil means $HEGUI_KEY_PASSWORD,
	// else the terminal (twice).
	Password *cmdutil.PasswordSource
	JSON     bool // print the new and the deactivated entry as JSON
}

func newKeyRotateCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyRotateOptions
	cmd := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Replace a keyring key by a new one and deactivate the old one",
		Long: `Rotate generates a new ACTIVE key under NAME (same algorithm unless --alg) and
moves the current one to DEACTIVATED: it no longer signs, but still verifies
what it signed. The entries record which key replaced which.`,
		Example: "  hegui key rotate release --password-file release.pass",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return RunKeyRotate(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Algorithm, "alg", "", "algorithm of the new key (default: that of the current key)")
	cmd.Flags().BoolVar(&opts.NoPassword, "no-password", false, "store the new private key unencrypted")
	cmd.Flags().IntVar(&opts.Iterations, "kdf-iterations", keys.DefaultIterations, "PBKDF2 iterations for the key encryption")
	opts.Password = cmdutil.AddPasswordFlag(cmd, env, "the new key")
	opts.Password.Confirm = true
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// RunKeyRotate replaces the ACTIVE key of a keyring name by a new one,
// deactivates the old one, says so and records the event in the audit log.
func RunKeyRotate(ctx context.Context, env *cmdutil.Env, o KeyRotateOptions) error {
	var alg keys.Algorithm
	if o.Algorithm != "" {
		a, err := keys.ParseAlgorithm(o.Algorithm)
		if err != nil {
			return cmdutil.UsageError{Err: err}
		}
		alg = a
	}
	if o.Password == nil {
		o.Password = keyPassword(env, "the new key", true)
	}
	ring, err := env.OpenKeyring()
	if err != nil {
		return err
	}
	old, err := ring.Find(o.Name)
	if err != nil {
		return err
	}
	if alg == "" {
		alg = old.Algorithm
	}
	var password []byte
	if !o.NoPassword {
		if password, err = o.Password.Get(); err != nil {
			return err
		}
	}
	fresh, prev, err := ring.Rotate(ctx, old.Name, alg, password, protection(alg, false, o.Iterations))
	if err != nil {
		return err
	}
	if o.JSON {
		if err := env.PrintJSON(map[string]*keyring.Entry{"active": fresh, "deactivated": prev}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.Stdout, "Rotated %s: %s is ACTIVE, %s is DEACTIVATED\n", fresh.Name, fresh.ID, prev.ID)
	}
	return logKeyEvent(ctx, env, "key.rotate", fresh.ID, map[string]string{"name": fresh.Name, "algorithm": string(fresh.Algorithm), "replaces": prev.ID})
}

// KeyDeactivateOptions are the choices of `hegui key deactivate`.
type KeyDeactivateOptions struct {
	Key string // NAME or ID (a prefix of 8 digits or more) of a keyring key, keyring: optional
}

func newKeyDeactivateCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyDeactivateOptions
	return &cobra.Command{
		Use:     "deactivate NAME|ID",
		Short:   "Stop a keyring key from signing; it still verifies",
		Example: "  hegui key deactivate release\n  hegui key deactivate 3f9a0c1e",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Key = args[0]
			return RunKeyDeactivate(cmd.Context(), env, opts)
		},
	}
}

// RunKeyDeactivate moves an ACTIVE keyring key to DEACTIVATED, says so and
// records the event in the audit log.
func RunKeyDeactivate(ctx context.Context, env *cmdutil.Env, o KeyDeactivateOptions) error {
	ring, err := env.OpenKeyring()
	if err != nil {
		return err
	}
	e, err := ring.Deactivate(strings.TrimPrefix(o.Key, cmdutil.KeyringScheme))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Deactivated %s (%s): it verifies but no longer signs\n", e.ID, e.Name)
	return logKeyEvent(ctx, env, "key.deactivate", e.ID, map[string]string{"name": e.Name})
}

// KeyDestroyOptions are the choices of `hegui key destroy`.
type KeyDestroyOptions struct {
	Key string // ID (a prefix of 8 digits or more) of a DEACTIVATED keyring key, keyring: optional
	Yes bool   // confirm the destruction, which cannot be undone
}

func newKeyDestroyCmd(env *cmdutil.Env) *cobra.Command {
	var opts KeyDestroyOptions
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
			opts.Key = args[0]
			return RunKeyDestroy(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "confirm the destruction")
	return cmd
}

// RunKeyDestroy overwrites and removes the private key of a DEACTIVATED
// keyring key, keeping its public key, says so and records the event in
// the audit log. Without Yes it is a usage error.
func RunKeyDestroy(ctx context.Context, env *cmdutil.Env, o KeyDestroyOptions) error {
	if !o.Yes {
		return cmdutil.Usagef("destroying a private key cannot be undone; add --yes to confirm")
	}
	ring, err := env.OpenKeyring()
	if err != nil {
		return err
	}
	e, err := ring.Destroy(strings.TrimPrefix(o.Key, cmdutil.KeyringScheme))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Destroyed the private key of %s (%s); its public key remains for verification\n", e.ID, e.Name)
	return logKeyEvent(ctx, env, "key.destroy", e.ID, map[string]string{"name": e.Name})
}
