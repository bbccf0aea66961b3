package pii

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLines: each finding's line and column, on short lines and on one
// long line holding many (a minified JSON of users).
func TestLines(t *testing.T) {
	dir := t.TempDir()
	const id = "110105199003071239"
	var long strings.Builder
	for i := range 2000 {
		if i > 0 {
			long.WriteString(",")
		}
		long.WriteString(`{"身份证":"` + id + `"}`)
	}
	files := map[string]string{
		"a.txt":    "first\n\n身份证 " + id + " and 身份证 " + id + "\nlast 身份证 " + id,
		"one.json": "[" + long.String() + "]",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := Scan(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv.RelativeTo(dir)
	var a, one []Location
	for _, l := range inv.Findings {
		switch l.Path {
		case "a.txt":
			a = append(a, l)
		case "one.json":
			one = append(one, l)
		}
	}
	if len(a) != 3 || a[0].Line != 3 || a[0].Column != 11 || a[1].Line != 3 || a[2].Line != 4 || a[2].Column != 16 {
		t.Errorf("a.txt: %+v", a)
	}
	if len(one) != 2000 || one[0].Line != 1 || one[1999].Line != 1 || one[1].Column-one[0].Column != len(`{"身份证":"`+id+`"},`) {
		t.Errorf("one.json: %d findings, first %+v, last %+v", len(one), one[0], one[len(one)-1])
	}
}

// TestRelativeTo: no path of the machine that scanned is left, in places
// or in the reasons files were passed over.
func TestRelativeTo(t *testing.T) {
	base := filepath.Join(t.TempDir(), "module")
	inv := &Inventory{
		Roots:    []string{base},
		Findings: []Location{{Path: filepath.ToSlash(filepath.Join(base, "a", "b.txt"))}},
		Skipped:  []Skip{{Path: filepath.Join(base, "c"), Reason: "read " + filepath.Join(base, "c") + ": input/output error"}},
	}
	inv.RelativeTo(base)
	if inv.Roots[0] != "." || inv.Findings[0].Path != "a/b.txt" || inv.Skipped[0].Path != "c" || strings.Contains(inv.Skipped[0].Reason, base) {
		t.Errorf("%+v", inv)
	}
}
