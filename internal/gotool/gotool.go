// Package gotool runs the go command and reads what it reports: the module
// being delivered, its main packages, the modules a target links, the module
// graph, and the build information inside binaries. It is the only place
// hegui execs the go command, so its environment rules live here.
package gotool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Go runs the go command in a directory with an environment.
type Go struct {
	// Dir is the working directory (the module root).
	Dir string
	// Env is added to the process environment, overriding it.
	Env []string
	// Binary is the go command to run; empty means "go" from PATH.
	Binary string
	// BaseEnv, if set, replaces the process environment under Env (a
	// user's shell environment, as hegui kit doctor reads it).
	BaseEnv []string

	// read holds go env values already read (see ReadEnvVars).
	read *envValues
}

// envValues are go env values and the directory and environment they were
// read in: they answer only a Go with the same.
type envValues struct {
	dir  string
	env  []string
	vars map[string]string
}

// Run runs go with args and returns standard output. A failure carries the
// command's standard error.
func (g Go) Run(ctx context.Context, args ...string) ([]byte, error) {
	bin := g.Binary
	if bin == "" {
		bin = "go"
	}
	base := g.BaseEnv
	if base == nil {
		base = os.Environ()
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = g.Dir
	cmd.Env = MergeEnv(base, g.Env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("the go command is not installed or not on PATH")
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("go %s: %s", strings.Join(args, " "), msg)
	}
	return stdout.Bytes(), nil
}

// MergeEnv returns base with the NAME=VALUE entries of extra replacing or
// adding to it; later entries win.
func MergeEnv(base, extra []string) []string {
	out := slices.Clone(base)
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		out = append(out, kv)
	}
	return out
}

// With returns a copy of g with more environment.
func (g Go) With(env ...string) Go {
	return Go{Dir: g.Dir, Env: append(slices.Clone(g.Env), env...), Binary: g.Binary, BaseEnv: g.BaseEnv}
}

// EnvVars reads `go env` values. Values ReadEnvVars has read for g's
// directory and environment are not asked again.
func (g Go) EnvVars(ctx context.Context, names ...string) (map[string]string, error) {
	if r := g.read; r != nil && r.dir == g.Dir && slices.Equal(r.env, g.Env) {
		vars := map[string]string{}
		for _, name := range names {
			v, ok := r.vars[name]
			if !ok {
				vars = nil
				break
			}
			vars[name] = v
		}
		if vars != nil {
			return vars, nil
		}
	}
	out, err := g.Run(ctx, append([]string{"env", "-json"}, names...)...)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	if err := json.Unmarshal(out, &vars); err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	return vars, nil
}

// ReadEnvVars runs `go env` once for names and returns a copy of g whose
// EnvVars answers for them without running it again. Stages that each ask
// for a value or two (GOVERSION, GOROOT) then share one go command; a
// change of directory or environment (With) forgets the values.
func (g Go) ReadEnvVars(ctx context.Context, names ...string) (Go, error) {
	vars, err := g.EnvVars(ctx, names...)
	if err != nil {
		return g, err
	}
	g.read = &envValues{dir: g.Dir, env: slices.Clone(g.Env), vars: vars}
	return g, nil
}

// Platforms lists the GOOS/GOARCH pairs the go command can build for
// (`go tool dist list`).
func (g Go) Platforms(ctx context.Context) (map[string]bool, error) {
	out, err := g.Run(ctx, "tool", "dist", "list")
	if err != nil {
		return nil, err
	}
	ports := map[string]bool{}
	for _, line := range strings.Fields(string(out)) {
		ports[line] = true
	}
	return ports, nil
}

// Module is a module as `go list` describes it.
type Module struct {
	Path      string
	Version   string
	Replace   *Module
	Main      bool
	Dir       string
	GoMod     string
	GoVersion string
	Sum       string
}

// MainModule describes the module in g.Dir.
func (g Go) MainModule(ctx context.Context) (*Module, error) {
	if err := checkModuleDir(g.Dir); err != nil {
		return nil, err
	}
	out, err := g.Run(ctx, "list", "-m", "-json")
	if err != nil {
		return nil, err
	}
	// In a workspace, `go list -m` lists every workspace module; pick the
	// one whose directory holds g.Dir.
	dec := json.NewDecoder(bytes.NewReader(out))
	abs, _ := filepath.Abs(g.Dir)
	var best *Module
	for {
		var m Module
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -m: %w", err)
		}
		if m.Dir != "" && (abs == m.Dir || strings.HasPrefix(abs, m.Dir+string(filepath.Separator))) {
			if best == nil || len(m.Dir) > len(best.Dir) {
				mod := m
				best = &mod
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s is not inside a Go module (no go.mod)", g.Dir)
	}
	return best, nil
}

// Package is a package as `go list` describes it.
type Package struct {
	ImportPath string
	Name       string
	Dir        string
	Standard   bool
	Module     *Module
	// GoFiles and CgoFiles are the package's non-test source files.
	GoFiles  []string
	CgoFiles []string
}

// MainPackages lists the main packages of the module, as import paths. A
// directory whose only files are tests declaring package main (as some
// modules keep at their root) is not a program and is left out.
func (g Go) MainPackages(ctx context.Context) ([]Package, error) {
	out, err := g.Run(ctx, "list", "-json=ImportPath,Name,Dir,GoFiles,CgoFiles", "./...")
	if err != nil {
		return nil, err
	}
	pkgs, err := decodePackages(out)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(pkgs, func(p Package) bool { return !isProgram(p) }), nil
}

// isProgram reports whether p is a main package with files to build.
func isProgram(p Package) bool {
	return p.Name == "main" && len(p.GoFiles)+len(p.CgoFiles) > 0
}

func decodePackages(out []byte) ([]Package, error) {
	pkgs, err := decodeJSONStream[Package](out)
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	return pkgs, nil
}

// decodeJSONStream decodes the JSON values go list prints one after
// another.
func decodeJSONStream[T any](out []byte) ([]T, error) {
	var vs []T
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var v T
		if err := dec.Decode(&v); err == io.EOF {
			return vs, nil
		} else if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
}

// LinkedModules returns the modules that provide packages linked into pkg
// when built with g's environment (GOOS, GOARCH, CGO_ENABLED and tags
// decide which files, and so which imports, count). The module of pkg comes
// first, then the others sorted by path. In a workspace, the other
// workspace modules are main modules too (Main is true for them).
func (g Go) LinkedModules(ctx context.Context, pkg string, tags []string) ([]Module, error) {
	mods, _, err := g.Linked(ctx, pkg, tags)
	return mods, err
}

// Linked is LinkedModules that also returns the import paths of every
// package linked, standard library included, dependencies first.
func (g Go) Linked(ctx context.Context, pkg string, tags []string) ([]Module, []string, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Standard,Module"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	out, err := g.Run(ctx, append(args, pkg)...)
	if err != nil {
		return nil, nil, err
	}
	pkgs, err := decodePackages(out)
	if err != nil {
		return nil, nil, err
	}
	// -deps lists dependencies before what imports them: the package
	// asked for (or, for a pattern, the last match) comes last.
	var first string
	if n := len(pkgs); n > 0 && pkgs[n-1].Module != nil {
		first = pkgs[n-1].Module.Path
	}
	seen := map[string]bool{}
	var mods []Module
	paths := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		paths = append(paths, p.ImportPath)
		if p.Standard || p.Module == nil || seen[p.Module.Path] {
			continue
		}
		seen[p.Module.Path] = true
		mods = append(mods, *p.Module)
	}
	sortModules(mods, first)
	return mods, paths, nil
}

// sortModules puts the module first first and the others in path order.
func sortModules(mods []Module, first string) {
	sort.SliceStable(mods, func(i, j int) bool {
		if (mods[i].Path == first) != (mods[j].Path == first) {
			return mods[i].Path == first
		}
		return mods[i].Path < mods[j].Path
	})
}

// Edge is one requirement in the module graph: From requires To.
type Edge struct{ From, To string } // "path@version", or "path" for the main module

// ModGraph returns the requirement edges of the module graph (`go mod graph`).
func (g Go) ModGraph(ctx context.Context) ([]Edge, error) {
	out, err := g.Run(ctx, "mod", "graph")
	if err != nil {
		return nil, err
	}
	var edges []Edge
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		from, to, ok := strings.Cut(line, " ")
		if ok {
			edges = append(edges, Edge{from, to})
		}
	}
	return edges, nil
}

// GoSum reads go.sum in dir: "path@version" to its h1: hash. go.mod-only
// lines are left out. A missing go.sum yields an empty map.
func GoSum(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasSuffix(f[1], "/go.mod") {
			continue
		}
		sums[f[0]+"@"+f[1]] = f[2]
	}
	return sums, nil
}

// SourcePackage is a package of an import graph with the size of its
// source.
type SourcePackage struct {
	ImportPath string
	Name       string
	// Root is set for the packages the patterns matched (not only
	// reached as dependencies).
	Root bool
	// Bytes is the size of its Go and cgo files.
	Bytes int64
	// Deps are the import paths of everything it depends on, transitively.
	Deps []string
}

// SourceGraph lists the packages patterns match and everything they
// import, standard library included, each with the size of its source.
func (g Go) SourceGraph(ctx context.Context, patterns, tags []string) ([]SourcePackage, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Name,Dir,GoFiles,CgoFiles,Deps,DepOnly"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	out, err := g.Run(ctx, append(args, patterns...)...)
	if err != nil {
		return nil, err
	}
	var pkgs []SourcePackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Name, Dir   string
			GoFiles, CgoFiles, Deps []string
			DepOnly                 bool
		}
		if err := dec.Decode(&p); err == io.EOF {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		sp := SourcePackage{ImportPath: p.ImportPath, Name: p.Name, Root: !p.DepOnly, Deps: p.Deps}
		for _, f := range append(p.GoFiles, p.CgoFiles...) {
			if fi, err := os.Stat(filepath.Join(p.Dir, f)); err == nil {
				sp.Bytes += fi.Size()
			}
		}
		pkgs = append(pkgs, sp)
	}
}

// List lists the packages that patterns match (not their dependencies).
func (g Go) List(ctx context.Context, patterns, tags []string) ([]Package, error) {
	args := []string{"list", "-json=ImportPath,Name,Dir,Standard,Module"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	out, err := g.Run(ctx, append(args, patterns...)...)
	if err != nil {
		return nil, err
	}
	return decodePackages(out)
}
