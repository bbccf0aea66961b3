package modproxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Policy decides which module versions the proxy serves. Rules apply to
// .info, .zip, lists and @latest; a go.mod is always served, because the
// go command reads the go.mod of versions it never builds.
type Policy struct {
	// Allow, when not empty, admits only the public module versions one of
	// its rules matches. Internal modules are not subject to it.
	Allow []Rule
	// Deny refuses the module versions any of its rules matches, internal
	// ones included.
	Deny []Rule
	// MinAge refuses public versions released less than this long ago,
	// going by the .info time; a version whose time is unknown is refused
	// (fail closed). Zero turns the check off.
	MinAge time.Duration
	// Licenses and Vulns, when set, refuse public zips by licence and by
	// known vulnerability.
	Licenses *LicenseGate
	Vulns    *VulnGate
}

// Rule matches module versions.
type Rule struct {
	// Module is a module path pattern in GOPRIVATE syntax: a path prefix,
	// with path.Match globs per element ("github.com/corp/*").
	Module string
	// Versions, if not empty, limits the rule to a version range: one or
	// more comparisons joined by spaces, all of which must hold
	// (">=v1.2.0 <v1.4.0", "<v0.9.1", "=v1.0.0").
	Versions string
	// Reason says why, for the refusal's text.
	Reason string

	ranges []versionBound
}

type versionBound struct {
	op      string // "<", "<=", ">", ">=", "="
	version string
}

// Compile checks the policy's rules; a Policy must be compiled before use.
func (p *Policy) Compile() error {
	for _, set := range []struct {
		name  string
		rules []Rule
	}{{"allow", p.Allow}, {"deny", p.Deny}} {
		for i := range set.rules {
			if err := set.rules[i].compile(); err != nil {
				return fmt.Errorf("policy %s rule %d: %v", set.name, i+1, err)
			}
		}
	}
	if p.MinAge < 0 {
		return errors.New("policy min-age is negative")
	}
	return nil
}

func (r *Rule) compile() error {
	if strings.TrimSpace(r.Module) == "" {
		return errors.New("no module pattern")
	}
	if strings.ContainsAny(r.Module, ", ") {
		return fmt.Errorf("module pattern %q: one pattern per rule", r.Module)
	}
	r.ranges = nil
	for _, f := range strings.Fields(r.Versions) {
		i := strings.IndexByte(f, 'v')
		if i < 0 {
			return fmt.Errorf("version bound %q: want an operator (<, <=, >, >=, =) and a version, as in <v1.2.3", f)
		}
		op, v := f[:i], f[i:]
		switch op {
		case "<", "<=", ">", ">=", "=":
		default:
			return fmt.Errorf("version bound %q: want an operator (<, <=, >, >=, =) and a version, as in <v1.2.3", f)
		}
		if !semver.IsValid(v) {
			return fmt.Errorf("version bound %q: %q is not a semantic version (v1.2.3)", f, v)
		}
		r.ranges = append(r.ranges, versionBound{op, v})
	}
	return nil
}

// matches reports whether the rule covers mod@version.
func (r *Rule) matches(mod, version string) bool {
	if !module.MatchPrefixPatterns(r.Module, mod) {
		return false
	}
	for _, b := range r.ranges {
		c := semver.Compare(version, b.version)
		ok := false
		switch b.op {
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		case ">":
			ok = c > 0
		case ">=":
			ok = c >= 0
		case "=":
			ok = c == 0
		}
		if !ok {
			return false
		}
	}
	return true
}

func (r *Rule) describe() string {
	if r.Versions == "" {
		return r.Module
	}
	return r.Module + " " + r.Versions
}

// RefusedError is a request the proxy refuses by policy (403). Its text
// says which rule and what to do; the go command prints it.
type RefusedError struct {
	Rule   string // "deny", "allow", "min-age", "internal", a gate's name
	Reason string
	Fix    string
	// Err is the cause, when there is one (errors.Is reaches it).
	Err error
}

func (e *RefusedError) Unwrap() error { return e.Err }

func (e *RefusedError) Error() string {
	msg := "hegui proxy refused (" + e.Rule + "): " + e.Reason
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// refuseByRule applies the allow and deny rules to mod@version.
func (p *Policy) refuseByRule(mod, version string) *RefusedError {
	for i := range p.Deny {
		r := &p.Deny[i]
		if r.matches(mod, version) {
			reason := fmt.Sprintf("%s@%s matches the deny rule %q", mod, version, r.describe())
			if r.Reason != "" {
				reason += ": " + r.Reason
			}
			return &RefusedError{Rule: "deny", Reason: reason, Fix: "choose another version, or ask the proxy's operator"}
		}
	}
	if len(p.Allow) == 0 {
		return nil
	}
	for i := range p.Allow {
		if p.Allow[i].matches(mod, version) {
			return nil
		}
	}
	return &RefusedError{Rule: "allow", Reason: fmt.Sprintf("%s@%s matches no allow rule", mod, version),
		Fix: "ask the proxy's operator to allow it (policy.allow in proxy.yaml)"}
}

// checkPolicy decides whether mod@version may be served.
func (p *Proxy) checkPolicy(ctx context.Context, mod, version string) error {
	if p.policy == nil {
		return nil
	}
	internal := p.isInternal(mod)
	if r := p.policy.refuseByRule(mod, version); r != nil && (r.Rule == "deny" || !internal) {
		return r
	}
	if internal {
		return nil
	}
	return p.checkAge(ctx, mod, version)
}

// checkAge applies the minimum release age, failing closed.
func (p *Proxy) checkAge(ctx context.Context, mod, version string) error {
	if p.policy == nil || p.policy.MinAge == 0 {
		return nil
	}
	info, err := p.info(ctx, mod, version)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) || errors.Is(err, context.Canceled) {
			return err
		}
		return &RefusedError{Rule: "min-age", Reason: fmt.Sprintf("%s@%s: its release time is unknown (%v)", mod, version, err),
			Fix: "a version is served only once its release time shows it is at least " + p.policy.MinAge.String() + " old"}
	}
	if info.Time.IsZero() {
		return &RefusedError{Rule: "min-age", Reason: fmt.Sprintf("%s@%s: its .info gives no release time", mod, version),
			Fix: "a version is served only once its release time shows it is at least " + p.policy.MinAge.String() + " old"}
	}
	age := p.now().Sub(info.Time)
	if age < p.policy.MinAge {
		return &RefusedError{Rule: "min-age",
			Reason: fmt.Sprintf("%s@%s was released %s, %s ago; the minimum release age is %s", mod, version, info.Time.UTC().Format(time.RFC3339), age.Round(time.Minute), p.policy.MinAge),
			Fix:    "it is served from " + info.Time.Add(p.policy.MinAge).UTC().Format(time.RFC3339) + "; until then use an older version"}
	}
	return nil
}
