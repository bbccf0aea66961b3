package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/vcs"
)

// recipes reads the build recipes from the verified provenance statement
// (format.Provenance.Recipes), one per binary of the delivery.
func (s *state) recipes() ([]buildrecipe.Recipe, buildrecipe.Toolchain, error) {
	recipes, tc, dirty, err := s.provenance.Recipes()
	if err != nil {
		return nil, tc, err
	}
	s.builtDirty = dirty
	seen := map[string]bool{}
	for i, r := range recipes {
		if _, ok := s.entries[r.Output]; !ok || seen[r.Output] {
			return nil, tc, fmt.Errorf("provenance builds[%d] writes %q, which is not a binary of the delivery, or is written twice", i, r.Output)
		}
		seen[r.Output] = true
	}
	if len(recipes) != len(s.binaries()) {
		return nil, tc, fmt.Errorf("the provenance has %d build recipes for %d binaries", len(recipes), len(s.binaries()))
	}
	return recipes, tc, nil
}

// rebuild builds every binary again from the source directory, with the
// recipes of the signed provenance, into a fresh temporary directory, and
// compares digests. It runs only for a delivery whose signature, files and
// provenance hold: nothing a delivery says is run otherwise.
func (s *state) rebuild(ctx context.Context) (string, error) {
	if s.opts.Source == "" {
		return "", fmt.Errorf("--rebuild needs --source DIR")
	}
	if !s.filesHold || s.provenance == nil {
		return "", fmt.Errorf("not attempted: a rebuild runs only the recipe of a delivery whose files and signed provenance hold")
	}
	recipes, tc, err := s.recipes()
	if err != nil {
		return "", err
	}
	src, err := filepath.Abs(s.opts.Source)
	if err != nil {
		return "", err
	}
	if err := s.checkSource(ctx, src); err != nil {
		return "", err
	}
	toolchain, localGo, err := s.toolchain(ctx, src, tc)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "hegui-rebuild-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	var differ []string
	for _, r := range recipes {
		if s.opts.Progress != nil {
			s.opts.Progress("rebuilding " + r.Output)
		}
		out := filepath.Join(tmp, filepath.FromSlash(r.Output))
		args, env, err := r.Command(tc, out)
		if err != nil {
			return "", fmt.Errorf("%s: %w", r.Output, err)
		}
		g := gotool.Go{Dir: src, Env: append(env, toolchain)}
		if _, err := g.Run(ctx, args...); err != nil {
			if localGo != tc.GoVersion {
				// Most likely the toolchain could not be had (offline, no
				// module cache copy): say which versions are involved.
				return "", fmt.Errorf("rebuild %s: the delivery was built with %s, this machine's go is %s, and the build with %s failed (the go command fetches that toolchain as a module: is it in the module cache, or GOPROXY reachable?): %w",
					r.Output, tc.GoVersion, localGo, tc.GoVersion, err)
			}
			return "", fmt.Errorf("rebuild %s: %w", r.Output, err)
		}
		f, err := os.Open(out)
		if err != nil {
			return "", err
		}
		sums, _, err := digest.Sum(ctx, f, digest.SHA256)
		f.Close()
		if err != nil {
			return "", err
		}
		if fmt.Sprintf("%x", sums[0]) != s.entries[r.Output].SHA256 {
			differ = append(differ, r.Output)
		}
	}
	if len(differ) > 0 {
		return "", fmt.Errorf("rebuilt from source with %s, %s differ(s) from the delivery", tc.GoVersion, strings.Join(differ, ", "))
	}
	return fmt.Sprintf("%d binaries rebuilt from %s with %s are identical", len(recipes), s.opts.Source, tc.GoVersion), nil
}

// checkSource makes sure the source is the delivered commit, unchanged:
// otherwise the digests would differ for a reason the user can fix.
func (s *state) checkSource(ctx context.Context, src string) error {
	if s.manifest.Commit == "" {
		return nil
	}
	info, err := vcs.Read(ctx, src)
	if err != nil {
		return fmt.Errorf("source %s: %w", s.opts.Source, err)
	}
	if info.Commit != s.manifest.Commit {
		return fmt.Errorf("the source is at commit %.12s, the delivery was built from %.12s: check out that commit", info.Commit, s.manifest.Commit)
	}
	if info.Dirty && !s.builtDirty {
		return fmt.Errorf("the source at %s has uncommitted changes (%s): the go command would stamp the binaries as modified; rebuild from a clean checkout of %.12s", s.opts.Source, vcs.ChangesText(info.Changes, 5), s.manifest.Commit)
	}
	return nil
}

// toolchain picks the go command the recipe needs: the one on PATH when it
// is that version (GOTOOLCHAIN=local), else that version by name, which
// the go command fetches through GOPROXY when it can.
func (s *state) toolchain(ctx context.Context, src string, tc buildrecipe.Toolchain) (string, string, error) {
	vars, err := gotool.Go{Dir: src, Env: []string{"GOTOOLCHAIN=local"}}.EnvVars(ctx, "GOVERSION")
	if err != nil {
		return "", "", err
	}
	if vars["GOVERSION"] == tc.GoVersion {
		return "GOTOOLCHAIN=local", vars["GOVERSION"], nil
	}
	if s.opts.Progress != nil {
		s.opts.Progress(fmt.Sprintf("the delivery was built with %s, this machine's go is %s: using GOTOOLCHAIN=%s", tc.GoVersion, vars["GOVERSION"], tc.GoVersion))
	}
	return "GOTOOLCHAIN=" + tc.GoVersion, vars["GOVERSION"], nil
}
