package modproxy

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/github/go-spdx/v2/spdxexp"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/modverify"
	"hegui.dev/hegui/internal/vulndb"
	"hegui.dev/hegui/keys"
)

// Files in a proxy home (the DIR of `hegui proxy serve DIR`).
const (
	// ConfigFile is the optional configuration.
	ConfigFile = "proxy.yaml"
	// TokensFile holds the clients' token hashes (hegui proxy token add).
	TokensFile = "tokens"
	// StoreDir is where the dir storage driver keeps modules.
	StoreDir = "store"
	// TempDir holds downloads being verified.
	TempDir = "tmp"
)

// Config is proxy.yaml. Every setting is optional; paths are relative to
// the proxy home.
type Config struct {
	// Upstream is the GOPROXY public modules come from; empty means
	// $GOPROXY's first URL.
	Upstream string `yaml:"upstream"`
	// SumDB is the checksum database's verifier key; empty means $GOSUMDB
	// when that is a key, else sum.golang.org.
	SumDB string `yaml:"sumdb"`
	// SumDBURL is where the checksum database is read; empty means through
	// the upstream (UPSTREAM/sumdb/NAME).
	SumDBURL string `yaml:"sumdb-url"`
	// Offline never contacts the upstream.
	Offline bool `yaml:"offline"`
	// Storage says where modules are kept.
	Storage StorageConfig `yaml:"storage"`
	// Internal configures internal modules.
	Internal InternalConfig `yaml:"internal"`
	// Auth configures client authentication.
	Auth AuthConfig `yaml:"auth"`
	// Policy is the policy at the door.
	Policy PolicyConfig `yaml:"policy"`
	// Audit records fetches and refusals in an audit log.
	Audit AuditConfig `yaml:"audit"`
	// PrivateSumDB runs the proxy's own checksum database.
	PrivateSumDB *PrivateSumDBConfig `yaml:"private-sumdb"`
	// Prefetch is how many module files (go.mod files a fetched go.mod
	// requires, zips of versions whose .info a client asked for) are
	// fetched ahead of the client at a time; unset means DefaultPrefetch,
	// 0 none.
	Prefetch *int `yaml:"prefetch"`
	// PrefetchZips, when false, keeps prefetching to go.mod files: the zip
	// of a version whose .info a client asks for is not fetched ahead.
	PrefetchZips *bool `yaml:"prefetch-zips"`
}

// PrivateSumDBConfig configures the proxy's own checksum database.
type PrivateSumDBConfig struct {
	// Name is the database's name ("sum.corp.example"), used when the key
	// is made.
	Name string `yaml:"name"`
	// Key is the note signing key file (default HOME/private-sumdb.key),
	// made with its verifier key (KEY.vkey, for clients' GOSUMDB) when
	// missing.
	Key string `yaml:"key"`
	// SM2Key, if set, is an SM2 private key file (PEM, unencrypted) that
	// co-signs every tree head.
	SM2Key string `yaml:"sm2-key"`
}

// VerifierKeySuffix follows the private checksum database's key file for
// the file holding its verifier key.
const VerifierKeySuffix = ".vkey"

// OpenPrivateSumDB reads (or makes) the private checksum database's keys.
// It returns the configuration for Options and the verifier key clients
// set as GOSUMDB.
func (c *Config) OpenPrivateSumDB(home string) (*PrivateSumDB, string, error) {
	pc := c.PrivateSumDB
	keyFile := cmp.Or(homePath(home, pc.Key), filepath.Join(home, "private-sumdb.key"))
	data, err := inputfile.Read(context.Background(), keyFile, inputfile.KeyLimit)
	if errors.Is(err, fs.ErrNotExist) {
		if pc.Name == "" {
			return nil, "", fmt.Errorf("private-sumdb: %s does not exist and no name is set to make it with", keyFile)
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, pc.Name)
		if err != nil {
			return nil, "", fmt.Errorf("private-sumdb: %v", err)
		}
		if err := atomicfile.WriteNew(keyFile, []byte(skey+"\n"), 0o600); err != nil {
			return nil, "", fmt.Errorf("private-sumdb: %v", err)
		}
		if err := atomicfile.WriteFile(keyFile+VerifierKeySuffix, []byte(vkey+"\n"), 0o644); err != nil {
			return nil, "", fmt.Errorf("private-sumdb: %v", err)
		}
		data = []byte(skey)
	} else if err != nil {
		return nil, "", fmt.Errorf("private-sumdb: %v", err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, "", fmt.Errorf("private-sumdb: %s: %v", keyFile, err)
	}
	if pc.Name != "" && pc.Name != signer.Name() {
		return nil, "", fmt.Errorf("private-sumdb: the key %s is for %s, not %s", keyFile, signer.Name(), pc.Name)
	}
	vdata, err := inputfile.Read(context.Background(), keyFile+VerifierKeySuffix, inputfile.KeyLimit)
	if err != nil {
		return nil, "", fmt.Errorf("private-sumdb: the verifier key: %v", err)
	}
	vkey := strings.TrimSpace(string(vdata))
	if v, err := note.NewVerifier(vkey); err != nil || v.Name() != signer.Name() || v.KeyHash() != signer.KeyHash() {
		return nil, "", fmt.Errorf("private-sumdb: %s%s is not the verifier key of %s", keyFile, VerifierKeySuffix, keyFile)
	}
	db := &PrivateSumDB{Signer: signer}
	if pc.SM2Key != "" {
		data, err := inputfile.Read(context.Background(), homePath(home, pc.SM2Key), inputfile.KeyLimit)
		if err != nil {
			return nil, "", fmt.Errorf("private-sumdb.sm2-key: %v", err)
		}
		if db.SM2, err = keys.ParsePrivateKey(data, func() ([]byte, error) {
			return nil, errors.New("the key is encrypted: give the proxy an unencrypted key file (kept readable by it alone)")
		}); err != nil {
			return nil, "", fmt.Errorf("private-sumdb.sm2-key: %v", err)
		}
	}
	return db, vkey, nil
}

// AuditConfig says what the proxy records in a transparency audit log.
type AuditConfig struct {
	// URL is the log (hegui log serve); empty records nothing.
	URL string `yaml:"url"`
	// TokenEnv is the variable holding a writer token that may log
	// "proxy.*" (default HEGUI_LOG_TOKEN).
	TokenEnv string `yaml:"token-env"`
	// Fetches is none (the default), sample or all: which served zips are
	// recorded. Refusals and corrupted files are always recorded.
	Fetches string `yaml:"fetches"`
	// SampleEvery records one fetch in so many with fetches: sample
	// (default 100).
	SampleEvery int `yaml:"sample-every"`
	// Spool keeps events while the log is unreachable (default
	// HOME/audit.spool).
	Spool string `yaml:"spool"`
}

// StorageConfig selects the storage driver.
type StorageConfig struct {
	// Driver is "dir" (the default: HOME/store) or "s3".
	Driver string `yaml:"driver"`
	// Dir is the dir driver's directory (default HOME/store).
	Dir string `yaml:"dir"`
	// Bucket, Prefix, Endpoint, Region and PathStyle configure the s3
	// driver; credentials come from the environment (AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY) or the AWS shared configuration.
	Bucket    string `yaml:"bucket"`
	Prefix    string `yaml:"prefix"`
	Endpoint  string `yaml:"endpoint"`
	Region    string `yaml:"region"`
	PathStyle bool   `yaml:"path-style"`
}

// InternalConfig configures internal modules.
type InternalConfig struct {
	// Modules are the internal module path patterns, in GOPRIVATE syntax
	// (comma-separated globs) or as a list.
	Modules []string `yaml:"modules"`
	// Publishers are the public key files of those who may publish
	// internal modules.
	Publishers []string `yaml:"publishers"`
	// AuditLog is the audit log internal publications are recorded in.
	AuditLog AuditLogConfig `yaml:"audit-log"`
}

// AuditLogConfig names an audit log.
type AuditLogConfig struct {
	// URL is the log's address (hegui log serve).
	URL string `yaml:"url"`
	// PublicKeys is the log's verifier keys file (log.pub).
	PublicKeys string `yaml:"public-keys"`
	// TokenEnv is the environment variable holding the writer's token.
	TokenEnv string `yaml:"token-env"`
}

// AuthConfig configures who may read.
type AuthConfig struct {
	// Tokens is the tokens file; default HOME/tokens. Without one, anyone
	// who reaches the proxy reads.
	Tokens string `yaml:"tokens"`
	// Anonymous lets requests without a token read even with a tokens file.
	Anonymous bool `yaml:"anonymous"`
}

// PolicyConfig is the policy at the door.
type PolicyConfig struct {
	Allow  []RuleConfig `yaml:"allow"`
	Deny   []RuleConfig `yaml:"deny"`
	MinAge string       `yaml:"min-age"`
	// Licenses admits public zips by licence (SPDX expressions, as
	// hegui.yaml's policy.licenses).
	Licenses *LicensesConfig `yaml:"licenses"`
	// Vulnerabilities refuses public zips of versions known to be
	// vulnerable.
	Vulnerabilities *VulnsConfig `yaml:"vulnerabilities"`
}

// LicensesConfig is the licence gate.
type LicensesConfig struct {
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
}

// VulnsConfig is the vulnerability gate.
type VulnsConfig struct {
	// Refuse turns the gate on.
	Refuse bool `yaml:"refuse"`
	// Database is the offline vulnerability database (default
	// $HEGUI_VULNDB, else hegui's cache, where hegui vulndb update puts it).
	Database string `yaml:"database"`
	// Accept lists entries (GO-… or an alias such as CVE-…) whose risk is
	// accepted.
	Accept []string `yaml:"accept"`
}

// RuleConfig is one allow or deny rule.
type RuleConfig struct {
	Module   string `yaml:"module"`
	Versions string `yaml:"versions"`
	Reason   string `yaml:"reason"`
}

// LoadConfig reads HOME/proxy.yaml; a home without one has the defaults.
func LoadConfig(home string) (*Config, error) {
	var c Config
	// A regular file, bounded: a FIFO in its place is refused, not waited on.
	data, err := inputfile.Read(context.Background(), filepath.Join(home, ConfigFile), inputfile.DocumentLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(home, ConfigFile), err)
	}
	return cfg, nil
}

// ParseConfig decodes proxy.yaml strictly: an unknown key is an error.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	if err := config.DecodeYAML(data, &c); err != nil {
		return nil, err
	}
	if c.Prefetch != nil && (*c.Prefetch < 0 || *c.Prefetch > maxPrefetchWorkers) {
		return nil, fmt.Errorf("prefetch: %d: give how many module files to fetch ahead at a time, 0 (none) to %d", *c.Prefetch, maxPrefetchWorkers)
	}
	return &c, nil
}

// maxPrefetchWorkers bounds prefetch in proxy.yaml.
const maxPrefetchWorkers = 64

// prefetchOption is Options.Prefetch for the configured value.
func (c *Config) prefetchOption() int {
	switch {
	case c.Prefetch == nil:
		return 0 // the default
	case *c.Prefetch == 0:
		return -1
	}
	return *c.Prefetch
}

// path resolves a configured file name against the home.
func homePath(home, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(home, p)
}

// InternalPatterns returns the internal module patterns as one GOPRIVATE
// value, checking each.
func (c *Config) InternalPatterns() (string, error) {
	var pats []string
	for _, m := range c.Internal.Modules {
		for p := range strings.SplitSeq(m, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if strings.ContainsAny(p, " \t") {
				return "", fmt.Errorf("internal.modules: %q holds a space", p)
			}
			pats = append(pats, p)
		}
	}
	return strings.Join(pats, ","), nil
}

// CompilePolicy turns the policy section into a Policy; nil when it sets
// nothing. Paths are relative to home; getenv reads HEGUI_VULNDB.
func (c *Config) CompilePolicy(home string, getenv func(string) string) (*Policy, error) {
	pc := c.Policy
	if len(pc.Allow) == 0 && len(pc.Deny) == 0 && pc.MinAge == "" && pc.Licenses == nil && (pc.Vulnerabilities == nil || !pc.Vulnerabilities.Refuse) {
		return nil, nil
	}
	p := &Policy{}
	if l := pc.Licenses; l != nil {
		for _, expr := range append(slices.Clone(l.Allow), l.Deny...) {
			if ok, _ := spdxexp.ValidateLicenses([]string{expr}); !ok && !strings.HasPrefix(expr, "LicenseRef-") {
				return nil, fmt.Errorf("policy.licenses: %q is not an SPDX licence identifier", expr)
			}
		}
		p.Licenses = &LicenseGate{Allow: l.Allow, Deny: l.Deny}
	}
	if v := pc.Vulnerabilities; v != nil && v.Refuse {
		dir := homePath(home, v.Database)
		if dir == "" {
			dir = vulndb.DefaultPath(getenv)
		}
		p.Vulns = &VulnGate{Dir: dir, Accept: v.Accept}
		if err := p.Vulns.Open(); err != nil {
			return nil, fmt.Errorf("policy.vulnerabilities: %v (hegui vulndb update fetches one, hegui vulndb import reads one carried in)", err)
		}
	}
	for _, r := range pc.Allow {
		p.Allow = append(p.Allow, Rule{Module: r.Module, Versions: r.Versions, Reason: r.Reason})
	}
	for _, r := range pc.Deny {
		p.Deny = append(p.Deny, Rule{Module: r.Module, Versions: r.Versions, Reason: r.Reason})
	}
	if pc.MinAge != "" {
		d, err := parseAge(pc.MinAge)
		if err != nil {
			return nil, fmt.Errorf("policy.min-age: %v", err)
		}
		p.MinAge = d
	}
	if err := p.Compile(); err != nil {
		return nil, err
	}
	return p, nil
}

// parseAge reads a duration in Go syntax or in days ("72h", "7d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != d {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (72h, 7d)", s)
	}
	return d, nil
}

// OpenStore opens the configured store of the home.
func (c *Config) OpenStore(ctx context.Context, home string) (modstore.Store, error) {
	sc := c.Storage
	switch sc.Driver {
	case "", "dir":
		if sc.Bucket != "" || sc.Endpoint != "" || sc.Prefix != "" || sc.Region != "" || sc.PathStyle {
			return nil, errors.New("storage: bucket, prefix, endpoint, region and path-style are settings of driver s3")
		}
		return modstore.NewDir(cmp.Or(homePath(home, sc.Dir), filepath.Join(home, StoreDir)))
	case "s3":
		if sc.Dir != "" {
			return nil, errors.New("storage: dir is a setting of driver dir")
		}
		s, err := modstore.NewS3(ctx, modstore.S3Config{Bucket: sc.Bucket, Prefix: sc.Prefix, Endpoint: sc.Endpoint, Region: sc.Region, PathStyle: sc.PathStyle})
		if err != nil {
			return nil, fmt.Errorf("storage: %v", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("storage.driver %q: want dir or s3", c.Storage.Driver)
}

// SumDBFromEnv picks the checksum database from a GOSUMDB value
// (modverify.ParseGOSUMDB); "off" is refused, since the proxy verifies
// everything.
func SumDBFromEnv(gosumdb string) (key, url string, err error) {
	key, url, err = modverify.ParseGOSUMDB(gosumdb)
	if errors.Is(err, modverify.ErrSumDBOff) {
		return "", "", errors.New("GOSUMDB=off: hegui proxy verifies every module against a checksum database; set sumdb in proxy.yaml")
	}
	return key, url, err
}
