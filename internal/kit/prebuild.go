package kit

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"hegui.dev/hegui/internal/gotool"
)

// prebuild builds each project to prebuild with each of the kit's
// toolchains for this platform, offline, from the kit's own module cache,
// into the kit's build cache. The builds use -trimpath: without it the go
// command keys a package's cache entries by its directory, and the module
// cache's directory changes when the kit is installed (restic v0.18.0:
// 97 s to build from a moved cache without it, 1.6 s with it).
//
// A toolchain for another platform cannot run here; its kit carries no
// cache for it, which the progress says.
func (b *builder) prebuild(ctx context.Context, work string, toolchains []Toolchain) error {
	if len(b.o.Prebuild) == 0 {
		return nil
	}
	cache := filepath.Join(b.root, BuildCacheDir)
	gopath := filepath.Join(b.root, filepath.FromSlash(GoPathDir))
	built := 0
	for _, t := range toolchains {
		if t.Platform != HostPlatform() {
			b.o.Progress("no build cache for Go %s on %s: it does not run on this machine (%s)", strings.TrimPrefix(t.Version, "go"), t.Platform, HostPlatform())
			continue
		}
		goroot := filepath.Join(work, "goroot", t.Version)
		if err := unpackToolchain(ctx, t, filepath.Join(b.root, filepath.FromSlash(t.Zip)), goroot); err != nil {
			return err
		}
		for _, dir := range b.o.Prebuild {
			b.o.Progress("building %s with Go %s for the kit's build cache", dir, strings.TrimPrefix(t.Version, "go"))
			g := gotool.Go{Dir: dir, Binary: filepath.Join(goroot, "bin", "go"), Env: []string{
				"GOROOT=" + goroot,
				"GOPATH=" + gopath,
				"GOMODCACHE=" + filepath.Join(gopath, "pkg", "mod"),
				"GOCACHE=" + cache,
				"GOPROXY=off",
				"GOFLAGS=-modcacherw -trimpath",
				"GOTOOLCHAIN=local",
				"GOWORK=off",
				"GOENV=off",
				"GOSUMDB=" + b.o.Getenv("GOSUMDB"),
				"GONOSUMDB=" + b.o.Getenv("GONOSUMDB"),
				"GOPRIVATE=" + b.o.Getenv("GOPRIVATE"),
			}}
			if _, err := g.Run(ctx, "build", "./..."); err != nil {
				return fmt.Errorf("prebuilding %s with Go %s (from the kit's modules alone: give its go.sum to --modules): %w", dir, t.Version, err)
			}
			built++
		}
	}
	if built == 0 {
		return fmt.Errorf("--prebuild: the kit has no toolchain for this machine (%s) to build with", HostPlatform())
	}
	return nil
}
