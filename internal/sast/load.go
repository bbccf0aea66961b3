package sast

// Loading happens in three steps, so that only the packages being analysed
// at the moment have syntax and type information in memory:
//
//  1. listPackages: one `go list -deps -export` (through go/packages,
//     metadata only) names every package, its files and its export data,
//     compiled by the go command (and cached by it).
//  2. newTypeChecker: the direct imports of the packages to analyse are
//     read from their export data once, in dependency order, and shared.
//  3. typeChecker.check: each package to analyse is parsed and
//     type-checked from source on its own against those imports; once its
//     analysis is done, release drops its syntax and types.
//
// That is what go/packages does for the root packages of a load, with one
// difference: a root package imported by another root is read from its
// export data rather than shared as the package checked from source, so a
// root's syntax need not stay in memory until its importers are analysed.
// The importer sees the same types either way, and no analyzer looks at
// the syntax of an imported package. Nor at its analysis: go vet's
// analyzers run without cross-package facts (vet.go), so a package's
// findings do not depend on which others are analysed with it.

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"strings"

	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"

	"hegui.dev/hegui/internal/gotool"
)

// metadataMode asks go/packages for everything but syntax and types.
const metadataMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
	packages.NeedImports | packages.NeedDeps | packages.NeedExportFile | packages.NeedTypesSizes |
	packages.NeedModule | packages.NeedEmbedFiles | packages.NeedEmbedPatterns

// listPackages lists the packages matching the request and all their
// dependencies, with the export data of each.
func listPackages(ctx context.Context, req *Request) ([]*packages.Package, error) {
	cfg := &packages.Config{
		Context: ctx,
		Mode:    metadataMode,
		Dir:     req.Dir,
		Tests:   req.Tests,
		Env:     gotool.MergeEnv(os.Environ(), append([]string{"GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS="}, req.Env...)),
	}
	if len(req.Tags) > 0 {
		cfg.BuildFlags = []string{"-tags=" + strings.Join(req.Tags, ",")}
	}
	pkgs, err := packages.Load(cfg, req.Patterns...)
	if err != nil {
		return nil, fmt.Errorf("static analysis: load packages: %w", err)
	}
	if len(pkgs) == 0 {
		return nil, errors.New("static analysis: no packages match " + strings.Join(req.Patterns, " "))
	}
	return pkgs, nil
}

// typeChecker type-checks packages from source against their imports'
// export data. After newTypeChecker returns, its maps are only read, so
// check may run on several packages at once.
type typeChecker struct {
	fset *token.FileSet
	// imported holds the dependencies' types by package ID (IDs, unlike
	// paths, tell a package from its test variant).
	imported map[string]*types.Package
	// unreadable holds, by package ID, why export data could not be read.
	unreadable map[string]error
}

// newTypeChecker reads the export data of every package that a root
// imports; all are the packages the listing returned (with, through
// Imports, their dependencies), roots those to analyse. Reading a
// package's export data fills in the (incomplete) types of the packages it
// mentions, so each package is read after its dependencies, and before any
// package is type-checked, as go/packages does: afterwards nothing
// modifies the shared types.
func newTypeChecker(all, roots []*packages.Package) *typeChecker {
	tc := &typeChecker{fset: token.NewFileSet(), imported: map[string]*types.Package{}, unreadable: map[string]error{}}
	packages.Visit(all, nil, func(p *packages.Package) {
		tc.imported[p.ID] = types.NewPackage(p.PkgPath, p.Name)
	})
	tc.imported["unsafe"] = types.Unsafe
	initial := map[string]bool{}
	for _, p := range all {
		initial[p.ID] = true
	}
	imported := map[string]bool{}
	for _, r := range roots {
		for _, imp := range r.Imports {
			imported[imp.ID] = true
		}
	}
	packages.Visit(roots, nil, func(p *packages.Package) {
		if !imported[p.ID] || p.PkgPath == "unsafe" {
			return
		}
		if err := tc.readExportData(p); err != nil {
			tc.unreadable[p.ID] = err
			if !initial[p.ID] { // a root's own errors will say why
				p.IllTyped = true
				p.Errors = append(p.Errors, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.UnknownError})
			}
		}
	})
	return tc
}

// readExportData reads the types of p from the export data the go command
// wrote for it.
func (tc *typeChecker) readExportData(p *packages.Package) error {
	if p.ExportFile == "" {
		return errors.New("no export data file") // the go command's error is in p.Errors
	}
	f, err := os.Open(p.ExportFile)
	if err != nil {
		return err
	}
	defer f.Close()
	// The go command's export files are compiler archives (!<arch>), which
	// NewReader unwraps, as go/packages does with the same files; Go 1.29
	// is to change them to plain export data, read with Read alone.
	r, err := gcexportdata.NewReader(f) //lint:ignore SA1019 the go command still writes archives (see above)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p.ExportFile, err)
	}
	// gcexportdata knows packages by path, which is unique within p's
	// dependencies: the view is that part of the ID-keyed map.
	view := map[string]*types.Package{}
	seen := map[*packages.Package]bool{}
	var visit func(map[string]*packages.Package)
	visit = func(imports map[string]*packages.Package) {
		for _, imp := range imports {
			if !seen[imp] {
				seen[imp] = true
				view[imp.PkgPath] = tc.imported[imp.ID]
				visit(imp.Imports)
			}
		}
	}
	visit(p.Imports)
	tpkg, err := gcexportdata.Read(r, tc.fset, view, p.PkgPath)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p.ExportFile, err)
	}
	tc.imported[p.ID] = tpkg
	return nil
}

// check parses and type-checks a root package, filling in its Fset,
// Syntax, Types, TypesInfo, TypeErrors and IllTyped and adding its parse
// and type errors to Errors, as go/packages does for NeedSyntax|NeedTypes|
// NeedTypesInfo.
func (tc *typeChecker) check(p *packages.Package) {
	addError := func(err error) {
		switch err := err.(type) {
		case *os.PathError:
			p.Errors = append(p.Errors, packages.Error{Pos: err.Path + ":1", Msg: err.Err.Error(), Kind: packages.ParseError})
		case scanner.ErrorList:
			for _, e := range err {
				p.Errors = append(p.Errors, packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
			}
		case types.Error:
			p.TypeErrors = append(p.TypeErrors, err)
			p.Errors = append(p.Errors, packages.Error{Pos: err.Fset.Position(err.Pos).String(), Msg: err.Msg, Kind: packages.TypeError})
		default:
			p.Errors = append(p.Errors, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.UnknownError})
		}
	}
	p.Fset = tc.fset
	p.Syntax = make([]*ast.File, 0, len(p.CompiledGoFiles))
	for _, name := range p.CompiledGoFiles {
		src, err := os.ReadFile(name)
		if err != nil {
			addError(err)
			continue
		}
		f, err := parser.ParseFile(tc.fset, name, src, parser.AllErrors|parser.ParseComments)
		if err != nil {
			addError(err)
		}
		if f != nil {
			p.Syntax = append(p.Syntax, f)
		}
	}

	p.Types = types.NewPackage(p.PkgPath, p.Name)
	p.TypesInfo = &types.Info{
		Types:        map[ast.Expr]types.TypeAndValue{},
		Defs:         map[*ast.Ident]types.Object{},
		Uses:         map[*ast.Ident]types.Object{},
		Implicits:    map[ast.Node]types.Object{},
		Instances:    map[*ast.Ident]types.Instance{},
		Scopes:       map[ast.Node]*types.Scope{},
		Selections:   map[*ast.SelectorExpr]*types.Selection{},
		FileVersions: map[*ast.File]string{},
	}
	conf := &types.Config{
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			imp := p.Imports[path]
			if imp == nil {
				return nil, fmt.Errorf("no metadata for %s", path)
			}
			if err := tc.unreadable[imp.ID]; err != nil {
				return nil, err // reported by the checker: p is ill-typed
			}
			return tc.imported[imp.ID], nil
		}),
		Error: addError,
		Sizes: p.TypesSizes,
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	err := types.NewChecker(conf, tc.fset, p.Types, p.TypesInfo).Files(p.Syntax)
	if err != nil && len(p.Errors) == 0 {
		addError(err)
	}
	p.IllTyped = len(p.Errors) > 0
}

// release drops what check added to p but the errors: p's analysis is
// done.
func release(p *packages.Package) {
	p.Syntax, p.Types, p.TypesInfo, p.TypeErrors = nil, nil, nil, nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
