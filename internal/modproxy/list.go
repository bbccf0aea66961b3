package modproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"hegui.dev/hegui/internal/modstore"
)

// maxAgeChecks bounds how many of a list's newest versions are checked for
// release age: versions are released in order, so the walk from the newest
// stops at the first old enough.
const maxAgeChecks = 20

// storedVersions lists the versions of a module whose zip is stored and
// complete (recorded); for an internal module, whose publication is
// complete (its .tlog, written last, is stored).
func (p *Proxy) storedVersions(ctx context.Context, mod string) ([]string, error) {
	prefix, err := modstore.VersionsKey(mod)
	if err != nil {
		return nil, err
	}
	names, err := p.store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var versions []string
	published := map[string]bool{}
	for _, name := range names {
		if v, kind, ok := modstore.ParseVersionName(name); ok && kind == modstore.LogProofExt {
			published[v] = true
		}
	}
	internal := p.isInternal(mod)
	for _, name := range names {
		base, ok := strings.CutSuffix(name, modstore.RecordSuffix)
		if !ok {
			continue
		}
		if v, kind, ok := modstore.ParseVersionName(base); ok && kind == modstore.Zip && (!internal || published[v]) {
			versions = append(versions, v)
		}
	}
	return versions, nil
}

// versions is the version list the proxy answers for a module: the
// upstream's and the stored ones together (only the stored ones offline,
// for internal modules, or when the upstream does not answer in time),
// without pseudo-versions, minus what the policy refuses, sorted.
func (p *Proxy) versions(ctx context.Context, mod string) ([]string, error) {
	stored, err := p.storedVersions(ctx, mod)
	if err != nil {
		return nil, err
	}
	all := stored
	if p.offline || p.isInternal(mod) {
		if len(stored) == 0 {
			return nil, fmt.Errorf("%s: %w", mod, modstore.ErrNotExist)
		}
	} else {
		up, err := p.upstreamList(ctx, mod)
		switch {
		case err == nil:
			all = append(all, up...)
		case len(stored) > 0 && !errors.Is(err, context.Canceled):
			if !isNotFound(err) {
				p.log.Warn("upstream list failed: answering from the store", "module", mod, "err", err)
			}
		default:
			return nil, err
		}
	}
	seen := map[string]bool{}
	var list []string
	for _, v := range all {
		if seen[v] || !semver.IsValid(v) || module.IsPseudoVersion(v) || module.CanonicalVersion(v) != v {
			continue
		}
		seen[v] = true
		list = append(list, v)
	}
	semver.Sort(list)
	return p.allowedVersions(ctx, mod, list), nil
}

// allowedVersions drops the versions the policy refuses. Release age needs
// each version's .info, so only the newest versions are checked, down to
// the first one old enough.
func (p *Proxy) allowedVersions(ctx context.Context, mod string, list []string) []string {
	if p.policy == nil {
		return list
	}
	var out []string
	ageChecked := 0
	ageSettled := p.policy.MinAge == 0
	for i := len(list) - 1; i >= 0; i-- {
		v := list[i]
		if p.policy.refuseByRule(mod, v) != nil {
			continue
		}
		if !ageSettled {
			if ageChecked >= maxAgeChecks {
				continue
			}
			ageChecked++
			if p.checkAge(ctx, mod, v) != nil {
				continue
			}
			ageSettled = true
		}
		out = append(out, v)
	}
	// Back to ascending order.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (p *Proxy) upstreamList(ctx context.Context, mod string) ([]string, error) {
	ep, err := module.EscapePath(mod)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, upstreamListTimeout)
	defer cancel()
	data, err := p.up.getAll(ctx, p.up.base, "/"+ep+"/@v/list", maxListSize)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}

// serveList answers @v/list.
func (p *Proxy) serveList(ctx context.Context, w http.ResponseWriter, r *http.Request, req request, client string) {
	list, err := p.versions(ctx, req.module)
	if err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, v := range list {
		w.Write([]byte(v + "\n"))
	}
}

// serveLatest answers @latest. Online, the upstream's answer is passed on
// when the policy allows that version; otherwise (offline, internal, or a
// refused version) the answer is the .info of the highest allowed version
// the proxy can serve, or 404, after which the go command reads the list.
func (p *Proxy) serveLatest(ctx context.Context, w http.ResponseWriter, r *http.Request, req request, client string) {
	if !p.offline && !p.isInternal(req.module) {
		ep, err := module.EscapePath(req.module)
		if err != nil {
			httpError(w, http.StatusNotFound, err.Error())
			return
		}
		data, err := p.up.getAll(ctx, p.up.base, "/"+ep+"/@latest", maxInfoSize)
		if err == nil {
			var info Info
			if jerr := json.Unmarshal(data, &info); jerr == nil && isCanonical(info.Version) && p.checkPolicy(ctx, req.module, info.Version) == nil {
				w.Header().Set("Content-Type", "application/json")
				w.Write(data)
				return
			}
		} else if !isNotFound(err) {
			p.log.Warn("upstream @latest failed", "module", req.module, "err", err)
		}
	}
	stored, err := p.storedVersions(ctx, req.module)
	if err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	semver.Sort(stored)
	allowed := p.allowedVersions(ctx, req.module, stored)
	best := ""
	if len(allowed) > 0 {
		best = allowed[len(allowed)-1] // the highest, a pre-release only if nothing else
	}
	for _, v := range allowed {
		if semver.Prerelease(v) == "" {
			best = v
		}
	}
	if best == "" {
		httpError(w, http.StatusNotFound, req.module+": no version stored that this proxy may serve")
		return
	}
	rec, err := p.ensure(ctx, req.module, best, modstore.Info)
	if err != nil {
		p.fail(ctx, w, req, client, err)
		return
	}
	if err := p.serveStored(ctx, w, r, rec); err != nil {
		p.fail(ctx, w, req, client, err)
	}
}
