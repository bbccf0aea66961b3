// Package logserver runs a hegui transparency audit log: a Tessera
// appender behind an authenticated HTTP write API, with the C2SP
// tlog-tiles read API served beside it. It is the server half of package
// translog and is not meant to be imported by other programs.
//
// A log lives in a home directory that `hegui log init` creates:
//
//	log.yaml            origin, storage driver and batching (Config)
//	log.pub             verifier keys: Ed25519, then SM2 (public, give to clients)
//	keys/ed25519.pem    checkpoint signing keys, PKCS#8 (mode 0600; encrypted
//	keys/sm2.pem        when HEGUI_LOG_KEY_PASSWORD was set at init)
//	writers             who may append (Writers), token hashes only
//	data/               the tlog-tiles files of the POSIX driver
//	serve.lock          locked by the running server (POSIX driver; LockFile)
package logserver

import (
	"context"

	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/inputfile"

	"github.com/goccy/go-yaml"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// Files of a log home.
const (
	ConfigFile    = "log.yaml"
	PublicKeyFile = "log.pub"
	WritersFile   = "writers"
	DataDir       = "data"
	keysDir       = "keys"
)

// KeyPasswordEnv names the environment variable holding the password of
// the checkpoint keys. Set at init, the keys are written encrypted.
const KeyPasswordEnv = "HEGUI_LOG_KEY_PASSWORD"

// Config is log.yaml.
type Config struct {
	// Origin is the log's name, the first line of its checkpoints and the
	// name of its keys, e.g. "audit.example.com/prod".
	Origin string `yaml:"origin"`
	// Storage says where entries and tiles are kept.
	Storage StorageConfig `yaml:"storage"`
	// Batching groups concurrent appends into one durable write. Small
	// batches with a short age keep request latency low; see
	// docs/audit-log.md for the measurements behind the defaults.
	Batching struct {
		MaxSize uint     `yaml:"max-size"`
		MaxAge  Duration `yaml:"max-age"`
	} `yaml:"batching"`
	// CheckpointInterval is how often a new checkpoint is signed.
	CheckpointInterval Duration `yaml:"checkpoint-interval"`
	// Pushback is how many appends may wait for integration before the
	// server answers 503.
	Pushback uint `yaml:"pushback"`
}

// Defaults: a batch is written when 256 entries wait or the oldest has
// waited 10 ms, whichever comes first; checkpoints every second.
const (
	DefaultBatchMaxSize       = 256
	DefaultBatchMaxAge        = 10 * time.Millisecond
	DefaultCheckpointInterval = time.Second
	DefaultPushback           = 4096
)

// Duration is a time.Duration written as "10ms", "1s" in YAML.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", v)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (c *Config) applyDefaults() {
	if c.Storage.Driver == "" {
		c.Storage.Driver = "posix"
	}
	if c.Batching.MaxSize == 0 {
		c.Batching.MaxSize = DefaultBatchMaxSize
	}
	if c.Batching.MaxAge == 0 {
		c.Batching.MaxAge = Duration(DefaultBatchMaxAge)
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = Duration(DefaultCheckpointInterval)
	}
	if c.Pushback == 0 {
		c.Pushback = DefaultPushback
	}
}

// Home is an initialised log home directory.
type Home struct {
	Dir    string
	Config Config
}

// InitOptions tune a new log.
type InitOptions struct {
	Origin string
	// NoSM2 leaves out the SM2 checkpoint key.
	NoSM2 bool
	// Password encrypts the keys when not empty.
	Password []byte
	Storage  StorageConfig
}

// Init creates a log home in dir, which must not exist or be empty: keys,
// log.pub, log.yaml, an empty writers file and the data directory.
func Init(dir string, opts InitOptions) (h *Home, err error) {
	if opts.Origin == "" || strings.ContainsAny(opts.Origin, "+ \t\n") {
		return nil, fmt.Errorf("origin %q must be non-empty with no spaces or '+' (e.g. audit.example.com/prod)", opts.Origin)
	}
	cfg := Config{Origin: opts.Origin, Storage: opts.Storage}
	cfg.applyDefaults()
	if cfg.Storage.Driver == "posix" && cfg.Storage.Path == "" {
		cfg.Storage.Path = DataDir
	}
	if err := cfg.Storage.Check(); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return nil, fmt.Errorf("%s is not empty: a log home is created in a new or empty directory", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	existed := err == nil
	defer func() {
		// Nothing half-made stays behind.
		if err != nil {
			if existed {
				for _, name := range []string{keysDir, ConfigFile, PublicKeyFile, WritersFile, cfg.Storage.Path} {
					if name != "" && !filepath.IsAbs(name) {
						os.RemoveAll(filepath.Join(dir, name))
					}
				}
			} else {
				os.RemoveAll(dir)
			}
		}
	}()
	if err := os.MkdirAll(filepath.Join(dir, keysDir), 0o700); err != nil {
		return nil, err
	}
	algs := []keys.Algorithm{keys.Ed25519}
	if !opts.NoSM2 {
		algs = append(algs, keys.SM2)
	}
	var pub strings.Builder
	fmt.Fprintf(&pub, "# Verifier keys of the hegui audit log %q (C2SP signed-note).\n# Give this file to everyone who checks the log.\n", opts.Origin)
	for _, alg := range algs {
		k, err := keys.Generate(alg, rand.Reader)
		if err != nil {
			return nil, err
		}
		var pemBytes []byte
		if len(opts.Password) > 0 {
			pemBytes, err = keys.EncryptPrivateKeyPEM(k, opts.Password, keys.DefaultProtection(alg))
		} else {
			pemBytes, err = keys.MarshalPrivateKeyPEM(k)
		}
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteNew(filepath.Join(dir, keysDir, string(alg)+".pem"), pemBytes, 0o600); err != nil {
			return nil, err
		}
		vkey, err := translog.VerifierKey(opts.Origin, k.Public())
		if err != nil {
			return nil, err
		}
		pub.WriteString(vkey + "\n")
	}
	data, err := yaml.MarshalWithOptions(cfg, yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	header := "# hegui audit log. See docs/audit-log.md.\n"
	for _, f := range []struct {
		name string
		data string
		mode os.FileMode
	}{
		{ConfigFile, header + string(data), 0o644},
		{PublicKeyFile, pub.String(), 0o644},
		{WritersFile, writersHeader, 0o600},
	} {
		if err := atomicfile.WriteNew(filepath.Join(dir, f.name), []byte(f.data), f.mode); err != nil {
			return nil, err
		}
	}
	if cfg.Storage.Driver == "posix" {
		if err := os.MkdirAll(filepath.Join(dir, cfg.Storage.Path), 0o755); err != nil {
			return nil, err
		}
	}
	return &Home{Dir: dir, Config: cfg}, nil
}

// Open reads the log home in dir.
func Open(dir string) (*Home, error) {
	data, err := inputfile.Read(context.Background(), filepath.Join(dir, ConfigFile), config.MaxYAMLSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a log home (no %s): create one with `hegui log init`", dir, ConfigFile)
	}
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := config.DecodeYAML(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), err)
	}
	if cfg.Origin == "" {
		return nil, fmt.Errorf("%s: origin is missing", filepath.Join(dir, ConfigFile))
	}
	cfg.applyDefaults()
	return &Home{Dir: dir, Config: cfg}, nil
}

// Verifiers reads log.pub.
func (h *Home) Verifiers() ([]note.Verifier, error) {
	vs, err := translog.ReadVerifierKeys(filepath.Join(h.Dir, PublicKeyFile))
	if err != nil {
		return nil, err
	}
	if vs[0].Name() != h.Config.Origin {
		return nil, fmt.Errorf("%s is for log %q, %s says %q", PublicKeyFile, vs[0].Name(), ConfigFile, h.Config.Origin)
	}
	return vs, nil
}

// Signers loads the checkpoint keys: Ed25519 first (the primary signature
// witnesses and standard tooling check), then SM2 if present. password is
// called only for encrypted keys.
func (h *Home) Signers(password keys.PasswordFunc) ([]note.Signer, error) {
	var out []note.Signer
	for _, alg := range []keys.Algorithm{keys.Ed25519, keys.SM2} {
		p := filepath.Join(h.Dir, keysDir, string(alg)+".pem")
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && alg != keys.Ed25519 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("checkpoint key: %w", err)
		}
		k, err := keys.ParsePrivateKey(data, password)
		if err != nil {
			return nil, fmt.Errorf("checkpoint key %s: %w", p, err)
		}
		s, err := translog.NewSigner(h.Config.Origin, k)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
