// Package modlist reads the lists of module versions that users hand to
// hegui (a go.sum, a go.mod's requirements, `go list -m all` output or one
// MODULE@VERSION per line): what `hegui proxy warm` and `export` store and
// what `hegui kit build` carries.
package modlist

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Item is a module version someone needs: its go.mod always, and its
// .info and zip unless ModOnly (a go.sum "/go.mod" line alone: the go
// command reads that version's go.mod but never builds it).
type Item struct {
	Module, Version string
	ModOnly         bool
}

// Parse reads the module versions a file names, from its content: a
// go.sum, a go.mod (its requirements), or a list of modules, one per line,
// as "MODULE@VERSION" or "MODULE VERSION" (what `go list -m all` prints;
// its first lines, the main modules without a version, are skipped; a line
// without a version after a module version is an error, a file cut short
// most likely). name is
// the file's name, used to tell a go.mod; blank lines and # comments are
// ignored. The result is merged and sorted (Merge).
func Parse(name string, data []byte) ([]Item, error) {
	if filepath.Base(name) == "go.mod" {
		f, err := modfile.ParseLax(name, data, nil)
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, r := range f.Require {
			if err := module.Check(r.Mod.Path, r.Mod.Version); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, r.Syntax.Start.Line, err)
			}
			items = append(items, Item{Module: r.Mod.Path, Version: r.Mod.Version})
		}
		return Merge(items), nil
	}
	var items []Item
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		var mod, version string
		switch {
		case len(f) == 1 && strings.Contains(f[0], "@"):
			mod, version, _ = strings.Cut(f[0], "@")
		case len(f) == 1 && len(items) == 0:
			continue // `go list -m all`'s main modules (several in a workspace)
		case len(f) == 1:
			return nil, fmt.Errorf("%s:%d: %q names no version (a line cut short?); give MODULE@VERSION, MODULE VERSION or a go.sum line", name, n, f[0])
		case len(f) == 3 && strings.HasPrefix(f[2], "h1:"):
			mod, version = f[0], f[1] // a go.sum line
		case len(f) >= 2:
			mod, version = f[0], f[1] // `go list -m all`: "MOD VER [=> REPLACEMENT]"
		}
		modOnly := false
		if v, ok := strings.CutSuffix(version, "/go.mod"); ok {
			version, modOnly = v, true
		}
		if err := module.Check(mod, version); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		if module.CanonicalVersion(version) != version {
			return nil, fmt.Errorf("%s:%d: %s@%s: not a canonical version (the go command would write %q)", name, n, mod, version, module.CanonicalVersion(version))
		}
		items = append(items, Item{Module: mod, Version: version, ModOnly: modOnly})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return Merge(items), nil
}

// Merge merges duplicates (a version wanted whole wins over its
// go.mod alone) and sorts.
func Merge(items []Item) []Item {
	index := map[string]int{}
	var out []Item
	for _, it := range items {
		k := it.Module + "@" + it.Version
		if i, ok := index[k]; ok {
			out[i].ModOnly = out[i].ModOnly && it.ModOnly
			continue
		}
		index[k] = len(out)
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Module != out[j].Module {
			return out[i].Module < out[j].Module
		}
		return out[i].Version < out[j].Version
	})
	return out
}
