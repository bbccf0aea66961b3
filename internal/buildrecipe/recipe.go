// Package buildrecipe is how one binary of a delivery is built, as a fixed
// structure: the main package, the target, build tags, the linker's -s, -w
// and -X settings, -trimpath, VCS stamping, cgo on or off, and the Go
// toolchain with SOURCE_DATE_EPOCH. `hegui deliver` records a recipe for
// every binary in the signed provenance; its reproducibility check and
// `hegui verify --rebuild` read it back.
//
// A recipe is data, never a command line. The go command's arguments and
// environment are made here, from an allow-list, so that a recipe taken
// from a delivery someone else made cannot name another program (-toolexec,
// -exec, CC, -extld), another output (-o), or another flag: every value is
// checked against a pattern before it is used, and the output path is the
// caller's.
package buildrecipe

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Recipe is how one binary was built.
type Recipe struct {
	// Output is the binary's path in the delivery: bin/SLUG/NAME.
	Output string `json:"output"`
	// Main is the main package, relative to the module root: "." or
	// "./cmd/app".
	Main string `json:"main"`
	// Target is GOOS/GOARCH[/LEVEL].
	Target string `json:"target"`
	// Tags are the build tags.
	Tags []string `json:"tags,omitempty"`
	// Ldflags are the linker settings.
	Ldflags Ldflags `json:"ldflags"`
	// Trimpath removes file system paths from the binary.
	Trimpath bool `json:"trimpath"`
	// BuildVCS stamps the version control state into the binary.
	BuildVCS bool `json:"buildvcs"`
	// CGO enables cgo (CGO_ENABLED=1). The C toolchain is the rebuilding
	// machine's own: a recipe never names one.
	CGO bool `json:"cgo"`
	// Experiment is GOEXPERIMENT, when set.
	Experiment string `json:"goexperiment,omitempty"`
}

// Ldflags are the linker settings a recipe may carry. The linker also
// always gets -buildid= (an empty build ID), which a recipe cannot change.
type Ldflags struct {
	// StripSymbols is -s: no symbol table.
	StripSymbols bool `json:"stripSymbols"`
	// StripDWARF is -w: no DWARF debugging information.
	StripDWARF bool `json:"stripDWARF"`
	// Define are the -X name=value settings, in order.
	Define []Define `json:"define,omitempty"`
}

// Define is one -X setting: a string variable and its value.
type Define struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Toolchain is what every binary of a delivery shares.
type Toolchain struct {
	// GoVersion is the go command's version, "go1.26.8".
	GoVersion string `json:"goVersion"`
	// SourceDateEpoch is SOURCE_DATE_EPOCH: the commit time, in seconds.
	SourceDateEpoch int64 `json:"sourceDateEpoch"`
}

var (
	// mainPattern is a package directory inside the module.
	mainPattern = regexp.MustCompile(`^\.(/[A-Za-z0-9_+][A-Za-z0-9_.+-]*)*$`)
	// outputPattern is bin/SLUG/NAME.
	outputPattern = regexp.MustCompile(`^bin/[a-z0-9._]+/[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	// definePattern is an import path and a variable: -X takes
	// importpath.name, where the import path may have dots and slashes.
	definePattern     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./~+-]*\.[A-Za-z_][A-Za-z0-9_]*$`)
	experimentPattern = regexp.MustCompile(`^[a-z0-9]+(,[a-z0-9]+)*$`)
	goVersionPattern  = regexp.MustCompile(`^go1\.[0-9]+(\.[0-9]+)?((rc|beta)[0-9]+)?$`)
)

// Limits on what a recipe may hold: far above any real build.
const (
	maxTags    = 64
	maxDefines = 64
	maxValue   = 1024
)

// Validate checks every field against what the go command would take as
// one plain value, and that Output is where Target and the binary name
// put it.
func (r Recipe) Validate() error {
	if !mainPattern.MatchString(r.Main) || slices.Contains(strings.Split(r.Main, "/"), "..") {
		return fmt.Errorf("main package %q is not a directory inside the module (./cmd/app)", r.Main)
	}
	t, err := ParseTarget(r.Target)
	if err != nil {
		return err
	}
	if !outputPattern.MatchString(r.Output) || path.Dir(r.Output) != "bin/"+t.Slug() {
		return fmt.Errorf("output %q is not bin/%s/NAME", r.Output, t.Slug())
	}
	if len(r.Tags) > maxTags {
		return fmt.Errorf("%d build tags, at most %d", len(r.Tags), maxTags)
	}
	for _, tag := range r.Tags {
		if !tagPattern.MatchString(tag) {
			return fmt.Errorf("build tag %q: use letters, digits, '_', '.' and '-'", tag)
		}
	}
	if r.Experiment != "" && !experimentPattern.MatchString(r.Experiment) {
		return fmt.Errorf("GOEXPERIMENT %q: want comma-separated lower-case names", r.Experiment)
	}
	return r.Ldflags.validate()
}

func (l Ldflags) validate() error {
	if len(l.Define) > maxDefines {
		return fmt.Errorf("%d -X settings, at most %d", len(l.Define), maxDefines)
	}
	for _, d := range l.Define {
		if !definePattern.MatchString(d.Name) {
			return fmt.Errorf("-X %q: want importpath.name", d.Name)
		}
		if len(d.Value) > maxValue {
			return fmt.Errorf("-X %s: the value is longer than %d bytes", d.Name, maxValue)
		}
		if strings.ContainsFunc(d.Value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("-X %s: the value holds a control character", d.Name)
		}
		if strings.Contains(d.Value, "'") && strings.Contains(d.Value, `"`) {
			return fmt.Errorf("-X %s: the value holds both kinds of quote, which -ldflags cannot carry", d.Name)
		}
	}
	return nil
}

// Validate checks the toolchain fields.
func (t Toolchain) Validate() error {
	if !goVersionPattern.MatchString(t.GoVersion) {
		return fmt.Errorf("the Go version %q is not a go release (go1.26.8)", t.GoVersion)
	}
	if t.SourceDateEpoch < 0 {
		return fmt.Errorf("SOURCE_DATE_EPOCH %d is negative", t.SourceDateEpoch)
	}
	return nil
}

// Command returns the go command's arguments (after "go") and the
// environment that build the recipe into out, a path the caller chose.
// The environment is complete for what decides the build: GOFLAGS is
// emptied, so that nothing in the caller's environment adds flags.
func (r Recipe) Command(tc Toolchain, out string) (args, env []string, err error) {
	if err := r.Validate(); err != nil {
		return nil, nil, err
	}
	if err := tc.Validate(); err != nil {
		return nil, nil, err
	}
	if out == "" || strings.HasPrefix(out, "-") {
		return nil, nil, fmt.Errorf("output path %q", out)
	}
	args = []string{"build"}
	if r.Trimpath {
		args = append(args, "-trimpath")
	}
	args = append(args, "-buildvcs="+strconv.FormatBool(r.BuildVCS), "-ldflags="+r.Ldflags.String())
	if len(r.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(r.Tags, ","))
	}
	args = append(args, "-o", out, r.Main)

	t, _ := ParseTarget(r.Target)
	env = append(t.Env(), "CGO_ENABLED="+map[bool]string{false: "0", true: "1"}[r.CGO], "GOFLAGS=",
		"GOEXPERIMENT="+r.Experiment, "SOURCE_DATE_EPOCH="+strconv.FormatInt(tc.SourceDateEpoch, 10))
	return args, env, nil
}

// String is the -ldflags value: -s, -w, the -X settings with each value
// quoted as the go command splits it, and -buildid=.
func (l Ldflags) String() string {
	var fields []string
	if l.StripSymbols {
		fields = append(fields, "-s")
	}
	if l.StripDWARF {
		fields = append(fields, "-w")
	}
	for _, d := range l.Define {
		fields = append(fields, "-X", quoteField(d.Name+"="+d.Value))
	}
	return strings.Join(append(fields, "-buildid="), " ")
}

// quoteField quotes a field the way the go command's flag splitting
// (cmd/internal/quoted) reads it back as one field: bare when it has no
// space or quote, else inside the quote character it does not contain.
func quoteField(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r'\"") {
		return s
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// ParseLdflags reads ldflags as hegui.yaml gives them (after template
// expansion; each entry one or more flags) into Ldflags. Only -s, -w,
// -X name=value and -buildid= (which hegui always sets) are accepted: a
// rebuild from the signed provenance can run nothing it cannot check.
func ParseLdflags(entries []string) (Ldflags, error) {
	var l Ldflags
	var fields []string
	for _, e := range entries {
		f, err := splitFields(e)
		if err != nil {
			return Ldflags{}, fmt.Errorf("ldflags %q: %w", e, err)
		}
		fields = append(fields, f...)
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case f == "-s" || f == "--s":
			l.StripSymbols = true
		case f == "-w" || f == "--w":
			l.StripDWARF = true
		case f == "-buildid=" || f == "--buildid=":
		case f == "-X" || f == "--X":
			if i+1 == len(fields) {
				return Ldflags{}, errors.New("ldflags: -X needs name=value")
			}
			i++
			if err := l.addDefine(fields[i]); err != nil {
				return Ldflags{}, err
			}
		case strings.HasPrefix(f, "-X=") || strings.HasPrefix(f, "--X="):
			if err := l.addDefine(f[strings.Index(f, "=")+1:]); err != nil {
				return Ldflags{}, err
			}
		default:
			return Ldflags{}, fmt.Errorf("ldflags: %q is not supported; hegui builds with -s, -w and -X name=value only, so that a rebuild from the signed provenance runs nothing but the compiler", f)
		}
	}
	return l, l.validate()
}

func (l *Ldflags) addDefine(setting string) error {
	name, value, ok := strings.Cut(setting, "=")
	if !ok {
		return fmt.Errorf("ldflags: -X %q is not name=value", setting)
	}
	l.Define = append(l.Define, Define{Name: name, Value: value})
	return nil
}

// splitFields splits a flag string into fields as the go command does:
// spaces separate fields, and a field may be wrapped in single or double
// quotes (with no escapes inside).
func splitFields(s string) ([]string, error) {
	var fields []string
	for {
		s = strings.TrimLeft(s, " \t\n\r")
		if s == "" {
			return fields, nil
		}
		if q := s[0]; q == '\'' || q == '"' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return nil, errors.New("unterminated quoted string")
			}
			fields = append(fields, s[1:1+end])
			s = s[2+end:]
			if s != "" && !strings.ContainsRune(" \t\n\r", rune(s[0])) {
				return nil, errors.New("quoted string not followed by a space")
			}
			continue
		}
		end := strings.IndexAny(s, " \t\n\r")
		if end < 0 {
			end = len(s)
		}
		fields = append(fields, s[:end])
		s = s[end:]
	}
}

// Settings are the environment entries hegui.yaml may give a build: cgo
// and GOEXPERIMENT; anything else would be a way to change the build that
// the provenance does not record.
type Settings struct {
	CGO        bool
	Experiment string
}

// ParseEnv reads a build's env entries (NAME=VALUE) from hegui.yaml.
func ParseEnv(env []string) (Settings, error) {
	var s Settings
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case "CGO_ENABLED":
			switch value {
			case "0":
				s.CGO = false
			case "1":
				s.CGO = true
			default:
				return Settings{}, fmt.Errorf("env %q: CGO_ENABLED is 0 or 1", kv)
			}
		case "GOEXPERIMENT":
			if value != "" && !experimentPattern.MatchString(value) {
				return Settings{}, fmt.Errorf("env %q: want comma-separated lower-case names", kv)
			}
			s.Experiment = value
		default:
			return Settings{}, fmt.Errorf("env %q: a build may set CGO_ENABLED and GOEXPERIMENT only; the target sets GOOS, GOARCH and the level, and hegui clears GOFLAGS", kv)
		}
	}
	return s, nil
}
