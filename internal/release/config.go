package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/inputfile"
)

// ConfigFile is the release root's configuration, read by every command.
const ConfigFile = "release.yaml"

// Config is release.yaml: how the service is restarted and checked, and
// what else an install copies. The command line overrides it field by field.
type Config struct {
	// Restart is a shell command run after each switch ("systemctl restart
	// app"). It runs with HEGUI_RELEASE_VERSION, HEGUI_RELEASE_DIR (the
	// release's directory) and HEGUI_RELEASE_ROOT in its environment.
	Restart string `yaml:"restart"`
	// Signal is sent to the process whose ID is in PIDFile instead of
	// running a command, for services that re-execute themselves
	// (SIGHUP, SIGUSR2...).
	Signal string `yaml:"signal"`
	// PIDFile names the service's PID file. With it, a switch is complete
	// only once that process runs the new release's binary (read from
	// /proc/PID/exe), so that the health check cannot be answered by the
	// version being replaced.
	PIDFile string `yaml:"pidfile"`
	// Health says how to tell the service is healthy.
	Health HealthConfig `yaml:"health"`
	// Files are further files of the delivery to install beside the
	// binaries, by path in the delivery or pattern (documents/*.yaml).
	Files []string `yaml:"files"`
	// Keep, when above zero, prunes all but the newest Keep releases after
	// each successful install (current and previous are always kept).
	Keep int `yaml:"keep"`
	// TrustRoots and Pubs are what deliveries must be signed by, as the
	// --trust-root and --pub flags; relative paths are in the root.
	TrustRoots []string `yaml:"trust-root"`
	Pubs       []string `yaml:"pub"`
	// AuditLog records every install, switch, failure and rollback.
	AuditLog AuditLogConfig `yaml:"audit-log"`
}

// HealthConfig says how to check the service. Every check given must pass.
type HealthConfig struct {
	// HTTP is a URL that must answer GET with a 2xx status.
	HTTP string `yaml:"http"`
	// GRPC is HOST:PORT of a server of the gRPC health-checking protocol
	// (grpc.health.v1.Health/Check must answer SERVING), in plaintext.
	GRPC string `yaml:"grpc"`
	// GRPCService is the service name asked about; empty asks about the
	// server as a whole.
	GRPCService string `yaml:"grpc-service"`
	// Command is a shell command that must exit 0.
	Command string `yaml:"command"`
	// Timeout is how long the service has to become healthy after a
	// restart (default 30s); Interval is the wait between checks (default
	// 200ms); HealthyFor is how long every check must keep passing before
	// the service counts as healthy (default 1s), so a version that
	// answers once and then crashes is caught.
	Timeout    string `yaml:"timeout"`
	Interval   string `yaml:"interval"`
	HealthyFor string `yaml:"healthy-for"`
}

// AuditLogConfig names the transparency audit log (hegui log serve) that
// events are appended to, with a writer token taken from the environment.
type AuditLogConfig struct {
	URL string `yaml:"url"`
	// TokenEnv names the environment variable holding the writer token;
	// empty means HEGUI_LOG_TOKEN.
	TokenEnv string `yaml:"token-env"`
}

// LoadConfig reads root/release.yaml; a root without one has the zero
// Config.
func LoadConfig(root string) (*Config, error) {
	name := filepath.Join(root, ConfigFile)
	data, err := inputfile.Read(context.Background(), name, inputfile.DocumentLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	// Its commands run as whoever runs hegui release (often root): a file
	// others can change is refused, as sshd refuses such a key file.
	if fi, err := os.Stat(name); err == nil && fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%s is writable by group or others (%v), and its restart and health commands run as you: chmod go-w %s", name, fi.Mode().Perm(), name)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return c, nil
}

// ParseConfig decodes release.yaml strictly (an unknown key is an error)
// and checks it.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if err := config.DecodeYAML(data, &c); err != nil {
		return nil, err
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Check reports the first thing wrong with c, worded for release.yaml's
// keys (the flags have the same names).
func (c *Config) Check() error {
	if c.Restart != "" && c.Signal != "" {
		return errors.New("restart and signal: give one way to restart the service, not both")
	}
	if c.Signal != "" {
		if _, err := ParseSignal(c.Signal); err != nil {
			return err
		}
		if c.PIDFile == "" {
			return errors.New("signal: needs pidfile, the file holding the process ID to signal")
		}
	}
	if c.Keep < 0 {
		return fmt.Errorf("keep: %d: give how many releases to keep, at least 2, or 0 to keep all", c.Keep)
	}
	if c.Keep == 1 {
		return errors.New("keep: 1 would leave nothing to roll back to; give at least 2, or 0 to keep all")
	}
	for _, f := range c.Files {
		if _, err := path.Match(f, ""); err != nil || f == "" || path.IsAbs(f) || strings.Contains(f, "\\") {
			return fmt.Errorf("files: %q: give a path in the delivery, with slashes, or a pattern (documents/*.yaml)", f)
		}
	}
	if c.Health.GRPCService != "" && c.Health.GRPC == "" {
		return errors.New("health.grpc-service: needs health.grpc, the HOST:PORT to ask")
	}
	_, err := c.Health.timing()
	return err
}

// healthTiming is HealthConfig's durations, parsed.
type healthTiming struct {
	Timeout, Interval, HealthyFor time.Duration
}

// Defaults of HealthConfig's durations.
const (
	DefaultHealthTimeout    = 30 * time.Second
	DefaultHealthInterval   = 200 * time.Millisecond
	DefaultHealthHealthyFor = time.Second
)

func (h HealthConfig) timing() (healthTiming, error) {
	t := healthTiming{DefaultHealthTimeout, DefaultHealthInterval, DefaultHealthHealthyFor}
	for _, f := range []struct {
		key string
		v   string
		d   *time.Duration
		min time.Duration
	}{
		{"health.timeout", h.Timeout, &t.Timeout, 100 * time.Millisecond},
		{"health.interval", h.Interval, &t.Interval, 10 * time.Millisecond},
		{"health.healthy-for", h.HealthyFor, &t.HealthyFor, 0},
	} {
		if f.v == "" {
			continue
		}
		d, err := time.ParseDuration(f.v)
		if err != nil || d < f.min {
			return t, fmt.Errorf("%s: %q: give a duration of at least %v, such as 30s or 500ms", f.key, f.v, f.min)
		}
		*f.d = d
	}
	if t.HealthyFor >= t.Timeout {
		return t, fmt.Errorf("health.healthy-for (%v) must be shorter than health.timeout (%v)", t.HealthyFor, t.Timeout)
	}
	return t, nil
}

// Merge returns c with every field set in over replacing c's.
func (c Config) Merge(over Config) Config {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	if over.Restart != "" || over.Signal != "" {
		c.Restart, c.Signal = over.Restart, over.Signal
	}
	set(&c.PIDFile, over.PIDFile)
	h := &c.Health
	set(&h.HTTP, over.Health.HTTP)
	set(&h.GRPC, over.Health.GRPC)
	set(&h.GRPCService, over.Health.GRPCService)
	set(&h.Command, over.Health.Command)
	set(&h.Timeout, over.Health.Timeout)
	set(&h.Interval, over.Health.Interval)
	set(&h.HealthyFor, over.Health.HealthyFor)
	if len(over.Files) > 0 {
		c.Files = over.Files
	}
	if over.Keep != 0 {
		c.Keep = over.Keep
	}
	if len(over.TrustRoots) > 0 || len(over.Pubs) > 0 {
		c.TrustRoots, c.Pubs = over.TrustRoots, over.Pubs
	}
	set(&c.AuditLog.URL, over.AuditLog.URL)
	set(&c.AuditLog.TokenEnv, over.AuditLog.TokenEnv)
	return c
}

// signals are the signals a service may ask to be restarted with.
var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
}

// ParseSignal reads a signal name: HUP, SIGHUP, hup.
func ParseSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if sig, ok := signals[name]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("signal: %q: give one of SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGQUIT", s)
}
