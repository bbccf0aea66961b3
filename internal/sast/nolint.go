package sast

import (
	"go/ast"
	"go/token"
	"maps"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// nolintPattern matches golangci-lint's directive: //nolint, //nolint:a,b,
// optionally followed by "// reason".
var nolintPattern = regexp.MustCompile(`^//\s?nolint(?::([\w,-]+))?\s*(?://\s*(.*))?$`)

// nolint is one directive and the lines it covers.
type nolint struct {
	linters       map[string]bool // empty: all
	justification string
	from, to      int
}

// covers reports whether the directive suppresses findings of tool
// (golangci-lint calls go vet "govet").
func (n nolint) covers(tool string, line int) bool {
	if line < n.from || line > n.to {
		return false
	}
	if len(n.linters) == 0 || n.linters["all"] {
		return true
	}
	if tool == "vet" {
		return n.linters["govet"]
	}
	return n.linters[tool]
}

// applyNolint marks the findings that a //nolint directive covers. As in
// golangci-lint, a directive covers the syntax node it is attached to: the
// statement or declaration it ends the line of, or the declaration it
// precedes. gosec's own #nosec directives are gosec's to handle.
func applyNolint(roots []*packages.Package, findings []*Finding) {
	byFile := map[string][]nolint{}
	for _, p := range roots {
		for _, f := range p.Syntax {
			name := p.Fset.File(f.Pos()).Name()
			if _, done := byFile[name]; done {
				continue
			}
			byFile[name] = directives(p.Fset, f)
		}
	}
	for _, f := range findings {
		if f.Suppression != nil {
			continue
		}
		for _, n := range byFile[f.File] {
			if n.covers(f.Tool, f.Line) {
				directive := "//nolint"
				if len(n.linters) > 0 {
					directive += ":" + strings.Join(slices.Sorted(maps.Keys(n.linters)), ",")
				}
				f.Suppression = &Suppression{Directive: directive, Justification: n.justification}
				break
			}
		}
	}
}

// directives finds the //nolint directives of a file and their scopes.
func directives(fset *token.FileSet, f *ast.File) []nolint {
	var out []nolint
	cmap := ast.NewCommentMap(fset, f, f.Comments)
	for node, groups := range cmap {
		for _, g := range groups {
			for _, c := range g.List {
				m := nolintPattern.FindStringSubmatch(c.Text)
				if m == nil {
					continue
				}
				n := nolint{linters: map[string]bool{}, justification: strings.TrimSpace(m[2])}
				for _, l := range strings.Split(m[1], ",") {
					if l = strings.TrimSpace(l); l != "" {
						n.linters[l] = true
					}
				}
				cl := fset.Position(c.Pos()).Line
				n.from = min(fset.Position(node.Pos()).Line, cl)
				n.to = max(fset.Position(node.End()).Line, cl)
				out = append(out, n)
			}
		}
	}
	return out
}
