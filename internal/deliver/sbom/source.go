package sbom

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"runtime/debug"

	"hegui.dev/hegui/internal/gotool"
)

// FromSource builds the build information a binary of the main package pkg
// would carry, from the modules it links (as LinkedModules lists them for
// the environment of g: GOOS, GOARCH, CGO_ENABLED and tags), go.sum and the
// go command's version, so that source and binary SBOMs are made the same
// way.
func FromSource(ctx context.Context, g gotool.Go, pkg string, mods []gotool.Module, version string) (*buildinfo.BuildInfo, error) {
	if len(mods) == 0 || !mods[0].Main {
		return nil, fmt.Errorf("%s is not a package of the main module", pkg)
	}
	sums, err := gotool.GoSum(mods[0].Dir)
	if err != nil {
		return nil, err
	}
	vars, err := g.EnvVars(ctx, "GOVERSION")
	if err != nil {
		return nil, err
	}
	info := &debug.BuildInfo{GoVersion: vars["GOVERSION"], Path: pkg, Main: debug.Module{Path: mods[0].Path, Version: version}}
	for _, m := range mods[1:] {
		dep := &debug.Module{Path: m.Path, Version: m.Version, Sum: sums[m.Path+"@"+m.Version]}
		if r := m.Replace; r != nil {
			dep.Replace = &debug.Module{Path: r.Path, Version: r.Version}
			if r.Version != "" {
				dep.Replace.Sum = sums[r.Path+"@"+r.Version]
			}
		}
		info.Deps = append(info.Deps, dep)
	}
	return info, nil
}
