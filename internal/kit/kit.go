// Package kit builds, verifies and installs offline Go environment kits:
// one signed tar.gz holding Go toolchains (the golang.org/toolchain module
// zips the go command itself downloads), a module cache in the go
// command's download layout with the checksum database's lookups and tiles
// for every module, and optionally an offline vulnerability database and
// hegui itself.
//
// A kit is built on a machine that reaches a module proxy (Build), carried
// as one file, checked offline (Verify), and installed anywhere without
// root into one directory (Install), where `source DIR/activate` points the
// go command at it with GOSUMDB still on: the go command checks every
// module against the checksum data the kit carries.
//
// The archive holds, in this order:
//
//	manifest.json          every other file with its size, SHA-256 and SM3
//	manifest.dsse.json     the manifest's signatures (DSSE), as a delivery's
//	signers/KEYID.pub      each signer's public key (and .chain.pem)
//	gopath/pkg/mod/cache/download/...   modules, toolchains, checksum data
//	gopath/pkg/sumdb/NAME/latest        the checksum database's tree head
//	gocache/...            a build cache for the projects prebuilt (optional)
//	vulndb/...             the offline vulnerability database (optional)
//	bin/hegui              hegui itself (optional)
package kit

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"hegui.dev/hegui/internal/format"
)

// Schema identifies the kit manifest format.
const Schema = "hegui.dev/kit/v1"

// PayloadType is the DSSE payload type of a kit manifest's signatures.
const PayloadType = "application/vnd.hegui.kit.v1+json"

// Paths inside a kit (and inside the directory it is installed into).
const (
	ManifestFile   = "manifest.json"
	EnvelopeFile   = "manifest.dsse.json"
	SignersDir     = format.SignersDir
	GoPathDir      = "gopath"
	DownloadDir    = GoPathDir + "/pkg/mod/cache/download"
	SumDBConfigDir = GoPathDir + "/pkg/sumdb"
	VulnDBDir      = "vulndb"
	// BuildCacheDir holds the go command's build cache (GOCACHE) when the
	// kit was built with projects to prebuild.
	BuildCacheDir = "gocache"
	HeguiBinary   = "bin/hegui"
	// ToolchainsDir is where Install unpacks the toolchains: GOROOTs named
	// by version (go/go1.22.5). It is not in the archive.
	ToolchainsDir = "go"
)

// ToolchainModule is the module the go command downloads toolchains as.
const ToolchainModule = "golang.org/toolchain"

// Manifest is a kit's manifest.json.
type Manifest struct {
	Schema string `json:"schema"`
	// Signed is when the kit was signed: certificates are checked for
	// validity at this time.
	Signed time.Time `json:"signed"`
	// Default is the Go version activated when none is named.
	Default    string      `json:"default"`
	Toolchains []Toolchain `json:"toolchains"`
	Modules    []Module    `json:"modules"`
	// Env are the go command's settings the kit was built with and that
	// activate sets: GOSUMDB, and GONOSUMDB/GOPRIVATE when the modules
	// include private ones the checksum database does not know.
	Env map[string]string `json:"env"`
	// VulnDB is set when the kit carries an offline vulnerability database
	// (under VulnDBDir); Hegui when it carries hegui (HeguiBinary).
	VulnDB bool `json:"vulndb,omitempty"`
	// BuildCache is set when the kit carries a build cache (under
	// BuildCacheDir), made with -trimpath so that it holds wherever the
	// kit is installed; activate then sets GOCACHE and -trimpath.
	BuildCache bool                 `json:"buildCache,omitempty"`
	Hegui      string               `json:"hegui,omitempty"` // its version
	Signers    []format.SignerEntry `json:"signers"`
	Files      []format.FileEntry   `json:"files"`
}

// Toolchain is one Go toolchain in the kit.
type Toolchain struct {
	Version  string `json:"version"`  // go1.22.5
	Platform string `json:"platform"` // linux/amd64
	// Zip is the module zip's path in the kit; Hash its go.sum hash, as
	// the checksum database has it.
	Zip  string `json:"zip"`
	Hash string `json:"hash"`
}

// ModuleVersion is the golang.org/toolchain version of a Go release on a
// platform: v0.0.1-go1.22.5.linux-amd64.
func (t Toolchain) ModuleVersion() string {
	return ToolchainVersion(t.Version, t.Platform)
}

// ToolchainVersion is the golang.org/toolchain module version of Go
// version goVersion (go1.22.5) for platform (linux/amd64).
func ToolchainVersion(goVersion, platform string) string {
	return "v0.0.1-" + goVersion + "." + strings.ReplaceAll(platform, "/", "-")
}

// Module is a module version the kit carries: its go.mod always, its zip
// when Zip is set (a go.sum "/go.mod" line alone needs only the go.mod).
type Module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Zip     bool   `json:"zip,omitempty"`
}

// ZipPath is where a kit keeps the module's zip, as the go command's
// module cache does (case-encoded).
func (md Module) ZipPath() (string, error) {
	ep, ev, err := md.escaped()
	if err != nil {
		return "", err
	}
	return DownloadDir + "/" + ep + "/@v/" + ev + ".zip", nil
}

// ExtractedDir is where the go command expects the module's files once its
// zip is extracted: GOMODCACHE/PATH@VERSION, case-encoded.
func (md Module) ExtractedDir() (string, error) {
	ep, ev, err := md.escaped()
	if err != nil {
		return "", err
	}
	return GoPathDir + "/pkg/mod/" + ep + "@" + ev, nil
}

func (md Module) escaped() (path, version string, err error) {
	if path, err = module.EscapePath(md.Path); err != nil {
		return "", "", err
	}
	if version, err = module.EscapeVersion(md.Version); err != nil {
		return "", "", err
	}
	return path, version, nil
}

// HostPlatform is this machine's GOOS/GOARCH.
func HostPlatform() string { return runtime.GOOS + "/" + runtime.GOARCH }

// NormalizeGoVersion turns "1.22.5" or "go1.22.5" into "go1.22.5" and
// refuses what is not a Go release version.
func NormalizeGoVersion(v string) (string, error) {
	v = strings.TrimSpace(v)
	g := strings.TrimPrefix(v, "go")
	if g == "" || strings.ContainsAny(g, "/\\ +-") || !semver.IsValid(goSemver(g)) || semver.Major(goSemver(g)) != "v1" {
		return "", fmt.Errorf("%q is not a Go version (want, for example, 1.22.5 or go1.26.8)", v)
	}
	return "go" + g, nil
}

// CompareGoVersions orders Go versions (go1.9 < go1.22.5 < go1.26.8).
func CompareGoVersions(a, b string) int {
	return semver.Compare(goSemver(a), goSemver(b))
}

// goSemver turns a Go version (go1.22.5, 1.21, go1.23rc1) into the
// semantic version it orders as (v1.22.5, v1.21.0, v1.23.0-rc1).
func goSemver(v string) string {
	g := strings.TrimPrefix(v, "go")
	pre := ""
	if i := strings.IndexAny(g, "rb"); i > 0 {
		g, pre = g[:i], "-"+g[i:]
	}
	if strings.Count(g, ".") == 1 {
		g += ".0"
	}
	return "v" + g + pre
}

// maxManifestSize bounds manifest.json and manifest.dsse.json.
const maxManifestSize = 64 << 20

// ParseManifest decodes and checks a kit manifest, strictly: it is
// untrusted until its signature holds, so every path must stay inside the
// kit and every name must be what it claims.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := jsonv2.Unmarshal(data, &m, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("malformed kit manifest: %w", err)
	}
	if m.Schema != Schema {
		return nil, fmt.Errorf("manifest schema %q, want %q (is this a hegui kit?)", m.Schema, Schema)
	}
	files, err := format.CheckListing(m.Files, m.Signers)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{ManifestFile, EnvelopeFile} {
		if files[p] {
			return nil, fmt.Errorf("the manifest lists %s, which it cannot cover", p)
		}
	}
	for _, s := range m.Signers {
		for _, p := range []string{s.PublicKey, s.Chain} {
			if p != "" && (!files[p] || !strings.HasPrefix(p, SignersDir+"/")) {
				return nil, fmt.Errorf("signer %s: %s is not a file of the kit's %s/", s.KeyID[:16], p, SignersDir)
			}
		}
	}
	seen := map[string]bool{}
	for _, t := range m.Toolchains {
		v, err := NormalizeGoVersion(t.Version)
		if err != nil || v != t.Version {
			return nil, fmt.Errorf("toolchain version %q is not a Go version", t.Version)
		}
		if err := module.Check(ToolchainModule, t.ModuleVersion()); err != nil {
			return nil, fmt.Errorf("toolchain %s %s: %v", t.Version, t.Platform, err)
		}
		if t.Zip != ToolchainZipPath(t.Version, t.Platform) || !files[t.Zip] {
			return nil, fmt.Errorf("toolchain %s %s: its zip %q is not where the kit keeps it", t.Version, t.Platform, t.Zip)
		}
		if seen[t.Version+" "+t.Platform] {
			return nil, fmt.Errorf("toolchain %s %s is listed twice", t.Version, t.Platform)
		}
		seen[t.Version+" "+t.Platform] = true
	}
	if (m.Default != "" || len(m.Toolchains) > 0) && !m.hasVersion(m.Default) {
		return nil, fmt.Errorf("the default Go version %q is not one of the kit's toolchains", m.Default)
	}
	for _, mod := range m.Modules {
		if err := module.Check(mod.Path, mod.Version); err != nil {
			return nil, fmt.Errorf("module %s@%s: %v", mod.Path, mod.Version, err)
		}
		if zip, err := mod.ZipPath(); err != nil || (mod.Zip && !files[zip]) {
			return nil, fmt.Errorf("module %s@%s: its zip is not in the kit", mod.Path, mod.Version)
		}
	}
	for k, v := range m.Env {
		if !allowedEnv[k] {
			return nil, fmt.Errorf("the manifest sets %s, which a kit does not set", k)
		}
		if strings.ContainsAny(v, "\x00\n\r'\"`$\\") {
			return nil, fmt.Errorf("the manifest's %s holds a character a kit does not put there", k)
		}
	}
	return &m, nil
}

// allowedEnv are the go command's settings a kit may carry.
var allowedEnv = map[string]bool{"GOSUMDB": true, "GONOSUMDB": true, "GOPRIVATE": true, "GONOSUMCHECK": true}

func (m *Manifest) hasVersion(v string) bool {
	return slices.ContainsFunc(m.Toolchains, func(t Toolchain) bool { return t.Version == v })
}

// Versions lists the kit's Go versions, oldest first, each once.
func (m *Manifest) Versions() []string {
	var out []string
	for _, t := range m.Toolchains {
		if !slices.Contains(out, t.Version) {
			out = append(out, t.Version)
		}
	}
	slices.SortFunc(out, CompareGoVersions)
	return out
}

// ToolchainFor returns the toolchain of version v for platform, if the kit
// has it.
func (m *Manifest) ToolchainFor(v, platform string) (Toolchain, bool) {
	for _, t := range m.Toolchains {
		if t.Version == v && t.Platform == platform {
			return t, true
		}
	}
	return Toolchain{}, false
}

// ToolchainZipPath is where a kit keeps a toolchain's module zip: where the
// go command's module cache keeps it.
func ToolchainZipPath(goVersion, platform string) string {
	return DownloadDir + "/" + ToolchainModule + "/@v/" + ToolchainVersion(goVersion, platform) + ".zip"
}
