// Package sarif writes SARIF 2.1.0 logs (OASIS, sarif-schema-2.1.0.json)
// with github.com/owenrumney/go-sarif: one run per log, rules, results with
// locations, call paths as code flows, suppressions with their
// justification, and CWE references as a taxonomy. The vulnerability and
// static-analysis stages both write through it, so their logs look alike
// to the tools that read them (code-scanning dashboards, IDEs).
package sarif

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"strings"

	gosarif "github.com/owenrumney/go-sarif/v2/sarif"
)

// Levels of a result.
const (
	Error   = "error"
	Warning = "warning"
	Note    = "note"
)

// SrcRoot is the URI base of paths relative to the scanned module's root.
const SrcRoot = "SRCROOT"

// Log is one SARIF log with one run.
type Log struct {
	report *gosarif.Report
	run    *gosarif.Run
	rules  map[string]bool
	cwes   map[int]bool
	cwe    *gosarif.ToolComponent
}

// New starts a log for a tool.
func New(tool, version, informationURI string) *Log {
	report, _ := gosarif.New(gosarif.Version210) // cannot fail for a known version
	driver := gosarif.NewVersionedDriver(tool, version).WithInformationURI(informationURI)
	run := gosarif.NewRun(*gosarif.NewTool(driver))
	run.WithOriginalUriBaseIds(map[string]*gosarif.ArtifactLocation{
		SrcRoot: {Description: gosarif.NewTextMessage("the root of the scanned module")},
	})
	run.WithColumnKind("unicodeCodePoints")
	report.AddRun(run)
	return &Log{report: report, run: run, rules: map[string]bool{}, cwes: map[int]bool{}}
}

// Rule describes a kind of finding.
type Rule struct {
	ID, Name         string
	Short, Full      string
	Help, HelpURI    string
	Level            string // default level
	Tags             []string
	SecuritySeverity string // a CVSS-like score "0.0".."10.0", for code-scanning dashboards
}

// AddRule adds a rule once; later calls with the same ID are ignored.
func (l *Log) AddRule(r Rule) {
	if l.rules[r.ID] {
		return
	}
	l.rules[r.ID] = true
	rule := l.run.AddRule(r.ID).WithShortDescription(gosarif.NewMultiformatMessageString(orElse(r.Short, r.ID)))
	if r.Name != "" {
		rule.WithName(r.Name)
	}
	if r.Full != "" {
		rule.WithFullDescription(gosarif.NewMultiformatMessageString(r.Full))
	}
	if r.Help != "" {
		rule.WithHelp(gosarif.NewMultiformatMessageString(r.Help))
	}
	if r.HelpURI != "" {
		rule.WithHelpURI(r.HelpURI)
	}
	if r.Level != "" {
		rule.WithDefaultConfiguration(gosarif.NewReportingConfiguration().WithLevel(r.Level))
	}
	props := gosarif.Properties{}
	if len(r.Tags) > 0 {
		props["tags"] = r.Tags
	}
	if r.SecuritySeverity != "" {
		props["security-severity"] = r.SecuritySeverity
	}
	if len(props) > 0 {
		rule.WithProperties(props)
	}
}

// Location is a place in a file, relative to the module root unless
// URIBase says otherwise.
type Location struct {
	File         string // slash-separated path
	URIBase      string // SrcRoot by default; "" with Absolute
	Absolute     bool   // File is an absolute URI (file:///...) or a bare name
	Line, Column int
	Message      string
}

// Suppression records why a result is not acted on.
type Suppression struct {
	Kind          string // "inSource" or "external"
	Justification string
}

// Result is one finding.
type Result struct {
	RuleID   string
	Level    string
	Message  string
	Location *Location
	// Flows are call paths, each from the entry point to the finding.
	Flows        [][]Location
	Suppressions []Suppression
	CWEs         []int
	Properties   map[string]any
}

// Add adds a result.
func (l *Log) Add(r Result) {
	res := l.run.CreateResultForRule(r.RuleID).WithMessage(gosarif.NewTextMessage(r.Message))
	if r.Level != "" {
		res.WithLevel(r.Level)
	}
	var loc *gosarif.Location
	if r.Location != nil {
		loc = location(*r.Location)
		res.AddLocation(loc)
	}
	for _, flow := range r.Flows {
		tf := gosarif.NewThreadFlow()
		for _, step := range flow {
			tf.AddLocation(gosarif.NewThreadFlowLocation().WithLocation(location(step)))
		}
		res.CodeFlows = append(res.CodeFlows, gosarif.NewCodeFlow().WithThreadFlows([]*gosarif.ThreadFlow{tf}))
	}
	for _, s := range r.Suppressions {
		sup := gosarif.NewSuppression(s.Kind).WithStatus("accepted").
			WithGuid(guid(r.RuleID, r.Message, s.Kind, s.Justification, locKey(r.Location)))
		sup.Justification = &s.Justification
		if loc != nil {
			sup.WithLocation(loc)
		} else {
			sup.WithLocation(gosarif.NewLocation().WithDescriptionText("the whole analysis"))
		}
		res.Suppressions = append(res.Suppressions, sup)
	}
	seen := map[int]bool{}
	for _, c := range r.CWEs {
		if seen[c] {
			continue
		}
		seen[c] = true
		l.addCWE(c)
		res.AddTaxa(gosarif.NewReportingDescriptorReference().WithId(strconv.Itoa(c)).
			WithToolComponentReference(cweReference()))
	}
	if len(r.Properties) > 0 {
		res.Properties = gosarif.Properties(r.Properties)
	}
	res.PartialFingerprints = map[string]any{"primaryLocationLineHash": guid(r.RuleID, locKey(r.Location), r.Message)}
}

func (l *Log) addCWE(id int) {
	if l.cwe == nil {
		l.cwe = &gosarif.ToolComponent{
			Name:             "CWE",
			GUID:             ptr(cweGUID),
			Rules:            []*gosarif.ReportingDescriptor{},
			Version:          ptr("4.16"),
			InformationURI:   ptr("https://cwe.mitre.org/"),
			Organization:     ptr("MITRE"),
			ShortDescription: gosarif.NewMultiformatMessageString("The MITRE Common Weakness Enumeration"),
		}
	}
	if l.cwes[id] {
		return
	}
	l.cwes[id] = true
	taxon := gosarif.NewRule(strconv.Itoa(id)).
		WithName(fmt.Sprintf("CWE-%d", id)).
		WithShortDescription(gosarif.NewMultiformatMessageString(fmt.Sprintf("CWE-%d", id))).
		WithHelpURI(fmt.Sprintf("https://cwe.mitre.org/data/definitions/%d.html", id))
	l.cwe.Taxa = append(l.cwe.Taxa, taxon)
}

// Bytes returns the log as indented JSON.
func (l *Log) Bytes() ([]byte, error) {
	if l.cwe != nil {
		sort.Slice(l.cwe.Taxa, func(i, j int) bool {
			a, _ := strconv.Atoi(l.cwe.Taxa[i].ID)
			b, _ := strconv.Atoi(l.cwe.Taxa[j].ID)
			return a < b
		})
		l.run.Taxonomies = []*gosarif.ToolComponent{l.cwe}
		l.run.Tool.Driver.WithSupportedTaxonomies([]*gosarif.ToolComponentReference{cweReference()})
	}
	if l.run.Tool.Driver.Rules == nil {
		l.run.Tool.Driver.Rules = []*gosarif.ReportingDescriptor{}
	}
	if l.run.Results == nil {
		l.run.Results = []*gosarif.Result{}
	}
	var b strings.Builder
	if err := l.report.PrettyWrite(&b); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// cweGUID identifies the CWE taxonomy component of every hegui log.
var cweGUID = guid("hegui CWE taxonomy")

// cweReference points at the CWE taxonomy, the run's first.
func cweReference() *gosarif.ToolComponentReference {
	return gosarif.NewToolComponentReference().WithName("CWE").WithIndex(0).WithGuid(cweGUID)
}

func location(loc Location) *gosarif.Location {
	al := gosarif.NewSimpleArtifactLocation(loc.File)
	if !loc.Absolute {
		al.WithUriBaseId(orElse(loc.URIBase, SrcRoot))
	}
	pl := gosarif.NewPhysicalLocation().WithArtifactLocation(al)
	if loc.Line > 0 {
		region := gosarif.NewRegion().WithStartLine(loc.Line)
		if loc.Column > 0 {
			region.WithStartColumn(loc.Column)
		}
		pl.WithRegion(region)
	}
	out := gosarif.NewLocationWithPhysicalLocation(pl)
	if loc.Message != "" {
		out.WithMessage(gosarif.NewTextMessage(loc.Message))
	}
	return out
}

func locKey(l *Location) string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
}

// guid makes a stable name-based UUID from parts (in the manner of RFC 9562
// version 5, with SHA-256 truncated in place of SHA-1).
func guid(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50 // version 5: the SARIF schema accepts versions 1 to 5
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// Merge joins SARIF logs into one log holding all their runs, as code
// scanning services accept one upload per analysis.
func Merge(logs ...[]byte) ([]byte, error) {
	merged, _ := gosarif.New(gosarif.Version210)
	for i, data := range logs {
		r, err := gosarif.FromBytes(data)
		if err != nil {
			return nil, fmt.Errorf("SARIF log %d: %w", i+1, err)
		}
		merged.Runs = append(merged.Runs, r.Runs...)
	}
	var b strings.Builder
	if err := merged.PrettyWrite(&b); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
