// Package vulns is the stage that scans the delivered main packages for
// known vulnerabilities (package vulnscan, against the offline database of
// package vulndb) and writes vulns.json, vulns.sarif and
// vex.openvex.json. The policy's ignore rules are applied here, so that the
// three documents and the report agree on what is accepted; the gate
// itself is the policy stage's.
package vulns

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/vulndb"
	"hegui.dev/hegui/internal/vulnscan"
)

// Stage fills d.Vulns.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return delivery.VulnsStage }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	cfg := d.Config.Vulnerabilities
	if cfg.Scan == config.Off {
		return delivery.SkipWithWarning("vulnerabilities.scan is off in hegui.yaml", "vulnerability scan skipped: vulnerabilities.scan is off")
	}
	dbPath := cfg.Database
	if dbPath == "" {
		dbPath = vulndb.DefaultPath(d.Env)
	}
	db, err := vulndb.OpenIndex(dbPath)
	if err != nil {
		return delivery.SkipWithWarning(err.Error(), "vulnerability scan skipped: "+err.Error())
	}
	budget, err := config.ParseBudget(cfg.MemoryBudget)
	if err != nil {
		return err
	}
	hashed := make(chan error, 1)
	go func() { hashed <- db.Hash() }() // the digest the delivery records, while the scan runs
	groups := scanGroups(d.Binaries)
	res := &vulnscan.Result{}
	for _, g := range groups {
		req := &vulnscan.Request{
			Dir: d.ModuleDir, Patterns: g.mains, DB: db, Env: g.env, Tags: g.tags,
			GoVersion: g.goVersion, MemoryBudget: budget, PackageLevel: cfg.Scan == "package",
			Progress: d.Log.Stepf,
		}
		r, err := vulnscan.Scan(ctx, req)
		if err != nil {
			return err
		}
		res.Scans = append(res.Scans, r.Scans...)
		res.Findings = vulnscan.Merge(res.Findings, r.Findings)
		if res.GoVersion == "" {
			res.GoVersion = r.GoVersion
		}
	}
	if err := <-hashed; err != nil {
		return err
	}
	now := time.Now()
	doc := vulnscan.NewDocument(d.Module.Path+"@"+d.Version.Version, db, res, now)
	doc.Module = d.Module.Path
	d.Vulns = doc
	d.VulnIgnores = ApplyIgnores(d.Config.Policy.Vulnerabilities.Ignore, doc, now)
	doc.Summarize()
	if err := write(d, doc); err != nil {
		return err
	}
	s := doc.Summary
	d.Log.Stepf("%d known vulnerabilities: %d reachable, %d imported only, %d required only, %d accepted by the policy (%s)",
		s.Total, s.Reachable, s.Imported, s.Required, s.Ignored, databaseAge(db, now))
	return nil
}

// databaseAge describes the database's date and age for the log.
func databaseAge(db *vulndb.Info, now time.Time) string {
	if !db.AgeKnown() {
		return "database of unknown age: its entries carry no modification times"
	}
	return fmt.Sprintf("database %s, %.0f days old", db.Modified.Format(time.DateOnly), db.Age(now).Hours()/24)
}

// group is one scan: the main packages built with the same tags and
// environment, scanned for the first target's platform.
type group struct {
	mains     []string
	tags      []string
	env       []string
	goVersion string
}

// scanGroups groups the binaries' main packages by how they were built.
func scanGroups(bins []*delivery.Binary) []*group {
	var groups []*group
	byKey := map[string]*group{}
	for _, b := range bins {
		env := slices.DeleteFunc(slices.Clone(b.Env), func(e string) bool { return strings.HasPrefix(e, "SOURCE_DATE_EPOCH=") })
		key := strings.Join(b.Tags, ",") + "|" + strings.Join(nonTarget(env), " ")
		g := byKey[key]
		if g == nil {
			g = &group{tags: b.Tags, env: env, goVersion: b.GoVersion}
			byKey[key] = g
			groups = append(groups, g)
		}
		if !slices.Contains(g.mains, b.Main) {
			g.mains = append(g.mains, b.Main)
		}
	}
	return groups
}

// targetVars select the target platform.
var targetVars = map[string]bool{
	"GOOS": true, "GOARCH": true, "GOAMD64": true, "GOARM64": true, "GOARM": true, "GO386": true,
	"GOMIPS": true, "GOMIPS64": true, "GOPPC64": true, "GORISCV64": true,
}

// nonTarget drops the variables that select the target platform.
func nonTarget(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(e string) bool {
		name, _, _ := strings.Cut(e, "=")
		return targetVars[name]
	})
}

// ApplyIgnores marks the findings that an unexpired ignore rule accepts
// (by OSV id or alias) and reports on every rule: which it matched,
// whether it has expired.
func ApplyIgnores(rules []config.VulnIgnore, doc *format.VulnDocument, now time.Time) []format.IgnoreRule {
	out := make([]format.IgnoreRule, 0, len(rules))
	for _, r := range rules {
		ir := format.IgnoreRule{ID: r.ID, Reason: r.Reason, Expires: r.Expires, Expired: now.After(r.ExpiresAt())}
		for _, f := range doc.Findings {
			if f.ID != r.ID && !slices.Contains(f.Aliases, r.ID) {
				continue
			}
			ir.Matched = append(ir.Matched, f.ID+" in "+f.Module)
			if !ir.Expired {
				f.Ignored = &format.VulnIgnored{Reason: r.Reason, Expires: r.Expires}
			}
		}
		out = append(out, ir)
	}
	return out
}

// write writes the three documents.
func write(d *delivery.Delivery, doc *format.VulnDocument) error {
	data, err := doc.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.VulnsJSONFile), data, 0o644); err != nil {
		return err
	}
	goMod, _ := os.ReadFile(filepath.Join(d.ModuleDir, "go.mod"))
	if data, err = vulnscan.SARIF(doc, d.HeguiVersion, goMod); err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.VulnsSARIFFile), data, 0o644); err != nil {
		return err
	}
	opts := vulnscan.VEXOptions{Author: Supplier(d), Product: "pkg:golang/" + d.Module.Path + "@" + d.Version.Version, Time: doc.Scanned}
	for _, b := range d.Binaries {
		opts.Binaries = append(opts.Binaries, vulnscan.VEXBinary{Name: b.Path, SHA256: b.SHA256})
	}
	if data, err = vulnscan.OpenVEX(doc, opts); err != nil {
		return err
	}
	if err := os.WriteFile(d.Path(format.OpenVEXFile), data, 0o644); err != nil {
		return err
	}
	d.Log.Stepf("%s, %s, %s", format.VulnsJSONFile, format.VulnsSARIFFile, format.OpenVEXFile)
	return nil
}

// Supplier names who makes the delivery's statements: project.supplier in
// hegui.yaml, else the subject of the signer's certificate, else the
// module path.
func Supplier(d *delivery.Delivery) string {
	if s := d.Config.Project.Supplier; s != "" {
		return s
	}
	if p := d.Primary(); p != nil && p.Subject != "" {
		return p.Subject
	}
	return fmt.Sprintf("the maintainers of %s", d.Module.Path)
}
