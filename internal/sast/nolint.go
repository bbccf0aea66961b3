package sast

import (
	"go/ast"
	"go/token"
	"maps"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
	"hegui.dev/hegui/internal/format"
)

// nolintPattern matches golangci-lint's directive: //nolint, //nolint:a,b,
// optionally followed by "// reason".
var nolintPattern = regexp.MustCompile(`^//\s?nolint(?::([\w,-]+))?\s*(?://\s*(.*))?$`)

// nolint is one directive that hegui applies and the lines it covers: a
// //nolint, or a #nosec that gosec does not see (cgoNosec).
type nolint struct {
	nosec         bool
	linters       map[string]bool // //nolint's; empty: all
	rules         map[string]bool // #nosec's gosec rule ids; empty: all
	justification string
	// file is the file that findings in its range are reported in: the
	// one the file's //line directives name, as for the findings.
	file     string
	from, to int
}

// covers reports whether the directive suppresses a finding of tool
// (golangci-lint calls go vet "govet").
func (n nolint) covers(f *format.SASTFinding) bool {
	switch {
	case f.Line < n.from || f.Line > n.to:
		return false
	case n.nosec:
		return f.Tool == "gosec" && (len(n.rules) == 0 || n.rules[f.Rule])
	case len(n.linters) == 0 || n.linters["all"]:
		return true
	case f.Tool == "vet":
		return n.linters["govet"]
	}
	return n.linters[f.Tool]
}

// suppression is what a finding that n covers records.
func (n nolint) suppression() *format.SASTSuppression {
	directive := "//nolint"
	if n.nosec {
		directive = "#nosec"
	} else if len(n.linters) > 0 {
		directive += ":" + strings.Join(slices.Sorted(maps.Keys(n.linters)), ",")
	}
	return &format.SASTSuppression{Directive: directive, Justification: n.justification}
}

// nolintDirectives finds the //nolint directives in a parsed package's
// files, and the #nosec directives in cmd/cgo's copies of its files, by the
// file that findings are reported in. Findings in a cgo file are reported
// in it, not in the copy (reportedFile), and its directives apply to them.
func nolintDirectives(p *packages.Package) map[string][]nolint {
	byFile := map[string][]nolint{}
	for _, f := range p.Syntax {
		var ds []nolint
		if mentions(f, "nolint") {
			ds = directives(p.Fset, f)
		}
		if (mentions(f, nosecTag) || mentions(f, nosecDirective)) && isCgoCopy(p.Fset, f) {
			ds = append(ds, cgoNosec(p.Fset, f)...)
		}
		for _, n := range ds {
			byFile[n.file] = append(byFile[n.file], n)
		}
	}
	return byFile
}

// mentions is a quick test that spares building the comment map of files
// without directives, most of them.
func mentions(f *ast.File, word string) bool {
	for _, g := range f.Comments {
		for _, c := range g.List {
			if strings.Contains(c.Text, word) {
				return true
			}
		}
	}
	return false
}

// applyNolint marks the findings that a directive covers. As in
// golangci-lint, a //nolint directive covers the syntax node it is
// attached to: the statement or declaration it ends the line of, or the
// declaration it precedes. gosec's own #nosec directives are gosec's to
// handle, except in cgo files (cgoNosec).
func applyNolint(byFile map[string][]nolint, findings []*format.SASTFinding) {
	for _, f := range findings {
		if f.Suppression != nil {
			continue
		}
		for _, n := range byFile[f.File] {
			if n.covers(f) {
				f.Suppression = n.suppression()
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
				pos := fset.Position(c.Pos())
				n.file = pos.Filename
				n.from = min(fset.Position(node.Pos()).Line, pos.Line)
				n.to = max(fset.Position(node.End()).Line, pos.Line)
				out = append(out, n)
			}
		}
	}
	return out
}

// gosec's directives, as its default configuration has them.
const (
	nosecTag       = "#nosec"
	nosecDirective = "//gosec:disable"
)

// gosecRuleID is a rule id in a #nosec directive.
var gosecRuleID = regexp.MustCompile(`G\d{3}`)

// isCgoCopy reports whether f is cmd/cgo's copy of a file of the package
// (reportedFile).
func isCgoCopy(fset *token.FileSet, f *ast.File) bool {
	name := fset.File(f.Pos()).Name()
	r := reportedFile(fset, f)
	return r != "" && r != name
}

// cgoNosec finds the #nosec directives in cmd/cgo's copy of a file.
// gosec's analyzers (G115, ...) report findings in the copy, but gosec
// reads no directives there: its rules, which collect them, skip files
// whose name does not end in .go, and the copies' names in the build cache
// do not. So hegui reads them as gosec reads them elsewhere: a comment
// group that begins with #nosec (or has it at the start of a line), or a
// //gosec:disable comment, then the rule ids it suppresses (none: all) and
// "-- reason", covers the syntax node the group is attached to, with the
// group; only a node's first such group counts.
func cgoNosec(fset *token.FileSet, f *ast.File) []nolint {
	var out []nolint
	for node, groups := range ast.NewCommentMap(fset, f, f.Comments) {
		for _, g := range groups {
			args, ok := nosecArgs(g)
			if !ok {
				continue
			}
			n := nolint{nosec: true, rules: map[string]bool{}}
			if i := strings.Index(args, "--"); i >= 0 {
				args, n.justification = args[:i], strings.TrimSpace(strings.TrimLeft(args[i+2:], "-"))
			}
			for _, id := range gosecRuleID.FindAllString(args, -1) {
				n.rules[id] = true
			}
			from := fset.Position(min(node.Pos(), g.Pos()))
			n.file, n.from = from.Filename, from.Line
			n.to = fset.Position(max(node.End(), g.End())).Line
			out = append(out, n)
			break
		}
	}
	return out
}

// nosecArgs finds a #nosec directive in a comment group as gosec does, and
// returns what follows it.
func nosecArgs(g *ast.CommentGroup) (string, bool) {
	text := strings.TrimSpace(g.Text())
	if args, ok := strings.CutPrefix(text, nosecTag); ok {
		return args, true
	}
	if i := strings.Index(text, nosecTag); i > 0 {
		if strings.HasSuffix(strings.TrimRight(text[:i], " \t"), "\n") {
			return text[i+len(nosecTag):], true
		}
	}
	for _, c := range g.List {
		if args, ok := strings.CutPrefix(c.Text, nosecDirective); ok && (args == "" || args[0] == ' ') {
			return strings.TrimSpace(args), true
		}
	}
	return "", false
}
