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

// nolintDirectives finds the //nolint directives in a parsed package's
// files, by file name.
func nolintDirectives(p *packages.Package) map[string][]nolint {
	byFile := map[string][]nolint{}
	for _, f := range p.Syntax {
		if mentionsNolint(f) {
			byFile[p.Fset.File(f.Pos()).Name()] = directives(p.Fset, f)
		}
	}
	return byFile
}

// mentionsNolint is a quick test that spares building the comment map of
// files without directives, most of them.
func mentionsNolint(f *ast.File) bool {
	for _, g := range f.Comments {
		for _, c := range g.List {
			if strings.Contains(c.Text, "nolint") {
				return true
			}
		}
	}
	return false
}

// applyNolint marks the findings that a //nolint directive covers. As in
// golangci-lint, a directive covers the syntax node it is attached to: the
// statement or declaration it ends the line of, or the declaration it
// precedes. gosec's own #nosec directives are gosec's to handle.
func applyNolint(byFile map[string][]nolint, findings []*Finding) {
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
