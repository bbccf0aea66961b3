package vulndb

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"golang.org/x/mod/semver"
)

// Entry is the part of an OSV entry (https://ossf.github.io/osv-schema/)
// that hegui reads: enough to index it, check it, and report on it. The
// database keeps each entry's original bytes; this is never written back.
type Entry struct {
	SchemaVersion    string            `json:"schema_version,omitempty"`
	ID               string            `json:"id"`
	Modified         time.Time         `json:"modified"`
	Published        time.Time         `json:"published"`
	Withdrawn        *time.Time        `json:"withdrawn,omitempty"`
	Aliases          []string          `json:"aliases,omitempty"`
	Summary          string            `json:"summary,omitempty"`
	Details          string            `json:"details,omitempty"`
	Affected         []Affected        `json:"affected"`
	Severity         []Severity        `json:"severity,omitempty"`
	References       []Reference       `json:"references,omitempty"`
	DatabaseSpecific *DatabaseSpecific `json:"database_specific,omitempty"`
}

// Affected is one affected package (for Go: a module, "stdlib" or "toolchain").
type Affected struct {
	Package           Package            `json:"package"`
	Ranges            []Range            `json:"ranges,omitempty"`
	Severity          []Severity         `json:"severity,omitempty"`
	EcosystemSpecific *EcosystemSpecific `json:"ecosystem_specific,omitempty"`
}

// Package names the affected module.
type Package struct {
	Name      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
}

// Range is a list of introduced/fixed events.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is one boundary of an affected range.
type Event struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

// Severity is a scored severity, e.g. {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/..."}.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Reference is a link about the vulnerability.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// EcosystemSpecific holds the Go database's package and symbol lists.
type EcosystemSpecific struct {
	Imports []PackageImport `json:"imports,omitempty"`
}

// PackageImport is a vulnerable package and, optionally, its vulnerable symbols.
type PackageImport struct {
	Path    string   `json:"path"`
	GOOS    []string `json:"goos,omitempty"`
	GOARCH  []string `json:"goarch,omitempty"`
	Symbols []string `json:"symbols,omitempty"`
}

// DatabaseSpecific holds the Go database's own fields.
type DatabaseSpecific struct {
	URL          string `json:"url,omitempty"`
	ReviewStatus string `json:"review_status,omitempty"`
}

// idPattern is what an entry ID may look like: it becomes a file name, so
// no path separators, dots-only names or control characters.
var idPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._-]+$`)

// ValidID reports whether id can name an entry (and its file).
func ValidID(id string) bool { return len(id) <= 128 && idPattern.MatchString(id) }

// ParseEntry decodes and checks one OSV entry: its ID, its times, and the
// fields govulncheck would refuse (review_status).
func ParseEntry(data []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("not an OSV entry: %s", jsonError(err))
	}
	if e.ID == "" {
		return nil, errors.New("OSV entry without an id")
	}
	if !ValidID(e.ID) {
		return nil, fmt.Errorf("OSV entry id %q is not a plain identifier", e.ID)
	}
	if e.DatabaseSpecific != nil {
		switch e.DatabaseSpecific.ReviewStatus {
		case "", "REVIEWED", "UNREVIEWED":
		default:
			return nil, fmt.Errorf("%s: unknown review_status %q", e.ID, e.DatabaseSpecific.ReviewStatus)
		}
	}
	for _, a := range e.Affected {
		if a.Package.Name == "" {
			return nil, fmt.Errorf("%s: an affected package has no name", e.ID)
		}
	}
	return &e, nil
}

// jsonError shortens encoding/json errors to one line.
func jsonError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("invalid time %q (want RFC 3339, e.g. 2026-01-02T15:04:05Z)", pe.Value)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type (%s)", te.Field, te.Value)
	}
	return err.Error()
}

// Modules returns the module paths the entry affects, in order, once each.
func (e *Entry) Modules() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range e.Affected {
		if !seen[a.Package.Name] {
			seen[a.Package.Name] = true
			out = append(out, a.Package.Name)
		}
	}
	return out
}

// LatestFixed is the highest fixed version the entry gives for module, in
// the form the database index uses (semver without "v"), or "".
func (e *Entry) LatestFixed(module string) string {
	best := ""
	for _, a := range e.Affected {
		if a.Package.Name != module {
			continue
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			for _, ev := range r.Events {
				if ev.Fixed == "" {
					continue
				}
				if best == "" || semver.Compare(canonical(ev.Fixed), canonical(best)) > 0 {
					best = ev.Fixed
				}
			}
		}
	}
	return trimV(best)
}

// FixedAfter is the earliest fixed version of module above version (both
// with or without "v"), or "" when no fix is known.
func (e *Entry) FixedAfter(module, version string) string {
	v := canonical(version)
	best := ""
	for _, a := range e.Affected {
		if a.Package.Name != module {
			continue
		}
		for _, r := range a.Ranges {
			for _, ev := range r.Events {
				f := canonical(ev.Fixed)
				if ev.Fixed == "" || (v != "" && semver.Compare(f, v) <= 0) {
					continue
				}
				if best == "" || semver.Compare(f, best) < 0 {
					best = f
				}
			}
		}
	}
	return best
}

// canonical turns "1.2.3", "v1.2.3" or "go1.2.3" into "v1.2.3".
func canonical(v string) string {
	switch {
	case v == "":
		return ""
	case len(v) > 2 && v[:2] == "go":
		return "v" + v[2:]
	case v[0] != 'v':
		return "v" + v
	}
	return v
}

func trimV(v string) string {
	if len(v) > 0 && v[0] == 'v' {
		return v[1:]
	}
	return v
}

// Affects reports whether the entry affects version of module (both with
// or without "v"): whether a SEMVER range of the module holds the version,
// going through its events in version order (OSV's evaluation: affected
// from an introduced, up to a fixed). A withdrawn entry affects nothing.
func (e *Entry) Affects(module, version string) bool {
	if e.Withdrawn != nil {
		return false
	}
	v := canonical(version)
	for _, a := range e.Affected {
		if a.Package.Name != module {
			continue
		}
		if len(a.Ranges) == 0 {
			return true // every version, as OSV reads an entry without ranges
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			events := slices.Clone(r.Events)
			point := func(ev Event) string {
				if ev.Introduced == "0" {
					return "v0.0.0-0"
				}
				return canonical(cmp.Or(ev.Introduced, ev.Fixed))
			}
			slices.SortStableFunc(events, func(x, y Event) int { return semver.Compare(point(x), point(y)) })
			affected := false
			for _, ev := range events {
				if semver.Compare(v, point(ev)) < 0 {
					break
				}
				affected = ev.Introduced != ""
			}
			if affected {
				return true
			}
		}
	}
	return false
}
