package kit

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
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"

	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/modverify"
	"hegui.dev/hegui/internal/trust"
)

// Finding is one thing `hegui kit doctor` checked.
type Finding struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Fix says what to do when the check failed.
	Fix string `json:"fix,omitempty"`
}

// DoctorOptions say what to check a machine's Go environment against.
type DoctorOptions struct {
	// Dir is the installed kit.
	Dir string
	// Anchors, when not empty, are whom the kit must be signed by.
	Anchors trust.Anchors
	// Module, if set, is a project directory whose go.sum the module cache
	// is checked against.
	Module string
	// Environ is the environment the go command runs in (the user's
	// shell); nil means os.Environ().
	Environ []string
}

// Doctor checks a machine's Go environment against an installed kit: the
// kit's files and signature, each unpacked toolchain against the hash of
// its signed module zip, the go command's settings (which go, GOROOT,
// GOPROXY, GOSUMDB, GOFLAGS...) and, with a project, every module-cache
// entry its go.sum names, extracted directories included (which the go
// command does not check again once they are there). Each finding that
// fails says what to fix.
func Doctor(ctx context.Context, o DoctorOptions) ([]Finding, error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	d := &doctor{ctx: ctx, dir: dir, o: o}
	if err := d.readKit(); err != nil {
		return nil, err
	}
	if o.Environ == nil {
		d.o.Environ = os.Environ()
	}
	d.checkFiles()
	d.checkToolchains()
	d.checkExtracted()
	d.checkEnvironment()
	if o.Module != "" {
		d.checkModuleCache()
	}
	return d.findings, nil
}

type doctor struct {
	ctx      context.Context
	dir      string
	o        DoctorOptions
	m        *Manifest
	findings []Finding
	goenv    map[string]string
}

func (d *doctor) add(check string, ok bool, detail, fix string) {
	f := Finding{Check: check, OK: ok, Detail: detail}
	if !ok {
		f.Fix = fix
	}
	d.findings = append(d.findings, f)
}

func (d *doctor) path(rel string) string { return filepath.Join(d.dir, filepath.FromSlash(rel)) }

// readKit reads the installed manifest and, given anchors, checks its
// signatures.
func (d *doctor) readKit() error {
	data, err := inputfile.Read(d.ctx, d.path(ManifestFile), maxManifestSize)
	if err != nil {
		return fmt.Errorf("%s is not an installed kit: %w", d.dir, err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return fmt.Errorf("%s: %w", d.path(ManifestFile), err)
	}
	d.m = m
	if d.o.Anchors.Empty() {
		d.add("signature", true, "not checked: give --pub or --trust-root to check who signed the kit", "")
		return nil
	}
	envData, err := inputfile.Read(d.ctx, d.path(EnvelopeFile), maxManifestSize)
	if err != nil {
		d.add("signature", false, err.Error(), "reinstall the kit")
		return nil
	}
	env, payload, err := envelope.Parse(envData, PayloadType)
	if err == nil && !bytes.Equal(payload, data) {
		err = errors.New("manifest.json differs from the signed document")
	}
	if err == nil {
		var r *trust.Result
		r, err = trust.Check(d.ctx, d.o.Anchors, trust.Signed{Envelope: env, Signers: m.Signers, Time: m.Signed,
			Read: func(ctx context.Context, p string) ([]byte, error) {
				return inputfile.Read(ctx, d.path(p), inputfile.KeyLimit)
			}})
		if err == nil {
			d.add("signature", true, r.Detail, "")
			return nil
		}
	}
	d.add("signature", false, err.Error(), "the installed kit is not the signed one: reinstall it from a kit that verifies")
	return nil
}

// checkFiles compares every file the manifest lists with the directory
// (files the go command added since, such as extracted modules, are not
// the kit's and are not looked at here).
func (d *doctor) checkFiles() {
	var problems []string
	for _, f := range d.m.Files {
		fh, err := os.Open(d.path(f.Path))
		if err != nil {
			problems = append(problems, f.Path+": missing")
			continue
		}
		got, n, err := hashStream(d.ctx, fh, nil, true)
		fh.Close()
		switch {
		case err != nil:
			problems = append(problems, f.Path+": "+err.Error())
		case n != f.Size || got.sha256 != f.SHA256 || got.sm3 != f.SM3:
			problems = append(problems, f.Path+": changed")
		}
	}
	if len(problems) == 0 {
		d.add("files", true, fmt.Sprintf("all %d files of the kit are as signed", len(d.m.Files)), "")
		return
	}
	d.add("files", false, fmt.Sprintf("%d of the kit's files differ: %s", len(problems), strings.Join(first(problems, 5), "; ")),
		"reinstall the kit (hegui kit install KIT NEWDIR), or restore the files from it")
}

// checkToolchains hashes each unpacked GOROOT as go.sum hashes a module
// and compares it with the signed toolchain zip's hash.
func (d *doctor) checkToolchains() {
	versions, err := InstalledVersions(d.dir)
	if err != nil {
		d.add("toolchains", false, err.Error(), "reinstall the kit")
		return
	}
	for _, v := range versions {
		t, ok := d.m.ToolchainFor(v, HostPlatform())
		if !ok {
			d.add("toolchain "+v, false, "unpacked, but the kit has no such toolchain for "+HostPlatform(), "remove "+d.path(ToolchainsDir+"/"+v))
			continue
		}
		h, err := dirhash.HashDir(d.path(ToolchainsDir+"/"+v), ToolchainModule+"@"+t.ModuleVersion(), dirhash.Hash1)
		if err != nil {
			d.add("toolchain "+v, false, err.Error(), "reinstall the kit")
			continue
		}
		if h != t.Hash {
			d.add("toolchain "+v, false, fmt.Sprintf("GOROOT %s hashes to %s, the signed toolchain to %s: a file was changed, added or removed", d.path(ToolchainsDir+"/"+v), h, t.Hash),
				"reinstall the kit into a new directory; the go command in this GOROOT is not the signed one")
			continue
		}
		d.add("toolchain "+v, true, fmt.Sprintf("GOROOT %s is the signed toolchain (%s)", d.path(ToolchainsDir+"/"+v), t.Hash), "")
	}
}

// checkExtracted hashes each of the kit's modules extracted in the module
// cache, as go.sum hashes a module, and compares it with the hash of its
// signed zip (the kit's .ziphash file): the go command does not check an
// extracted module again. A module not extracted is the zip's, which
// checkFiles covers.
func (d *doctor) checkExtracted() {
	var problems []string
	extracted := 0
	for _, md := range d.m.Modules {
		if err := d.ctx.Err(); err != nil {
			return
		}
		dir, err1 := md.ExtractedDir()
		zip, err2 := md.ZipPath()
		if !md.Zip || err1 != nil || err2 != nil {
			continue
		}
		if _, err := os.Stat(d.path(dir)); err != nil {
			continue
		}
		extracted++
		want, err := os.ReadFile(d.path(zip + "hash"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s@%s: %v", md.Path, md.Version, err))
			continue
		}
		h, err := dirhash.HashDir(d.path(dir), md.Path+"@"+md.Version, dirhash.Hash1)
		if err != nil || h != strings.TrimSpace(string(want)) {
			problems = append(problems, fmt.Sprintf("%s@%s: %s was changed after it was extracted", md.Path, md.Version, d.path(dir)))
		}
	}
	if extracted == 0 {
		return
	}
	if len(problems) > 0 {
		d.add("extracted modules", false, fmt.Sprintf("%d of %d extracted modules differ from their signed zips: %s", len(problems), extracted, strings.Join(first(problems, 5), "; ")),
			"remove those directories (the go command extracts them again from the kit's zips), or reinstall the kit")
		return
	}
	d.add("extracted modules", true, fmt.Sprintf("all %d extracted modules are their signed zips' content", extracted), "")
}

// goEnvVars are the settings checkEnvironment reads.
var goEnvVars = []string{"GOROOT", "GOVERSION", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOFLAGS", "GOTOOLCHAIN", "GOMODCACHE", "GOCACHE", "GOENV"}

// checkEnvironment asks the go command the user would run what it will
// do, and compares that with the kit.
func (d *doctor) checkEnvironment() {
	fix := "source " + d.path(ActivateFile) + " (activate.fish for fish)"
	gobin, err := lookPath("go", d.o.Environ)
	if err != nil {
		d.add("go command", false, "no go command on PATH", fix)
		return
	}
	real, _ := filepath.EvalSymlinks(gobin)
	under := strings.HasPrefix(real, d.path(ToolchainsDir)+string(filepath.Separator))
	d.add("go command", under, "go on PATH is "+gobin, fix)
	out, err := gotool.Go{Binary: gobin, BaseEnv: d.o.Environ}.Run(d.ctx, append([]string{"env", "-json"}, goEnvVars...)...)
	if err != nil {
		d.add("go env", false, fmt.Sprintf("%s env failed: %v", gobin, err), fix)
		return
	}
	if err := json.Unmarshal(out, &d.goenv); err != nil {
		d.add("go env", false, err.Error(), fix)
		return
	}
	e := d.goenv
	wantProxy := fileURL(d.path(DownloadDir))
	kitSumDB, _, _ := modverify.ParseGOSUMDB(d.m.Env["GOSUMDB"])
	gotSumDB, _, serr := modverify.ParseGOSUMDB(e["GOSUMDB"])
	allowedNoSum := splitList(d.m.Env["GONOSUMDB"] + "," + d.m.Env["GOPRIVATE"] + "," + d.m.Env["GONOSUMCHECK"])
	type envCheck struct {
		name, detail, fix string
		ok                bool
	}
	checks := []envCheck{
		{"GOROOT", "GOROOT is " + e["GOROOT"] + " (" + e["GOVERSION"] + ")", fix,
			strings.HasPrefix(e["GOROOT"], d.path(ToolchainsDir)+string(filepath.Separator))},
		{"GOPROXY", "GOPROXY is " + e["GOPROXY"], "set GOPROXY=" + wantProxy + " (activate does): anything else reaches past the kit",
			e["GOPROXY"] == wantProxy},
		{"GOSUMDB", "GOSUMDB is " + e["GOSUMDB"], "set GOSUMDB=" + d.m.Env["GOSUMDB"] + ": the go command then checks every module against the kit's checksum data",
			serr == nil && gotSumDB == kitSumDB},
		{"GONOSUMDB", "modules not checked against the checksum database: " + orNone(e["GONOSUMDB"], e["GOPRIVATE"], e["GONOSUMCHECK"]),
			"unset GONOSUMDB, GOPRIVATE and GONOSUMCHECK beyond the kit's own (" + orNone(d.m.Env["GONOSUMDB"], d.m.Env["GOPRIVATE"], d.m.Env["GONOSUMCHECK"]) + ")",
			subset(splitList(e["GONOSUMDB"]+","+e["GOPRIVATE"]+","+e["GONOSUMCHECK"]), allowedNoSum)},
		{"GOINSECURE", "GOINSECURE is " + orNone(e["GOINSECURE"]), "unset GOINSECURE", e["GOINSECURE"] == ""},
		{"GOFLAGS", "GOFLAGS is " + orNone(e["GOFLAGS"]), "remove -insecure and -mod=vendor from GOFLAGS",
			!strings.Contains(e["GOFLAGS"], "-insecure") && !strings.Contains(e["GOFLAGS"], "-mod=vendor")},
		{"GOTOOLCHAIN", "GOTOOLCHAIN is " + e["GOTOOLCHAIN"], "set GOTOOLCHAIN=local: otherwise a go.mod's toolchain line makes the go command fetch another Go",
			e["GOTOOLCHAIN"] == "local"},
		{"GOMODCACHE", "GOMODCACHE is " + e["GOMODCACHE"], "set GOMODCACHE=" + d.path(GoPathDir+"/pkg/mod"),
			e["GOMODCACHE"] == d.path(GoPathDir+"/pkg/mod")},
	}
	if d.m.BuildCache {
		checks = append(checks, envCheck{"GOCACHE", "GOCACHE is " + e["GOCACHE"] + ", GOFLAGS " + orNone(e["GOFLAGS"]),
			"set GOCACHE=" + d.path(BuildCacheDir) + " and -trimpath in GOFLAGS (activate does): the kit's prebuilt packages are used only so",
			e["GOCACHE"] == d.path(BuildCacheDir) && strings.Contains(e["GOFLAGS"], "-trimpath")})
	}
	for _, c := range checks {
		d.add(c.name, c.ok, c.detail, c.fix)
	}
}

// checkModuleCache checks every module-cache entry the project's go.sum
// names: the go.mod and the zip hash in the download cache, and the
// extracted directory, each against the go.sum line.
func (d *doctor) checkModuleCache() {
	data, err := inputfile.Read(d.ctx, filepath.Join(d.o.Module, "go.sum"), inputfile.DocumentLimit)
	if err != nil {
		d.add("module cache", false, err.Error(), "give the project directory whose go.sum to check (--module DIR)")
		return
	}
	lines, err := modverify.ParseGoSum(data)
	if err != nil {
		d.add("module cache", false, err.Error(), "fix the project's go.sum")
		return
	}
	modcache := d.goenv["GOMODCACHE"]
	if modcache == "" {
		modcache = d.path(GoPathDir + "/pkg/mod")
	}
	var problems, missing []string
	checked := 0
	for _, l := range lines {
		if err := d.ctx.Err(); err != nil {
			return
		}
		version, isMod := strings.CutSuffix(l.Version, "/go.mod")
		ep, err1 := module.EscapePath(l.Module)
		ev, err2 := module.EscapeVersion(version)
		if err1 != nil || err2 != nil {
			continue
		}
		base := filepath.Join(modcache, "cache", "download", filepath.FromSlash(ep), "@v", ev)
		if isMod {
			mod, err := os.ReadFile(base + ".mod")
			if err != nil {
				missing = append(missing, l.Module+" "+l.Version)
				continue
			}
			h, _ := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(mod)), nil })
			checked++
			if h != l.Hash {
				problems = append(problems, fmt.Sprintf("%s %s: the cached go.mod hashes to %s", l.Module, l.Version, h))
			}
			continue
		}
		zh, err := os.ReadFile(base + ".ziphash")
		if err != nil {
			missing = append(missing, l.Module+" "+l.Version)
			continue
		}
		checked++
		if strings.TrimSpace(string(zh)) != l.Hash {
			problems = append(problems, fmt.Sprintf("%s %s: the cached zip's hash is %s", l.Module, l.Version, strings.TrimSpace(string(zh))))
		}
		extracted := filepath.Join(modcache, filepath.FromSlash(ep)+"@"+ev)
		if _, err := os.Stat(extracted); err == nil {
			h, err := dirhash.HashDir(extracted, l.Module+"@"+version, dirhash.Hash1)
			if err != nil || h != l.Hash {
				problems = append(problems, fmt.Sprintf("%s %s: the extracted directory %s does not match go.sum (changed after extraction)", l.Module, version, extracted))
			}
		}
	}
	detail := fmt.Sprintf("%d of %d go.sum lines checked in %s", checked, len(lines), modcache)
	if len(missing) > 0 {
		detail += fmt.Sprintf("; %d not in the cache (%s)", len(missing), strings.Join(first(missing, 3), ", "))
	}
	if len(problems) > 0 {
		d.add("module cache", false, detail+": "+strings.Join(first(problems, 5), "; "),
			"remove those entries (go clean -modcache removes all) and let the go command take them again from the kit")
		return
	}
	d.add("module cache", len(missing) == 0, detail, "build a kit with this project's modules (hegui kit build --modules "+d.o.Module+")")
}

func lookPath(name string, environ []string) (string, error) {
	for _, kv := range slices.Backward(environ) {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(p) {
				c := filepath.Join(dir, name)
				if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return c, nil
				}
			}
			break
		}
	}
	return "", exec.ErrNotFound
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func orNone(vals ...string) string {
	if s := strings.Join(splitList(strings.Join(vals, ",")), ","); s != "" {
		return s
	}
	return "(none)"
}

func first(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(slices.Clone(list[:n]), fmt.Sprintf("and %d more", len(list)-n))
}
