package sbom

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"runtime/debug"

	"hegui.dev/hegui/internal/gotool"
)

// FromSource builds the build information a binary of the main package pkg
// would carry for the environment of g (GOOS, GOARCH, CGO_ENABLED), from
// `go list -deps` and go.sum, so that source and binary SBOMs are made the
// same way. It also returns the linked modules as the go command lists them.
func FromSource(ctx context.Context, g gotool.Go, pkg string, tags []string, version string) (*buildinfo.BuildInfo, []gotool.Module, error) {
	mods, err := g.LinkedModules(ctx, pkg, tags)
	if err != nil {
		return nil, nil, err
	}
	if len(mods) == 0 || !mods[0].Main {
		return nil, nil, fmt.Errorf("%s is not a package of the main module", pkg)
	}
	sums, err := gotool.GoSum(mods[0].Dir)
	if err != nil {
		return nil, nil, err
	}
	vars, err := g.EnvVars(ctx, "GOVERSION")
	if err != nil {
		return nil, nil, err
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
	return info, mods, nil
}
