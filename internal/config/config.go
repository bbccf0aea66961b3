// Package config reads hegui.yaml, the file that tells `hegui deliver` what to
// build, how to sign it and which policy to apply. The schema is versioned
// ("version: 1", documented in docs/config.md); unknown keys and wrong types
// are errors that name the line. Every field has a default, so a module with
// no hegui.yaml at all can be delivered.
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"hegui.dev/hegui/internal/inputfile"
)

// FileName is the configuration file `hegui deliver` looks for in the module root.
const FileName = "hegui.yaml"

// SchemaVersion is the configuration schema this hegui reads.
const SchemaVersion = 1

// DefaultTargets are the 信创 platforms: x86-64 (Hygon, Zhaoxin), ARM64
// (Kunpeng, Phytium) and LoongArch (Loongson).
var DefaultTargets = []string{"linux/amd64", "linux/arm64", "linux/loong64"}

// DefaultLdflags strip the symbol table and DWARF (smaller binaries, and the
// "stripped" hardening check) and set the conventional version variables of
// package main; -X of a variable that does not exist is ignored by the linker.
var DefaultLdflags = []string{"-s", "-w", "-X main.version={{.Version}}", "-X main.commit={{.Commit}}", "-X main.date={{.Date}}"}

// DefaultGlibcBaseline is the glibc of Kylin V10, UOS 20 and openEuler 20.03.
const DefaultGlibcBaseline = "2.28"

// Config is hegui.yaml.
type Config struct {
	Version         int             `yaml:"version"`
	Project         Project         `yaml:"project"`
	Builds          []Build         `yaml:"builds"`
	Targets         []string        `yaml:"targets"`
	Reproducibility Reproducibility `yaml:"reproducibility"`
	Hardening       Hardening       `yaml:"hardening"`
	Signing         Signing         `yaml:"signing"`
	Vulnerabilities Vulnerabilities `yaml:"vulnerabilities"`
	StaticAnalysis  StaticAnalysis  `yaml:"static-analysis"`
	Tests           Tests           `yaml:"tests"`
	PII             PIIScan         `yaml:"pii"`
	Policy          Policy          `yaml:"policy"`
	Compliance      Compliance      `yaml:"compliance"`
	Documents       []Document      `yaml:"documents"`
	Attestations    []Attestation   `yaml:"attestations"`
	Archive         Archive         `yaml:"archive"`
	Image           Image           `yaml:"image"`
	AuditLog        AuditLog        `yaml:"audit-log"`
	Output          string          `yaml:"output"`
}

// Project names the delivery.
type Project struct {
	// Name is used in file names and documents; default: the last element
	// of the module path.
	Name string `yaml:"name"`
	// Supplier is who makes the delivery's statements (the OpenVEX
	// author); default: the signer certificate's subject.
	Supplier string `yaml:"supplier"`
}

// Build is one main package to build for every target.
type Build struct {
	// ID names the build in reports; default: the binary name.
	ID string `yaml:"id"`
	// Main is the main package, relative to the module root ("./cmd/app").
	Main string `yaml:"main"`
	// Binary is the output file name; default: the last element of Main.
	Binary string `yaml:"binary"`
	// Ldflags are passed to the linker after template expansion
	// ({{.Version}}, {{.Commit}}, {{.ShortCommit}}, {{.Date}}, {{.Os}},
	// {{.Arch}}); default DefaultLdflags. hegui always adds -buildid=.
	Ldflags []string `yaml:"ldflags"`
	// Tags are build tags.
	Tags []string `yaml:"tags"`
	// Env holds extra environment, e.g. CGO_ENABLED=1; cgo is off by default.
	Env []string `yaml:"env"`
	// Targets overrides the top-level targets for this build.
	Targets []string `yaml:"targets"`
}

// Reproducibility configures the double-build check.
type Reproducibility struct {
	// Check builds every target a second time in another directory and
	// module cache and compares the digests; default true.
	Check *bool `yaml:"check"`
}

// Enabled reports whether the check runs.
func (r Reproducibility) Enabled() bool { return r.Check == nil || *r.Check }

// Hardening configures the binary hardening checks.
type Hardening struct {
	// GlibcBaseline is the oldest glibc the cgo binaries must run on.
	GlibcBaseline string `yaml:"glibc-baseline"`
}

// Signing names the keys that sign the delivery.
type Signing struct {
	// Key signs the manifest and the provenance (a key reference: FILE,
	// keyring:NAME|ID or pkcs11:URI). Empty: a development key, loudly.
	Key string `yaml:"key"`
	// Certificate is the signer's certificate chain (PEM, leaf first).
	Certificate string `yaml:"certificate"`
	// PasswordFile holds the key's password (else $HEGUI_KEY_PASSWORD).
	PasswordFile string `yaml:"password-file"`
	// CoSigners add signatures with further keys (ECDSA, Ed25519, tokens).
	CoSigners []Signer `yaml:"co-signers"`
}

// Signer is a co-signing key.
type Signer struct {
	Key          string `yaml:"key"`
	Certificate  string `yaml:"certificate"`
	PasswordFile string `yaml:"password-file"`
	// PasswordEnv names the environment variable holding the password.
	PasswordEnv string `yaml:"password-env"`
}

// LicensePolicy lists SPDX license identifiers. A module under a denied
// license fails the delivery; with an allow list, so does one whose license
// is not on it (or is unknown).
type LicensePolicy struct {
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
}

// Document is a document the delivery carries (under documents/, in the
// manifest) as evidence for the controls it answers: a design
// description, a user guide, an operations manual, SECURITY.md, a coding
// standard.
type Document struct {
	// Path is the file, relative to the module root, inside the module.
	Path string `yaml:"path"`
	// Kind is design, user-guide, operations, security-policy,
	// coding-standard or other.
	Kind  string `yaml:"kind"`
	Title string `yaml:"title"`
	// Controls are the controls it answers, as FRAMEWORK:CONTROL
	// ("gbt22239-2019-l3:8.1.9.4 d").
	Controls []string `yaml:"controls"`
}

// Attestation is a statement the vendor signs, with the delivery's keys,
// for a control whose vendor part no artefact can show. The report shows
// such a control as attested, never as evidenced.
type Attestation struct {
	// Control is FRAMEWORK:CONTROL.
	Control string `yaml:"control"`
	// Statement is what the vendor states; File names a file, relative to
	// the module root, that holds it instead.
	Statement string `yaml:"statement"`
	File      string `yaml:"file"`
}

// MaxDocumentSize bounds a document the delivery carries.
const MaxDocumentSize = 64 << 20

// Archive configures the optional single-file copy of the delivery.
type Archive struct {
	// Format is "tar.gz" or "none" (default).
	Format string `yaml:"format"`
}

// Image configures the OCI image the image stage writes into the delivery
// (image/, an OCI image layout with an index of every Linux target).
type Image struct {
	// Enabled writes the image; default false.
	Enabled bool `yaml:"enabled"`
	// Binary is the binary the image runs (a build's binary name); empty
	// means the only one.
	Binary string `yaml:"binary"`
	// CACertificates is the CA bundle the image holds: "system" (the
	// building machine's /etc/ssl/certs/ca-certificates.crt, the default),
	// a file relative to the module root, or "none".
	CACertificates string `yaml:"ca-certificates"`
	// User is the user ID the image runs as; default 65532. Root is not
	// offered.
	User int `yaml:"user"`
	// Args, Env and Ports are the entry point's arguments, its environment
	// (NAME=VALUE) and what it listens on ("8080/tcp").
	Args  []string `yaml:"args"`
	Env   []string `yaml:"env"`
	Ports []string `yaml:"ports"`
}

// AuditLog names the transparency audit log a delivery is recorded in.
// Without a URL nothing is logged.
type AuditLog struct {
	// URL is the log server (hegui log serve).
	URL string `yaml:"url"`
	// PublicKeys is the log's verifier keys file (log.pub), relative to
	// the module root: the checkpoint the log returns is checked with it.
	PublicKeys string `yaml:"public-keys"`
	// TokenEnv names the environment variable holding the writer's bearer
	// token; default HEGUI_LOG_TOKEN.
	TokenEnv string `yaml:"token-env"`
}

// Default is the configuration used when there is no hegui.yaml.
func Default() *Config {
	c := &Config{Version: SchemaVersion}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if len(c.Targets) == 0 {
		c.Targets = slices.Clone(DefaultTargets)
	}
	if c.Hardening.GlibcBaseline == "" {
		c.Hardening.GlibcBaseline = DefaultGlibcBaseline
	}
	if c.Archive.Format == "" {
		c.Archive.Format = "none"
	}
	if c.Output == "" {
		c.Output = "dist"
	}
	if c.AuditLog.TokenEnv == "" {
		c.AuditLog.TokenEnv = "HEGUI_LOG_TOKEN"
	}
	c.Tests.applyDefaults()
	c.applyPolicyDefaults()
	for i := range c.Builds {
		b := &c.Builds[i]
		if b.Ldflags == nil {
			b.Ldflags = slices.Clone(DefaultLdflags)
		}
		if len(b.Targets) == 0 {
			b.Targets = c.Targets
		}
	}
}

// Find returns the configuration for the module in moduleDir: the file
// explicit if given, else hegui.yaml in moduleDir if there is one, else the
// defaults. It also returns the path read, or "" for the defaults.
func Find(moduleDir, explicit string) (*Config, string, error) {
	path := explicit
	if path == "" {
		if p := filepath.Join(moduleDir, FileName); fileExists(p) {
			path = p
		}
	}
	if path == "" {
		return Default(), "", nil
	}
	c, err := Load(path)
	return c, path, err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Load reads and checks a configuration file. Relative file names in it
// (keys, certificates, password files) are taken relative to the file's
// directory.
func Load(path string) (*Config, error) {
	// The file is refused unless it is a regular file of at most
	// MaxYAMLSize bytes, so the read is short and needs no cancelling.
	data, err := inputfile.Read(context.Background(), path, MaxYAMLSize)
	if err != nil {
		return nil, fmt.Errorf("read the configuration: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// resolvePaths makes the file names of the signing section absolute.
func (c *Config) resolvePaths(dir string) {
	file := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	key := func(ref string) string {
		if strings.HasPrefix(ref, "pkcs11:") || strings.HasPrefix(ref, "keyring:") {
			return ref
		}
		return file(ref)
	}
	c.Vulnerabilities.Database = file(c.Vulnerabilities.Database)
	s := &c.Signing
	s.Key, s.Certificate, s.PasswordFile = key(s.Key), file(s.Certificate), file(s.PasswordFile)
	for i := range s.CoSigners {
		cs := &s.CoSigners[i]
		cs.Key, cs.Certificate, cs.PasswordFile = key(cs.Key), file(cs.Certificate), file(cs.PasswordFile)
	}
}

// Parse decodes and checks a configuration. Errors carry "line N".
func Parse(data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty configuration: write at least \"version: 1\" (hegui init writes a commented one)")
	}
	var c Config
	if err := DecodeYAML(data, &c); err != nil {
		return nil, err
	}
	if err := c.validate(data); err != nil {
		return nil, err
	}
	c.applyDefaults()
	return &c, nil
}

var (
	targetPattern = regexp.MustCompile(`^([a-z0-9]+)/([a-z0-9]+)(/(v[1-4]|v8\.[0-9]|v9\.[0-5]))?$`)
	glibcPattern  = regexp.MustCompile(`^2\.\d+$`)
)

// validate checks what the YAML decoder cannot: values, not just types.
func (c *Config) validate(data []byte) error {
	at := func(path string) string { return lineOf(data, path) }
	if c.Version != SchemaVersion {
		return fmt.Errorf("%sversion must be %d (this hegui reads configuration schema %d)", at("$.version"), SchemaVersion, SchemaVersion)
	}
	if c.Project.Name != "" {
		if problem := checkFileName(c.Project.Name); problem != "" {
			return fmt.Errorf("%sproject.name %s %s", at("$.project.name"), quoteShort(c.Project.Name), problem)
		}
	}
	if problem := checkOutput(c.Output); problem != "" {
		return fmt.Errorf("%soutput %s %s", at("$.output"), quoteShort(c.Output), problem)
	}
	if err := checkTargets(c.Targets, "$.targets", data); err != nil {
		return err
	}
	ids := map[string]bool{}
	for i, b := range c.Builds {
		path := fmt.Sprintf("$.builds[%d]", i)
		if b.Main == "" {
			return fmt.Errorf("%sbuilds[%d]: main is required (the main package, e.g. ./cmd/app)", at(path), i)
		}
		if err := checkBuildNames(b, i, path, at); err != nil {
			return err
		}
		for j, e := range b.Env {
			if !strings.Contains(e, "=") {
				return fmt.Errorf("%sbuilds[%d].env[%d] %q is not NAME=VALUE", at(fmt.Sprintf("%s.env[%d]", path, j)), i, j, e)
			}
		}
		if err := checkTargets(b.Targets, path+".targets", data); err != nil {
			return err
		}
		if id := b.ID; id != "" {
			if ids[id] {
				return fmt.Errorf("%sbuilds[%d].id %q is used twice", at(path+".id"), i, id)
			}
			ids[id] = true
		}
	}
	if c.Archive.Format != "" && c.Archive.Format != "none" && c.Archive.Format != "tar.gz" {
		return fmt.Errorf("%sarchive.format %q: want tar.gz or none", at("$.archive.format"), c.Archive.Format)
	}
	if err := c.Image.validate(at); err != nil {
		return err
	}
	if u := c.AuditLog.URL; u != "" {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("%saudit-log.url %q: want an http or https URL", at("$.audit-log.url"), u)
		}
		if c.AuditLog.PublicKeys == "" {
			return fmt.Errorf("%saudit-log.public-keys is required with a url: the log's log.pub", at("$.audit-log"))
		}
	}
	if g := c.Hardening.GlibcBaseline; g != "" && !glibcPattern.MatchString(g) {
		return fmt.Errorf("%shardening.glibc-baseline %q: want a glibc version like 2.28", at("$.hardening.glibc-baseline"), g)
	}
	for i, s := range c.Signing.CoSigners {
		if s.Key == "" {
			return fmt.Errorf("%ssigning.co-signers[%d]: key is required", at(fmt.Sprintf("$.signing.co-signers[%d]", i)), i)
		}
	}
	if err := c.validateEvidence(at); err != nil {
		return err
	}
	if err := c.Tests.validate(at); err != nil {
		return err
	}
	return c.validatePolicy(at)
}

func checkTargets(targets []string, path string, data []byte) error {
	for i, t := range targets {
		if !targetPattern.MatchString(t) {
			return fmt.Errorf("%s%s[%d] %q: want GOOS/GOARCH, optionally with a level (linux/amd64/v3, linux/arm64/v8.2)",
				lineOf(data, fmt.Sprintf("%s[%d]", path, i)), strings.TrimPrefix(path, "$."), i, t)
		}
	}
	return nil
}

// lineOf returns "line N: " for a YAML path, or "" when it cannot be found.
func lineOf(data []byte, path string) string {
	p, err := yaml.PathString(path)
	if err != nil {
		return ""
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return ""
	}
	node, err := p.FilterFile(file)
	if err != nil || node == nil || node.GetToken() == nil {
		return ""
	}
	return fmt.Sprintf("line %d: ", node.GetToken().Position.Line)
}

var portPattern = regexp.MustCompile(`^[0-9]{1,5}(/(tcp|udp|sctp))?$`)

func (im Image) validate(at func(string) string) error {
	if im.User < 0 || im.User > 1<<31-2 {
		return fmt.Errorf("%simage.user %d: give a non-root user ID (default 65532)", at("$.image.user"), im.User)
	}
	for i, e := range im.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("%simage.env[%d] %q is not NAME=VALUE", at(fmt.Sprintf("$.image.env[%d]", i)), i, e)
		}
	}
	for i, p := range im.Ports {
		if !portPattern.MatchString(p) {
			return fmt.Errorf("%simage.ports[%d] %q: give PORT or PORT/tcp, PORT/udp", at(fmt.Sprintf("$.image.ports[%d]", i)), i, p)
		}
	}
	return nil
}
