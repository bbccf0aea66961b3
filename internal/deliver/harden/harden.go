// Package harden is the stage that inspects every binary: for ELF files,
// static linking (or the libraries needed), stripping, a non-executable
// stack, PIE, RELRO and BIND_NOW where an external linker was used, and the
// newest glibc symbol version a cgo binary needs against a baseline; for
// every binary, that its embedded build information agrees with the module
// graph hegui computed from the source.
package harden

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
)

// Stage fills Binary.Hardening.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "harden" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	for _, b := range d.Binaries {
		h, err := Inspect(d.Path(b.Path), d.Config.Hardening.GlibcBaseline)
		if err != nil {
			return fmt.Errorf("%s: %w", b.Path, err)
		}
		h.Checks = append(h.Checks, checkBuildInfo(d.Path(b.Path), b, d.Version.Commit))
		b.Hardening = h
		var failed []string
		for _, c := range h.Checks {
			if c.Status == format.Fail {
				failed = append(failed, c.Name)
			}
		}
		if len(failed) > 0 {
			d.Warn("%s fails hardening checks: %s", b.Path, strings.Join(failed, ", "))
		} else {
			d.Log.Stepf("%s: %d checks pass", b.Path, len(h.Checks))
		}
	}
	return nil
}

// Inspect runs the file-format checks on a binary.
func Inspect(path, glibcBaseline string) (*format.Hardening, error) {
	ef, err := elf.Open(path)
	if err != nil {
		return other(path)
	}
	defer ef.Close()
	external := externalLinker(path)
	h := &format.Hardening{Format: "ELF"}
	add := func(name string, status format.CheckStatus, detail string) {
		h.Checks = append(h.Checks, format.Check{Name: name, Status: status, Detail: detail})
	}

	libs, _ := ef.ImportedLibraries()
	hasInterp := slices.ContainsFunc(ef.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
	if len(libs) == 0 && !hasInterp {
		add("static", format.Pass, "statically linked, needs no shared libraries")
	} else {
		add("static", format.Pass, "dynamically linked; needs "+strings.Join(libs, ", "))
	}

	switch {
	case ef.Section(".symtab") != nil:
		add("stripped", format.Fail, "has a symbol table (.symtab); link with -s")
	case ef.Section(".debug_info") != nil || ef.Section(".zdebug_info") != nil:
		add("stripped", format.Fail, "has DWARF debug information; link with -w")
	default:
		add("stripped", format.Pass, "no symbol table, no DWARF")
	}

	stack := format.Check{Name: "nx-stack", Status: format.Fail, Detail: "no PT_GNU_STACK header: the loader may make the stack executable"}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_GNU_STACK {
			if p.Flags&elf.PF_X != 0 {
				stack.Detail = "PT_GNU_STACK is executable"
			} else {
				stack = format.Check{Name: "nx-stack", Status: format.Pass, Detail: "stack is not executable"}
			}
		}
	}
	h.Checks = append(h.Checks, stack)

	ifExternal := func(name string, ok bool, good, bad string) {
		switch {
		case ok:
			add(name, format.Pass, good)
		case !external:
			add(name, format.NotApplicable, "Go's internal linker; applies to builds with an external linker (cgo)")
		default:
			add(name, format.Fail, bad)
		}
	}
	ifExternal("pie", ef.Type == elf.ET_DYN, "position-independent executable", "not position-independent; build with -buildmode=pie")
	relro := slices.ContainsFunc(ef.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_GNU_RELRO })
	ifExternal("relro", relro, "PT_GNU_RELRO present", "no PT_GNU_RELRO; link with -extldflags=-Wl,-z,relro")
	ifExternal("bind-now", bindNow(ef), "symbols bound at load time (BIND_NOW)", "lazy binding; link with -extldflags=-Wl,-z,now")

	add(glibcCheck(ef, glibcBaseline))
	return h, nil
}

// other describes a binary that is not ELF: the ELF checks do not apply.
func other(path string) (*format.Hardening, error) {
	kind := ""
	if f, err := pe.Open(path); err == nil {
		f.Close()
		kind = "PE"
	} else if f, err := macho.Open(path); err == nil {
		f.Close()
		kind = "Mach-O"
	} else {
		return nil, errors.New("not an ELF, PE or Mach-O executable")
	}
	return &format.Hardening{Format: kind, Checks: []format.Check{
		{Name: "elf-checks", Status: format.NotApplicable, Detail: kind + " binary: the ELF hardening checks do not apply"},
	}}, nil
}

// externalLinker reports whether the binary was linked by an external
// linker: cgo was on, or -linkmode=external was asked for.
func externalLinker(path string) bool {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return false
	}
	for _, s := range info.Settings {
		if (s.Key == "CGO_ENABLED" && s.Value == "1") || (s.Key == "-ldflags" && strings.Contains(s.Value, "-linkmode=external")) {
			return true
		}
	}
	return false
}

func bindNow(ef *elf.File) bool {
	if flags, err := ef.DynValue(elf.DT_FLAGS); err == nil && len(flags) > 0 && flags[0]&uint64(elf.DF_BIND_NOW) != 0 {
		return true
	}
	if flags, err := ef.DynValue(elf.DT_FLAGS_1); err == nil && len(flags) > 0 && flags[0]&uint64(elf.DF_1_NOW) != 0 {
		return true
	}
	return false
}

// glibcCheck finds the newest GLIBC_x.y symbol version the binary imports
// and names the symbols newer than the baseline.
func glibcCheck(ef *elf.File, baseline string) (string, format.CheckStatus, string) {
	syms, err := ef.ImportedSymbols()
	if err != nil || len(syms) == 0 {
		return "glibc", format.NotApplicable, "imports no versioned C library symbols"
	}
	newest := ""
	var over []string
	for _, s := range syms {
		v, ok := strings.CutPrefix(s.Version, "GLIBC_")
		if !ok {
			continue
		}
		if newest == "" || versionLess(newest, v) {
			newest = v
		}
		if versionLess(baseline, v) {
			over = append(over, s.Name+"@GLIBC_"+v)
		}
	}
	switch {
	case newest == "":
		return "glibc", format.NotApplicable, "imports no GLIBC_ versioned symbols"
	case len(over) > 0:
		sort.Strings(over)
		return "glibc", format.Fail, fmt.Sprintf("needs glibc %s, newer than the baseline %s: %s", newest, baseline, strings.Join(over, ", "))
	}
	return "glibc", format.Pass, fmt.Sprintf("needs glibc %s at most (baseline %s)", newest, baseline)
}

// versionLess compares dotted version numbers such as 2.17 and 2.34.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// checkBuildInfo compares the binary's embedded build information with the
// build hegui ran: the same target, the linked modules at the versions the
// source module graph selected, and the commit.
func checkBuildInfo(path string, b *delivery.Binary, commit string) format.Check {
	c := format.Check{Name: "build-info", Status: format.Fail}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		c.Detail = "no readable Go build information: " + err.Error()
		return c
	}
	var problems []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["GOOS"] != b.Target.OS || settings["GOARCH"] != b.Target.Arch {
		problems = append(problems, fmt.Sprintf("built for %s/%s, not %s", settings["GOOS"], settings["GOARCH"], b.Target))
	}
	if settings["-trimpath"] != "true" {
		problems = append(problems, "not built with -trimpath")
	}
	if commit != "" && settings["vcs.revision"] != commit {
		problems = append(problems, fmt.Sprintf("records commit %q, not %s", settings["vcs.revision"], commit))
	}
	problems = append(problems, CompareModules(info, b.Modules)...)
	if len(problems) > 0 {
		c.Detail = strings.Join(problems, "; ")
		return c
	}
	c.Status = format.Pass
	c.Detail = fmt.Sprintf("%d modules, target, -trimpath and commit agree with the source", len(info.Deps)+1)
	return c
}

// CompareModules lists the differences between the modules a binary's build
// information records and the modules `go list -deps` linked for it.
func CompareModules(info *buildinfo.BuildInfo, linked []gotool.Module) []string {
	want := map[string]string{}
	for i, m := range linked {
		switch {
		case i == 0:
			if m.Path != info.Main.Path {
				return []string{fmt.Sprintf("main module is %s, not %s", info.Main.Path, m.Path)}
			}
		case m.Main:
			want[m.Path] = "(devel)" // another module of the workspace
		default:
			want[m.Path] = moduleVersion(m.Version, m.Replace)
		}
	}
	var problems []string
	for _, dep := range info.Deps {
		v := dep.Version
		if dep.Replace != nil {
			v = replacedVersion(dep.Replace.Path, dep.Replace.Version)
		}
		w, ok := want[dep.Path]
		switch {
		case !ok:
			problems = append(problems, dep.Path+" is in the binary but not linked according to the source")
		case w != v:
			problems = append(problems, fmt.Sprintf("%s is %s in the binary, %s in the source", dep.Path, v, w))
		}
		delete(want, dep.Path)
	}
	for p := range want {
		problems = append(problems, p+" is linked according to the source but missing from the binary")
	}
	sort.Strings(problems)
	return problems
}

func moduleVersion(version string, replace *gotool.Module) string {
	if replace != nil {
		return replacedVersion(replace.Path, replace.Version)
	}
	return version
}

// replacedVersion names a replacement the same way on both sides: a local
// directory by its path (the go command lists it without a version, build
// information as "(devel)"), a module by path@version.
func replacedVersion(path, version string) string {
	if version == "" || version == "(devel)" {
		return "=> " + path
	}
	return "=> " + path + "@" + version
}
