package gotool

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A ModuleListing is what one `go list -deps` run at a module's root
// reports: the main module, the packages the patterns matched and every
// package they import. It answers the questions MainModule, MainPackages
// and LinkedModules ask the go command, each of which costs a go list of
// its own, from that one run.
type ModuleListing struct {
	// Go runs the go command at the module's root, with the environment
	// of the listing.
	Go Go
	// Module is the main module holding the directory listed from, as
	// MainModule describes it.
	Module *Module

	patterns []string
	tags     []string
	// listed is set when packages hold go list -deps's answer; otherwise
	// the go command is asked each question.
	listed bool
	// packages are in go list -deps order: dependencies before the
	// packages that import them.
	packages []listedPackage
}

// listedPackage is a package as the listing keeps it.
type listedPackage struct {
	Package
	DepOnly bool     // imported, not matched by a pattern
	Imports []string // import paths, resolved as the packages' ImportPath
}

const listedFields = "-json=ImportPath,Name,Dir,Standard,Module,GoFiles,CgoFiles,DepOnly,Imports"

// ListModule finds the module containing g.Dir, as MainModule does, and
// lists at its root the packages patterns match (relative to the root, as
// for MainPackages and LinkedModules) and everything they import, for g's
// environment and the build tags.
//
// The go command takes as the module the nearest directory holding go.mod,
// from its working directory up. ListModule lists there, and keeps the
// result when the go command reports a package of the patterns in a main
// module rooted there: one go command instead of MainModule's and the
// listing's. In every other case (no go.mod, a go.work between g.Dir and
// that directory, a go.mod the go command ignores, a pattern that matches
// elsewhere, a failure) it asks MainModule and lists at the root it
// reports. If `go list -deps` fails there too, the listing holds nothing
// and its methods ask the go command as Go's do, so that they fail where,
// and with the message, those would.
func (g Go) ListModule(ctx context.Context, patterns, tags []string) (*ModuleListing, error) {
	if err := checkModuleDir(g.Dir); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(g.Dir)
	if err != nil {
		return nil, err
	}
	root, guessed := nearestModuleRoot(abs)
	var guess *ModuleListing
	var guessErr error
	if guessed {
		guess, guessErr = g.at(root).listing(ctx, patterns, tags)
		if guessErr == nil {
			if mod := guess.rootModule(root); mod != nil {
				guess.Module = mod
				return guess, nil
			}
		}
	}
	mod, err := g.MainModule(ctx)
	if err != nil {
		return nil, err
	}
	at := g.at(mod.Dir)
	l, err := guess, guessErr
	if !guessed || mod.Dir != root { // else the same go list has run
		l, err = at.listing(ctx, patterns, tags)
	}
	if err != nil {
		return &ModuleListing{Go: at, Module: mod}, nil
	}
	l.Module = mod
	return l, nil
}

// at is g run in dir.
func (g Go) at(dir string) Go {
	g.Dir = dir
	return g
}

// listing runs go list -deps over patterns.
func (g Go) listing(ctx context.Context, patterns, tags []string) (*ModuleListing, error) {
	args := []string{"list", "-deps", listedFields}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	out, err := g.Run(ctx, append(args, patterns...)...)
	if err != nil {
		return nil, err
	}
	pkgs, err := decodeJSONStream[listedPackage](out)
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	return &ModuleListing{Go: g, patterns: slices.Clone(patterns), tags: slices.Clone(tags), listed: true, packages: pkgs}, nil
}

// rootModule is the main module rooted at dir that a matched package
// belongs to, or nil.
func (l *ModuleListing) rootModule(dir string) *Module {
	for _, p := range l.packages {
		if !p.DepOnly && p.Module != nil && p.Module.Main && p.Module.Dir == dir {
			m := *p.Module
			return &m
		}
	}
	return nil
}

// nearestModuleRoot is where the go command, started in dir, would look
// for the main module: the nearest directory at or above dir holding a
// go.mod file. It reports false when there is none, or when a go.work
// file lies below it, since the go command would then work in that
// workspace wherever it starts.
func nearestModuleRoot(dir string) (string, bool) {
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, true
		}
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// checkModuleDir says what is wrong with a directory that can not hold a
// module, before the go command says it less clearly.
func checkModuleDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist: give the directory of a Go module", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory: give the directory of a Go module", dir)
	}
	return nil
}

// MainPackages is Go.MainPackages at the module's root. The listing
// answers when it was made for "./..." without tags.
func (l *ModuleListing) MainPackages(ctx context.Context) ([]Package, error) {
	if !l.listed || !slices.Equal(l.patterns, []string{"./..."}) || len(l.tags) > 0 {
		return l.Go.MainPackages(ctx)
	}
	var mains []Package
	for _, p := range l.packages {
		if !p.DepOnly && isProgram(p.Package) {
			mains = append(mains, p.Package)
		}
	}
	return mains, nil
}

// LinkedModules is Go.LinkedModules at the module's root: the modules
// providing the packages linked into pkg, pkg's module first, then the
// others by path. The listing answers when it was made with the same tags
// and holds everything pkg imports: pkg is then one of its patterns, a
// matched package's import path or, as "./dir", its directory. Otherwise
// the go command is asked.
func (l *ModuleListing) LinkedModules(ctx context.Context, pkg string, tags []string) ([]Module, error) {
	mods, _, err := l.Linked(ctx, pkg, tags)
	return mods, err
}

// Linked is LinkedModules that also returns the import paths of the
// packages linked, as Go.Linked does (in no particular order when the
// listing answers).
func (l *ModuleListing) Linked(ctx context.Context, pkg string, tags []string) ([]Module, []string, error) {
	roots := l.matched(pkg)
	if !l.listed || roots == nil || !slices.Equal(l.tags, tags) {
		return l.Go.Linked(ctx, pkg, tags)
	}
	byPath := make(map[string]*listedPackage, len(l.packages))
	for i := range l.packages {
		byPath[l.packages[i].ImportPath] = &l.packages[i]
	}
	// The packages linked are the roots and everything they import. The
	// go command adds imports of its own (runtime/cgo for cgo, the
	// runtime for a program), which Imports leaves out; they are all in
	// the standard library, so no module is missed.
	seen := map[string]bool{}
	var mods []Module
	var paths []string
	var walk func(p *listedPackage)
	walk = func(p *listedPackage) {
		if seen[p.ImportPath] {
			return
		}
		seen[p.ImportPath] = true
		paths = append(paths, p.ImportPath)
		if !p.Standard && p.Module != nil && !slices.ContainsFunc(mods, func(m Module) bool { return m.Path == p.Module.Path }) {
			mods = append(mods, *p.Module)
		}
		for _, imp := range p.Imports {
			if q := byPath[imp]; q != nil {
				walk(q)
			}
		}
	}
	for _, r := range roots {
		walk(r)
	}
	// As go list -deps prints the last root last, its module comes first.
	var first string
	if m := roots[len(roots)-1].Module; m != nil {
		first = m.Path
	}
	sortModules(mods, first)
	return mods, paths, nil
}

// matched returns the matched packages pkg names, in listing order, or
// nil when the listing can not tell.
func (l *ModuleListing) matched(pkg string) []*listedPackage {
	var roots []*listedPackage
	for i := range l.packages {
		if p := &l.packages[i]; !p.DepOnly {
			roots = append(roots, p)
		}
	}
	if len(l.patterns) == 1 && l.patterns[0] == pkg {
		return roots
	}
	var dir string
	if pkg == "." || strings.HasPrefix(pkg, "./") && !strings.Contains(pkg, "...") {
		dir = filepath.Join(l.Go.Dir, filepath.FromSlash(pkg))
	}
	for _, p := range roots {
		if p.ImportPath == pkg || dir != "" && p.Dir == dir {
			return []*listedPackage{p}
		}
	}
	return nil
}
