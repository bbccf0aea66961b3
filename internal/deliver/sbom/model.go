// Package sbom writes software bills of materials for Go binaries: SPDX 2.3
// JSON with spdx/tools-golang and CycloneDX 1.6 JSON with cyclonedx-go.
//
// The components are the modules whose packages are linked into the binary,
// as its embedded build information records them (so the SBOM describes
// what ships, not everything go.mod mentions), plus the Go standard library
// at the toolchain version. Each carries its purl, its go.sum hash, its
// replacement if any, and its declared and concluded licences. The binary
// itself appears with its SHA-256 and SM3 digests; neither SPDX 2.3 nor
// CycloneDX 1.6 has SM3 among its hash algorithms, so SM3 is an annotation
// (SPDX) and a "hegui:hash:SM3" property (CycloneDX).
//
// Output is deterministic: timestamps are the commit time and identifiers
// are derived from the binary's digest, so rebuilding a delivery yields
// byte-identical SBOMs.
package sbom

import (
	"crypto/sha256"
	"debug/buildinfo"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

// Input is what an SBOM describes.
type Input struct {
	// File is the binary's name as shipped (e.g. "bin/linux_amd64/app"),
	// with its digests; empty digests for an SBOM of source.
	File   string
	SHA256 string
	SM3    string
	Target string
	// Version is the main module's version (the delivery version).
	Version string
	// Info is the binary's build information, the source of the components.
	Info *buildinfo.BuildInfo
	// Graph holds module requirement edges; without it the SBOM lists the
	// modules but not which requires which.
	Graph []gotool.Edge
	// Licenses by module path (format.StdlibModule for the standard library).
	Licenses map[string]*format.ModuleLicense
	// Created is the document time (the commit time, for reproducibility).
	Created time.Time
	// Tool names the generator, e.g. "hegui-v1.0.0".
	Tool string
	// SourceURL is where the main module's source lives, if known.
	SourceURL string
}

// component is one module (or the standard library) in the binary.
type component struct {
	ref       string // unique ID within the document
	path      string // module path, or "stdlib"
	version   string
	purl      string
	sum       string // go.sum h1: hash
	replace   string // "=> path@version" or "=> ./dir"
	shipped   string // the module whose code ships, path@version, when replaced by a module
	main      bool
	stdlib    bool
	license   *format.ModuleLicense
	dependsOn []string // refs
}

// components turns build information into components, main module first,
// then modules sorted by path, then the standard library.
func components(in Input) []*component {
	info := in.Info
	mainMod := &component{path: info.Main.Path, version: in.Version, main: true}
	if mainMod.version == "" {
		mainMod.version = info.Main.Version
	}
	list := []*component{mainMod}
	for _, dep := range info.Deps {
		c := &component{path: dep.Path, version: format.ModuleVersion(dep), sum: dep.Sum}
		if r := dep.Replace; r != nil {
			if r.Version == "" || r.Version == format.DevelVersion {
				// A local directory has no version.
				c.replace = "=> " + r.Path
			} else {
				c.replace = "=> " + r.Path + "@" + r.Version
				c.shipped = r.Path + "@" + r.Version
				c.sum = r.Sum
			}
		}
		list = append(list, c)
	}
	sort.Slice(list[1:], func(i, j int) bool { return list[1+i].path < list[1+j].path })
	list = append(list, &component{path: format.StdlibModule, version: info.GoVersion, stdlib: true})
	for i, c := range list {
		c.ref = fmt.Sprintf("Package-%d-%s", i, refSafe(c.path))
		c.purl = purl(c)
		c.license = in.Licenses[c.path]
	}
	linkEdges(list, in.Graph)
	return list
}

// purl is pkg:golang/<module>@<version>; a module replaced by another module
// is named by its replacement, which is the code that ships.
func purl(c *component) string {
	name, version := c.path, c.version
	if c.shipped != "" {
		name, version, _ = strings.Cut(c.shipped, "@")
	}
	p := "pkg:golang/" + escapePath(name)
	if version != "" && version != format.DevelVersion {
		p += "@" + url.PathEscape(version)
	}
	return p
}

// escapePath percent-encodes each element of a module path for a purl,
// keeping the slashes that separate namespace and name.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func refSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// linkEdges records, from the module graph, which linked module requires
// which. Edges leaving a version other than the selected one do not count.
func linkEdges(list []*component, graph []gotool.Edge) {
	byPath := map[string]*component{}
	for _, c := range list {
		byPath[c.path] = c
	}
	main := list[0]
	for _, e := range graph {
		fromPath, fromVersion, _ := strings.Cut(e.From, "@")
		toPath, _, _ := strings.Cut(e.To, "@")
		from, to := byPath[fromPath], byPath[toPath]
		if from == nil || to == nil || from == to || to.stdlib {
			continue
		}
		if from != main && fromVersion != from.version {
			continue
		}
		if !contains(from.dependsOn, to.ref) {
			from.dependsOn = append(from.dependsOn, to.ref)
		}
	}
	for _, c := range list {
		sort.Strings(c.dependsOn)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// documentID derives a stable identifier from the binary digest and the
// format, so that the same binary always gets the same document ID.
func documentID(in Input, format string) [16]byte {
	sum := sha256.Sum256([]byte(format + "\x00" + in.SHA256 + "\x00" + in.Info.Main.Path + "\x00" + in.Version + "\x00" + in.Target))
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x80 // UUID version 8: custom, RFC 9562
	id[8] = id[8]&0x3f | 0x80 // variant
	return id
}

func uuidString(id [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])
}

// declaredIDs returns the distinct licence IDs declared for a component.
func declaredIDs(l *format.ModuleLicense) []string {
	if l == nil {
		return nil
	}
	var ids []string
	for _, m := range l.Declared {
		if !contains(ids, m.ID) {
			ids = append(ids, m.ID)
		}
	}
	sort.Strings(ids)
	return ids
}
