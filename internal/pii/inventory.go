// Package pii takes an inventory of the personal information in files: a
// repository's fixtures, configs and logs, as `hegui pii scan` and the
// delivery's pii stage read them. The inventory names where each finding
// is and shows it masked: it never holds a value as found.
package pii

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/mask"
)

// Schema identifies the inventory's JSON form.
const Schema = "hegui.dev/pii-inventory/v1"

// IgnoreMarker on a line makes the scan pass over what that line holds
// (a synthetic ID in a test, say): `// pii:ignore`.
const IgnoreMarker = "pii:ignore"

// Options say what to scan and how.
type Options struct {
	// Scanner finds; nil means mask.NewScanner(mask.WithStrictNumbers()):
	// an inventory gates, so numbers of code and data must not count.
	Scanner *mask.Scanner
	// MaxFileSize is the largest file read (default 8 MiB); larger ones
	// are listed as skipped.
	MaxFileSize int64
	// Exclude are patterns (path.Match, on slash-separated paths relative
	// to the root given, or on a file's or directory's name) to pass over.
	Exclude []string
	// SkipDirs are directories, as slash-separated paths relative to a
	// root given, to pass over (matched on the whole path only).
	SkipDirs []string
	// Samples is how many masked samples each kind shows (default 3).
	Samples int
	// Progress receives a line now and then on a long scan.
	Progress func(format string, args ...any)
}

// Inventory is what a scan found.
type Inventory struct {
	Schema string   `json:"schema"`
	Roots  []string `json:"roots"`
	// Files counts the files read; Skipped lists those that were not.
	Files   int       `json:"files"`
	Skipped []Skip    `json:"skipped,omitempty"`
	Total   int       `json:"total"`
	Kinds   []Summary `json:"kinds"`
	// Findings are every finding, in file order, masked.
	Findings []Location `json:"findings"`
}

// SkipBinary is the reason a binary file (one with a NUL byte in its
// first 8000 bytes) was not read.
const SkipBinary = "binary"

// Skip is a file the scan did not read, and why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Summary counts one kind.
type Summary struct {
	Kind    mask.Kind `json:"kind"`
	Count   int       `json:"count"`
	Files   int       `json:"files"`
	Samples []string  `json:"samples"`
}

// Location is one finding, masked.
type Location struct {
	Path   string    `json:"path"`
	Line   int       `json:"line"`
	Column int       `json:"column"` // in bytes, from 1
	Kind   mask.Kind `json:"kind"`
	Masked string    `json:"masked"`
	Score  float64   `json:"score"`
	Detail string    `json:"detail,omitempty"`
}

// Scan reads every regular file under the roots (files or directories;
// .git and symbolic links are passed over) and takes an inventory.
func Scan(ctx context.Context, roots []string, o Options) (*Inventory, error) {
	if o.Scanner == nil {
		o.Scanner = mask.NewScanner(mask.WithStrictNumbers())
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 8 << 20
	}
	if o.Samples <= 0 {
		o.Samples = 3
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	for _, p := range o.Exclude {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--exclude %q: %v", p, err)
		}
	}
	inv := &Inventory{Schema: Schema, Roots: roots, Kinds: []Summary{}, Findings: []Location{}}
	for _, root := range roots {
		info, err := os.Lstat(root)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			// A path named on its own must be read: passing over it would
			// let a gate pass having read nothing.
			if !info.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: not a regular file or a directory (%s): nothing to scan", root, inputfile.Describe(info.Mode()))
			}
			inv.scanFile(ctx, root, filepath.Base(root), info, o)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				inv.Skipped = append(inv.Skipped, Skip{Path: p, Reason: reason(err)})
				return nil
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if p != root && excluded(rel, d.Name(), o.Exclude) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if p != root && (d.Name() == ".git" || slices.Contains(o.SkipDirs, rel)) {
					return filepath.SkipDir
				}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				inv.Skipped = append(inv.Skipped, Skip{Path: p, Reason: reason(err)})
				return nil
			}
			inv.scanFile(ctx, p, rel, info, o)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	inv.summarise(o.Samples)
	return inv, ctx.Err()
}

// reason is why a file was not read, without its path (which Skip names,
// relative to the root): "stat /home/…/x: no such file" names the machine.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

func excluded(rel, name string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// scanFile reads one file and records what it holds.
func (inv *Inventory) scanFile(ctx context.Context, p, rel string, info fs.FileInfo, o Options) {
	switch {
	case !info.Mode().IsRegular():
		if info.Mode()&fs.ModeSymlink == 0 {
			inv.Skipped = append(inv.Skipped, Skip{Path: p, Reason: "not a regular file (" + inputfile.Describe(info.Mode()) + ")"})
		}
		return
	case info.Size() > o.MaxFileSize:
		inv.Skipped = append(inv.Skipped, Skip{Path: p, Reason: fmt.Sprintf("larger than %d MiB", o.MaxFileSize>>20)})
		return
	}
	data, err := inputfile.Read(ctx, p, o.MaxFileSize)
	if err != nil {
		var tl *inputfile.TooLargeError
		if errors.As(err, &tl) {
			inv.Skipped = append(inv.Skipped, Skip{Path: p, Reason: fmt.Sprintf("larger than %d MiB", o.MaxFileSize>>20)})
		} else {
			inv.Skipped = append(inv.Skipped, Skip{Path: p, Reason: reason(err)})
		}
		return
	}
	if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		inv.Skipped = append(inv.Skipped, Skip{Path: p, Reason: SkipBinary})
		return
	}
	inv.Files++
	if inv.Files%1000 == 0 {
		o.Progress("  %d files read", inv.Files)
	}
	text := string(data)
	// The line of each finding, in one pass over the text however long its
	// lines (a minified JSON of users is one line).
	line, lineStart, lineEnd, counted := 1, 0, -1, 0
	for _, f := range o.Scanner.Find(text) {
		if i := strings.LastIndexByte(text[counted:f.Start], '\n'); i >= 0 {
			line += strings.Count(text[counted:f.Start], "\n")
			lineStart = counted + i + 1
		}
		counted = f.Start
		if lineEnd < f.Start {
			if lineEnd = strings.IndexByte(text[f.Start:], '\n'); lineEnd < 0 {
				lineEnd = len(text)
			} else {
				lineEnd += f.Start
			}
		}
		if strings.Contains(text[lineStart:lineEnd], IgnoreMarker) || f.Kind == mask.BankCard && TestCard(f.Value) {
			continue
		}
		masked, _ := mask.DefaultMask(f.Kind).Apply(f)
		inv.Findings = append(inv.Findings, Location{
			Path: filepath.ToSlash(p), Line: line, Column: f.Start - lineStart + 1,
			Kind: f.Kind, Masked: masked, Score: f.Score, Detail: f.Detail,
		})
	}
}

// summarise counts the findings by kind.
func (inv *Inventory) summarise(samples int) {
	byKind := map[mask.Kind]*Summary{}
	files := map[mask.Kind]map[string]bool{}
	for _, l := range inv.Findings {
		s := byKind[l.Kind]
		if s == nil {
			s = &Summary{Kind: l.Kind, Samples: []string{}}
			byKind[l.Kind] = s
			files[l.Kind] = map[string]bool{}
		}
		s.Count++
		files[l.Kind][l.Path] = true
		if len(s.Samples) < samples && !slices.Contains(s.Samples, l.Masked) {
			s.Samples = append(s.Samples, l.Masked)
		}
	}
	for _, k := range mask.Kinds {
		if s := byKind[k]; s != nil {
			s.Files = len(files[k])
			inv.Kinds = append(inv.Kinds, *s)
		}
	}
	inv.Total = len(inv.Findings)
}

// DefaultFailOn are the kinds that fail a gate unless it says otherwise:
// personal identifiers and financial accounts. E-mail and IP addresses are
// listed but do not fail it (nearly every repository names its authors'
// addresses in LICENSE, AUTHORS or docs), nor do unified social credit
// codes, which name organisations, not people.
var DefaultFailOn = []mask.Kind{mask.IDCard, mask.Mobile, mask.BankCard, mask.Passport, mask.TravelPermit, mask.IBAN, mask.Phone, mask.Plate}

// ParseKinds reads a list of kind names; "all" is every kind.
func ParseKinds(list []string) ([]mask.Kind, error) {
	var kinds []mask.Kind
	for _, k := range list {
		kind := mask.Kind(strings.ToLower(strings.TrimSpace(k)))
		if kind == "all" {
			return mask.Kinds, nil
		}
		if !slices.Contains(mask.Kinds, kind) {
			return nil, fmt.Errorf("no kind %q (there are %s)", k, KindNames(mask.Kinds))
		}
		if !slices.Contains(kinds, kind) {
			kinds = append(kinds, kind)
		}
	}
	return kinds, nil
}

// KindList is kinds' names.
func KindList(kinds []mask.Kind) []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return names
}

// KindNames joins kinds with commas.
func KindNames(kinds []mask.Kind) string { return strings.Join(KindList(kinds), ",") }

// Gated are the findings of the kinds given, in file order.
func (inv *Inventory) Gated(kinds []mask.Kind) []Location {
	var out []Location
	for _, l := range inv.Findings {
		if slices.Contains(kinds, l.Kind) {
			out = append(out, l)
		}
	}
	return out
}

// RelativeTo rewrites the inventory's paths, found under base, relative to
// it (slash-separated), so that it names no directory of the machine that
// scanned; the root itself becomes ".".
func (inv *Inventory) RelativeTo(base string) {
	rel := func(p string) string {
		r, err := filepath.Rel(base, filepath.FromSlash(p))
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return p
		}
		return filepath.ToSlash(r)
	}
	for i := range inv.Roots {
		inv.Roots[i] = rel(inv.Roots[i])
	}
	for i := range inv.Findings {
		inv.Findings[i].Path = rel(inv.Findings[i].Path)
	}
	for i := range inv.Skipped {
		inv.Skipped[i].Path = rel(inv.Skipped[i].Path)
		inv.Skipped[i].Reason = strings.ReplaceAll(inv.Skipped[i].Reason, base+string(filepath.Separator), "")
	}
}

// TestCard reports whether a card number, as found, is a well-known test
// number rather than a card: after its six-digit issuer prefix, at most
// two distinct digits (4111 1111 1111 1111, 4242424242424242,
// 5555555555554444). Payment code's fixtures are full of them; they are
// nobody's.
func TestCard(found string) bool {
	var seen [10]bool
	digits, distinct := 0, 0
	for i := 0; i < len(found); i++ {
		c := found[i]
		if c < '0' || c > '9' {
			continue
		}
		digits++
		if d := c - '0'; digits > 6 && !seen[d] {
			seen[d] = true
			distinct++
		}
	}
	return digits >= 13 && distinct <= 2
}
