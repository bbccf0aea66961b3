package modproxy

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/semver"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/license"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/vulndb"
)

// LicenseGate refuses module zips whose licence the policy does not admit,
// found as `hegui deliver` finds it (package license: the licence files at
// the module's root and in LICENSES/, classified with licensecheck). The
// go.mod is always served: the go command reads go.mod files of versions it
// never builds.
type LicenseGate struct {
	Allow, Deny []string

	mu    sync.Mutex
	cache map[string]*format.ModuleLicense // by the zip's SHA-256
}

// VulnGate refuses module zips of versions that an entry of the offline
// vulnerability database affects, unless the entry is accepted.
type VulnGate struct {
	// Dir is the database (hegui vulndb update or import).
	Dir string
	// Accept lists entry IDs (GO-…) or aliases (CVE-…) whose risk is
	// accepted.
	Accept []string

	mu      sync.Mutex
	checked time.Time
	stamp   time.Time // index/db.json's modification time when read
	index   map[string][]string
	entries map[string]*vulndb.Entry
}

// vulnReload is how often the gate looks for a newer database.
const vulnReload = time.Minute

// load reads the database index, again when it has changed.
func (g *VulnGate) load() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.index != nil && time.Since(g.checked) < vulnReload {
		return nil
	}
	g.checked = time.Now()
	fi, err := os.Stat(filepath.Join(g.Dir, "index", "db.json"))
	if err != nil {
		// Closed: a database that went away vouches for nothing.
		g.index = nil
		return fmt.Errorf("vulnerability database %s: %v", g.Dir, err)
	}
	if g.index != nil && fi.ModTime().Equal(g.stamp) {
		return nil
	}
	index, err := vulndb.ReadModuleIndex(g.Dir)
	if err != nil {
		g.index = nil
		return fmt.Errorf("vulnerability database %s: %v", g.Dir, err)
	}
	g.index, g.entries, g.stamp = index, map[string]*vulndb.Entry{}, fi.ModTime()
	return nil
}

// Open checks the database can be read, so that a proxy does not start with
// a gate that refuses everything.
func (g *VulnGate) Open() error { return g.load() }

// check refuses mod@version when an entry not accepted affects it.
func (g *VulnGate) check(mod, version string) error {
	if err := g.load(); err != nil {
		return &RefusedError{Rule: "vulnerabilities", Reason: fmt.Sprintf("%s@%s cannot be checked: %v", mod, version, err),
			Fix: "the proxy serves no module the vulnerability database cannot vouch for; fix the database (hegui vulndb update)"}
	}
	g.mu.Lock()
	ids := g.index[mod]
	g.mu.Unlock()
	var found []string
	fixed := ""
	for _, id := range ids {
		e, err := g.entry(id)
		if err != nil {
			return &RefusedError{Rule: "vulnerabilities", Reason: fmt.Sprintf("%s@%s cannot be checked: entry %s: %v", mod, version, id, err)}
		}
		if e == nil || !e.Affects(mod, version) || g.accepted(e) {
			continue
		}
		found = append(found, e.ID)
		// The version to go to fixes every entry found: the highest fix.
		if f := e.FixedAfter(mod, version); f != "" && (fixed == "" || semver.Compare(f, fixed) > 0) {
			fixed = f
		}
	}
	if len(found) == 0 {
		return nil
	}
	fix := "no fixed version is known: replace the module, or accept the risk (policy.vulnerabilities.accept)"
	if fixed != "" {
		fix = fmt.Sprintf("upgrade: go get %s@%s, or accept the risk (policy.vulnerabilities.accept)", mod, fixed)
	}
	return &RefusedError{Rule: "vulnerabilities", Reason: fmt.Sprintf("%s@%s is affected by %s", mod, version, strings.Join(found, ", ")), Fix: fix}
}

func (g *VulnGate) entry(id string) (*vulndb.Entry, error) {
	g.mu.Lock()
	e, ok := g.entries[id]
	g.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := vulndb.ReadEntry(g.Dir, id)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.entries[id] = e
	g.mu.Unlock()
	return e, nil
}

func (g *VulnGate) accepted(e *vulndb.Entry) bool {
	if slices.Contains(g.Accept, e.ID) {
		return true
	}
	for _, a := range e.Aliases {
		if slices.Contains(g.Accept, a) {
			return true
		}
	}
	return false
}

// checkGates applies the licence and vulnerability gates to a public zip.
func (p *Proxy) checkGates(ctx context.Context, rec *modstore.Record) error {
	if p.policy == nil || p.isInternal(rec.Module) {
		return nil
	}
	if g := p.policy.Vulns; g != nil {
		if err := g.check(rec.Module, rec.Version); err != nil {
			return err
		}
	}
	if g := p.policy.Licenses; g != nil {
		ml, err := p.moduleLicense(ctx, g, rec)
		if err != nil {
			return err
		}
		vs := license.Evaluate(config.LicensePolicy{Allow: g.Allow, Deny: g.Deny}, []*format.ModuleLicense{ml})
		if len(vs) > 0 {
			return &RefusedError{Rule: "licenses", Reason: vs[0].Message, Fix: licenseFix(vs[0].Remedy)}
		}
	}
	return nil
}

// maxLicenseFile bounds a licence file taken out of a zip.
const maxLicenseFile = 4 << 20

// moduleLicense finds the licence of a stored zip, once per content.
func (p *Proxy) moduleLicense(ctx context.Context, g *LicenseGate, rec *modstore.Record) (*format.ModuleLicense, error) {
	g.mu.Lock()
	ml := g.cache[rec.SHA256]
	g.mu.Unlock()
	if ml != nil {
		return ml, nil
	}
	dir, err := os.MkdirTemp(p.tempDir, "license-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := p.extractLicenses(ctx, rec, dir); err != nil {
		return nil, err
	}
	ml = &format.ModuleLicense{Module: rec.Module, Version: rec.Version}
	if err := license.Scan(dir, nil, ml); err != nil {
		return nil, err
	}
	g.mu.Lock()
	if g.cache == nil {
		g.cache = map[string]*format.ModuleLicense{}
	}
	g.cache[rec.SHA256] = ml
	g.mu.Unlock()
	return ml, nil
}

// extractLicenses copies a stored zip's licence files (at the module's root
// and in LICENSES/) into dir.
func (p *Proxy) extractLicenses(ctx context.Context, rec *modstore.Record, dir string) error {
	key, err := modstore.ModuleKey(rec.Module, rec.Version, modstore.Zip)
	if err != nil {
		return err
	}
	obj, err := p.store.Open(ctx, key)
	if err != nil {
		return err
	}
	defer obj.Close()
	ra, ok := obj.(io.ReaderAt)
	if !ok {
		tmp, err := os.CreateTemp(p.tempDir, "license-*.zip")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, io.LimitReader(obj, rec.Size)); err != nil {
			return err
		}
		ra = tmp
	}
	zr, err := zip.NewReader(ra, rec.Size)
	if err != nil {
		return fmt.Errorf("%s@%s: stored zip: %v", rec.Module, rec.Version, err)
	}
	prefix := rec.Module + "@" + rec.Version + "/"
	if err := os.Mkdir(filepath.Join(dir, "LICENSES"), 0o700); err != nil {
		return err
	}
	for _, f := range zr.File {
		rel, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || !f.Mode().IsRegular() || f.UncompressedSize64 > maxLicenseFile {
			continue
		}
		d, base := path.Split(rel)
		if (d != "" && d != "LICENSES/") || !(license.IsLicenseFile(base) || d == "LICENSES/" && strings.HasSuffix(base, ".txt")) {
			continue
		}
		if err := extractFile(f, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

func extractFile(f *zip.File, dest string) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(r, maxLicenseFile)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// licenseFix points a licence remedy written for hegui.yaml at proxy.yaml.
func licenseFix(remedy string) string {
	remedy = strings.ReplaceAll(remedy, " in hegui.yaml", "")
	return strings.ReplaceAll(remedy, "policy.licenses", "proxy.yaml's policy.licenses")
}
