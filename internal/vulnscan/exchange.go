package vulnscan

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openvex/go-vex/pkg/vex"
	"golang.org/x/mod/modfile"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/sarif"
)

// SARIF renders the document d as a SARIF 2.1.0 log: a rule per
// vulnerability, a result per finding (error when reachable, warning when
// only imported, note when only required), call paths as code flows, and
// policy-accepted findings as suppressed. goMod, the scanned module's
// go.mod, anchors findings that have no call path at their requirement.
func SARIF(d *format.VulnDocument, toolVersion string, goMod []byte) ([]byte, error) {
	log := sarif.New("hegui vuln", toolVersion, "https://pkg.go.dev/golang.org/x/vuln")
	reqLines := requirementLines(goMod)
	for _, f := range d.Findings {
		rule := sarif.Rule{
			ID: f.ID, Name: f.ID, Short: orDefault(f.Summary, f.ID), Full: f.Details, Help: f.Details,
			HelpURI: f.URL, Level: sarif.Error, Tags: append([]string{"security", "vulnerability"}, f.Aliases...),
		}
		if f.CVSS != nil {
			rule.SecuritySeverity = strconv.FormatFloat(f.CVSS.Score, 'f', 1, 64)
		}
		log.AddRule(rule)
		res := sarif.Result{
			RuleID: f.ID, Level: level(f), Message: sarifMessage(d, f),
			Properties: map[string]any{
				"module": f.Module, "version": f.Version, "fixedVersion": f.Fixed, "status": f.Status,
				"reachable": f.Reachable, "precision": f.Precision, "severity": f.Severity, "subjects": f.Subjects,
			},
		}
		for _, p := range f.Paths {
			var flow []sarif.Location
			for _, st := range p {
				if loc := stepLocation(d, st); loc != nil {
					flow = append(flow, *loc)
				}
			}
			if len(flow) > 0 {
				res.Flows = append(res.Flows, flow)
			}
		}
		switch {
		case len(res.Flows) > 0:
			first := res.Flows[0][0]
			res.Location = &first
		case reqLines != nil:
			line := reqLines[f.Module]
			if line == 0 {
				line = reqLines["go"]
			}
			res.Location = &sarif.Location{File: "go.mod", Line: line}
		default:
			res.Location = &sarif.Location{File: f.Subjects[0], Absolute: true}
		}
		if f.Ignored != nil {
			res.Suppressions = []sarif.Suppression{{Kind: "external",
				Justification: fmt.Sprintf("%s (accepted until %s by the delivery's policy)", f.Ignored.Reason, f.Ignored.Expires)}}
		}
		log.Add(res)
	}
	return log.Bytes()
}

func level(f *format.VulnFinding) string {
	switch {
	case f.Reachable:
		return sarif.Error
	case f.Status == format.VulnImported:
		return sarif.Warning
	}
	return sarif.Note
}

// message describes a finding in one sentence.
func sarifMessage(d *format.VulnDocument, f *format.VulnFinding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s in %s@%s", f.ID, f.Module, format.DisplayVersion(f.Module, f.Version))
	switch f.Status {
	case format.VulnCalled:
		fmt.Fprintf(&b, ": the code calls %s", strings.Join(firstN(f.Symbols, 3), ", "))
	case format.VulnLinked:
		fmt.Fprintf(&b, ": the binary contains %s", strings.Join(firstN(f.Symbols, 3), ", "))
	case format.VulnImported:
		fmt.Fprintf(&b, ": the code imports %s but does not call the vulnerable functions", strings.Join(firstN(f.Packages, 3), ", "))
	default:
		b.WriteString(": the module is required, but its vulnerable packages are not imported")
	}
	if f.Summary != "" {
		fmt.Fprintf(&b, " (%s)", strings.TrimSuffix(f.Summary, "."))
	}
	b.WriteString(". ")
	b.WriteString(strings.ToUpper(f.Advice()[:1]) + f.Advice()[1:] + ".")
	return b.String()
}

// stepLocation places a call-path step: in the scanned module (SRCROOT),
// the standard library (GOROOT) or the module cache (GOMODCACHE).
func stepLocation(d *format.VulnDocument, st format.PathStep) *sarif.Location {
	if st.File == "" {
		return nil
	}
	loc := &sarif.Location{File: st.File, Line: st.Line, Column: st.Column, Message: st.Symbol}
	switch {
	case st.Module == d.Module || strings.HasPrefix(st.Module, d.Module+"/") && d.Module != "":
		loc.URIBase = sarif.SrcRoot
	case st.Module == "stdlib":
		loc.URIBase = "GOROOT"
	default:
		loc.URIBase = "GOMODCACHE"
		loc.File = st.Module + "@" + st.Version + "/" + st.File
	}
	return loc
}

// requirementLines maps each required module of a go.mod to its line, and
// "go" to the go directive's.
func requirementLines(goMod []byte) map[string]int {
	if goMod == nil {
		return nil
	}
	f, err := modfile.ParseLax("go.mod", goMod, nil)
	if err != nil {
		return map[string]int{}
	}
	lines := map[string]int{}
	if f.Go != nil && f.Go.Syntax != nil {
		lines["go"] = f.Go.Syntax.Start.Line
		lines["stdlib"] = f.Go.Syntax.Start.Line
	}
	for _, r := range f.Require {
		if r.Syntax != nil {
			lines[r.Mod.Path] = r.Syntax.Start.Line
		}
	}
	return lines
}

// VEXOptions name the statements' author and product.
type VEXOptions struct {
	Author  string // who makes the statements (the supplier)
	Product string // purl of the delivered software, pkg:golang/MODULE@VERSION
	// Binaries are the delivered files the statements are about; each is
	// a product, identified by the purl and its SHA-256.
	Binaries []VEXBinary
	Time     time.Time
}

// VEXBinary is one delivered binary.
type VEXBinary struct {
	Name   string
	SHA256 string
}

// OpenVEX renders the document d as an OpenVEX v0.2.0 document: reachable
// findings are "affected" with what to do; the others "not_affected",
// because the vulnerable code is not in the execute path (imported, not
// called) or not present at all (the module is required, its vulnerable
// packages are not built in).
func OpenVEX(d *format.VulnDocument, opts VEXOptions) ([]byte, error) {
	doc := vex.New()
	t := opts.Time.UTC()
	doc.Timestamp = &t
	doc.Author = opts.Author
	doc.AuthorRole = "supplier"
	doc.Tooling = "hegui (" + d.Scanner.Module + " " + d.Scanner.Version + ")"
	for _, f := range d.Findings {
		sub := []vex.Subcomponent{{Component: vex.Component{ID: purl(f.Module, f.Version)}}}
		products := []vex.Product{{Component: vex.Component{ID: opts.Product}, Subcomponents: sub}}
		if len(opts.Binaries) > 0 {
			products = products[:0]
			for _, b := range opts.Binaries {
				products = append(products, vex.Product{
					Component: vex.Component{
						ID:          opts.Product,
						Hashes:      map[vex.Algorithm]vex.Hash{vex.SHA256: vex.Hash(b.SHA256)},
						Identifiers: map[vex.IdentifierType]string{vex.PURL: opts.Product},
					},
					Subcomponents: sub,
				})
			}
		}
		aliases := make([]vex.VulnerabilityID, 0, len(f.Aliases))
		for _, a := range f.Aliases {
			aliases = append(aliases, vex.VulnerabilityID(a))
		}
		st := vex.Statement{
			Vulnerability: vex.Vulnerability{ID: f.URL, Name: vex.VulnerabilityID(f.ID), Description: f.Summary, Aliases: aliases},
			Products:      products,
		}
		switch {
		case f.Reachable:
			st.Status = vex.StatusAffected
			st.ActionStatement = strings.ToUpper(f.Advice()[:1]) + f.Advice()[1:] + "."
			if f.Ignored != nil {
				st.ActionStatement += fmt.Sprintf(" The supplier accepts the risk until %s: %s.", f.Ignored.Expires, strings.TrimSuffix(f.Ignored.Reason, "."))
			}
			if f.Precision == format.PrecisionBinarySymbols {
				st.StatusNotes = "the vulnerable function is linked into the binary; reachability was not analysed"
			}
		case f.Status == format.VulnImported:
			st.Status = vex.StatusNotAffected
			st.Justification = vex.VulnerableCodeNotInExecutePath
			st.ImpactStatement = fmt.Sprintf("%s imports %s, but no call path reaches the vulnerable functions (%s analysis)",
				d.Module, strings.Join(f.Packages, ", "), f.Precision)
		default:
			st.Status = vex.StatusNotAffected
			st.Justification = vex.VulnerableCodeNotPresent
			st.ImpactStatement = fmt.Sprintf("%s is in the module graph, but none of its vulnerable packages is built in", f.Module)
		}
		if err := st.Validate(); err != nil {
			return nil, fmt.Errorf("OpenVEX statement for %s: %w", f.ID, err)
		}
		doc.Statements = append(doc.Statements, st)
	}
	if _, err := doc.GenerateCanonicalID(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := doc.ToJSON(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// purl is the package URL of a Go module version; the standard library is
// pkg:golang/stdlib, as govulncheck and the Go SBOM tools write it.
func purl(module, version string) string {
	p := "pkg:golang/" + module
	if version != "" {
		p += "@" + version
	}
	return p
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return append(xs[:n:n], "…")
	}
	return xs
}
