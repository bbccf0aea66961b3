// Package build is the stage that compiles every main package for every
// target, in parallel, reproducibly by construction: -trimpath, build IDs
// cleared, VCS information stamped, cgo off unless asked for, GOFLAGS from
// the environment ignored, and SOURCE_DATE_EPOCH set to the commit time.
package build

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"golang.org/x/mod/module"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

// Stage builds d.Binaries.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "build" }

// Job is one binary to build.
type Job struct {
	Build  config.Build
	Target delivery.Target
	Out    string // relative to the delivery directory
}

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	builds, err := Builds(ctx, d)
	if err != nil {
		return err
	}
	jobs, err := Plan(builds, d.Module.Path)
	if err != nil {
		return err
	}
	goEnv, err := d.Go.EnvVars(ctx, "GOVERSION")
	if err != nil {
		return err
	}
	parallel := d.Options.Parallel
	if parallel <= 0 {
		parallel = runtime.NumCPU()
	}
	d.Log.Stepf("%d binaries: %d build(s) × targets, %d at a time", len(jobs), len(builds), parallel)

	results := make([]*delivery.Binary, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			results[i], errs[i] = buildOne(ctx, d, job, goEnv["GOVERSION"])
			if errs[i] == nil {
				d.Log.Stepf("built %s for %s (%.1f s)", path.Base(job.Out), job.Target, results[i].Seconds)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	d.Binaries = results
	return nil
}

// Builds returns the configured builds, or, with none configured, one per
// main package found: the module root if it is a main package, else the
// main packages under cmd/, else every main package.
func Builds(ctx context.Context, d *delivery.Delivery) ([]config.Build, error) {
	if len(d.Config.Builds) > 0 {
		return d.Config.Builds, nil
	}
	mains, err := Mains(ctx, d.Go, d.ModuleDir)
	if err != nil {
		return nil, err
	}
	if len(mains) == 0 {
		return nil, fmt.Errorf("module %s has no main package to build; name one in hegui.yaml (builds: - main: ./cmd/app)", d.Module.Path)
	}
	var builds []config.Build
	for _, m := range mains {
		builds = append(builds, config.Build{Main: m, Ldflags: config.DefaultLdflags, Targets: d.Config.Targets})
	}
	return builds, nil
}

// MainLister lists a module's main packages (gotool.Go and
// gotool.ModuleListing do).
type MainLister interface {
	MainPackages(ctx context.Context) ([]gotool.Package, error)
}

// Mains are the main packages hegui builds when hegui.yaml names none, as
// "." or "./cmd/app" (DefaultMains of the module's main packages); none for
// a library.
func Mains(ctx context.Context, g MainLister, moduleDir string) ([]string, error) {
	pkgs, err := g.MainPackages(ctx)
	if err != nil {
		return nil, err
	}
	var mains []string
	for _, p := range pkgs {
		rel, err := filepath.Rel(moduleDir, p.Dir)
		if err != nil {
			return nil, err
		}
		mains = append(mains, "./"+filepath.ToSlash(rel))
	}
	mains = DefaultMains(mains)
	for i, m := range mains {
		mains[i] = strings.TrimSuffix(m, "/.")
	}
	return mains, nil
}

// DefaultMains picks the packages to build from a module's main packages
// (relative paths such as "./." and "./cmd/app").
func DefaultMains(mains []string) []string {
	if slices.Contains(mains, "./.") {
		return []string{"."}
	}
	var cmd []string
	for _, m := range mains {
		if strings.HasPrefix(m, "./cmd/") {
			cmd = append(cmd, m)
		}
	}
	if len(cmd) > 0 {
		return cmd
	}
	return mains
}

// BinaryName is the configured binary name or the last element of the main
// package's path (without a /vN major version suffix).
func BinaryName(b config.Build, modulePath string) string {
	if b.Binary != "" {
		return b.Binary
	}
	p := strings.TrimPrefix(path.Clean(b.Main), "./")
	if p == "." {
		p = modulePath
		if prefix, _, ok := module.SplitPathVersion(modulePath); ok {
			p = prefix
		}
	}
	return path.Base(p)
}

// Plan expands builds × targets into jobs, sorted by output path, and
// checks that no two jobs write the same file.
func Plan(builds []config.Build, modulePath string) ([]Job, error) {
	var jobs []Job
	seen := map[string]string{}
	for _, b := range builds {
		name := BinaryName(b, modulePath)
		for _, ts := range b.Targets {
			t, err := delivery.ParseTarget(ts)
			if err != nil {
				return nil, err
			}
			file := name
			if t.OS == "windows" {
				file += ".exe"
			}
			out := path.Join("bin", t.Slug(), file)
			if other, dup := seen[out]; dup {
				return nil, fmt.Errorf("builds of %s and %s both write %s; give one of them another binary name", other, b.Main, out)
			}
			seen[out] = b.Main
			jobs = append(jobs, Job{Build: b, Target: t, Out: out})
		}
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].Out < jobs[j].Out })
	return jobs, nil
}

// TemplateData is what ldflags templates can use.
type TemplateData struct {
	Version, Commit, ShortCommit, Date, Tag, Os, Arch string
}

// Recipe returns the recipe of a job: its ldflags expanded and parsed, its
// environment read into the settings a recipe may carry.
func Recipe(d *delivery.Delivery, job Job) (buildrecipe.Recipe, error) {
	data := TemplateData{
		Version: d.Version.Version, Commit: d.Version.Commit, ShortCommit: d.Version.ShortCommit,
		Date: d.Version.CommitTime.UTC().Format(time.RFC3339), Tag: d.Version.Tag,
		Os: job.Target.OS, Arch: job.Target.Arch,
	}
	var expanded []string
	for _, f := range job.Build.Ldflags {
		e, err := expand(f, data)
		if err != nil {
			return buildrecipe.Recipe{}, fmt.Errorf("build %s: ldflags %q: %w", job.Build.Main, f, err)
		}
		expanded = append(expanded, e)
	}
	ldflags, err := buildrecipe.ParseLdflags(expanded)
	if err != nil {
		return buildrecipe.Recipe{}, fmt.Errorf("build %s in hegui.yaml: %w", job.Build.Main, err)
	}
	settings, err := buildrecipe.ParseEnv(job.Build.Env)
	if err != nil {
		return buildrecipe.Recipe{}, fmt.Errorf("build %s in hegui.yaml: %w", job.Build.Main, err)
	}
	r := buildrecipe.Recipe{
		Output: job.Out, Main: mainDir(job.Build.Main), Target: job.Target.String(), Tags: job.Build.Tags,
		Ldflags: ldflags, Trimpath: true, BuildVCS: d.Version.VCS, CGO: settings.CGO, Experiment: settings.Experiment,
	}
	if err := r.Validate(); err != nil {
		return buildrecipe.Recipe{}, fmt.Errorf("build %s in hegui.yaml: %w", job.Build.Main, err)
	}
	return r, nil
}

// mainDir writes a main package directory as a recipe has it: "." or
// "./cmd/app".
func mainDir(m string) string {
	m = path.Clean(strings.TrimPrefix(filepath.ToSlash(m), "./"))
	if m == "." {
		return m
	}
	return "./" + m
}

// Toolchain is what every build of the delivery shares.
func Toolchain(d *delivery.Delivery, goVersion string) buildrecipe.Toolchain {
	return buildrecipe.Toolchain{GoVersion: goVersion, SourceDateEpoch: d.Version.CommitTime.Unix()}
}

func expand(text string, data TemplateData) (string, error) {
	t, err := template.New("ldflags").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func buildOne(ctx context.Context, d *delivery.Delivery, job Job, goVersion string) (*delivery.Binary, error) {
	if err := os.MkdirAll(filepath.Dir(d.Path(job.Out)), 0o755); err != nil {
		return nil, err
	}
	recipe, err := Recipe(d, job)
	if err != nil {
		return nil, err
	}
	tc := Toolchain(d, goVersion)
	if err := tc.Validate(); err != nil {
		return nil, fmt.Errorf("go env GOVERSION: %w", err)
	}
	args, env, err := recipe.Command(tc, job.Out)
	if err != nil {
		return nil, err
	}
	runArgs, _, err := recipe.Command(tc, d.Path(job.Out))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	g := d.Go.With(env...)
	if _, err := g.Run(ctx, runArgs...); err != nil {
		return nil, fmt.Errorf("build %s for %s: %w", job.Build.Main, job.Target, err)
	}
	elapsed := time.Since(start).Seconds()
	f, err := os.Open(d.Path(job.Out))
	if err != nil {
		return nil, err
	}
	sums, size, err := digest.Sum(ctx, f, digest.SHA256, digest.SM3)
	f.Close()
	if err != nil {
		return nil, err
	}
	mods, pkgs, err := g.Linked(ctx, job.Build.Main, job.Build.Tags)
	if err != nil {
		return nil, fmt.Errorf("list the modules linked into %s for %s: %w", job.Build.Main, job.Target, err)
	}
	return &delivery.Binary{
		Binary: format.Binary{
			Build: buildID(job.Build, d.Module.Path), Main: job.Build.Main, Target: job.Target, Path: job.Out,
			Size: size, SHA256: fmt.Sprintf("%x", sums[0]), SM3: fmt.Sprintf("%x", sums[1]), Seconds: elapsed,
			Args: args, Env: env, Tags: job.Build.Tags, GoVersion: goVersion, ModuleCount: len(mods),
			RuntimePackages: runtimePackages(d.Path(job.Out), pkgs),
		},
		Recipe: recipe, Modules: mods, Packages: pkgs,
	}, nil
}

// runtimePackages are the runtime packages (format.RuntimeCapabilities)
// a binary links: its source graph lists them, and its build information
// records hegui's module, as the main module or a dependency.
func runtimePackages(file string, pkgs []string) []string {
	linked := format.RuntimePackagesLinked(pkgs)
	if len(linked) == 0 {
		return nil
	}
	info, err := buildinfo.ReadFile(file)
	if err != nil {
		return nil
	}
	if info.Main.Path == format.HeguiModule {
		return linked
	}
	for _, dep := range info.Deps {
		if dep.Path == format.HeguiModule {
			return linked
		}
	}
	return nil
}

func buildID(b config.Build, modulePath string) string {
	if b.ID != "" {
		return b.ID
	}
	return BinaryName(b, modulePath)
}
