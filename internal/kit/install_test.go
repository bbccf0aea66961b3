package kit

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/format"
)

func opener(data []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

func TestInstallSmallKit(t *testing.T) {
	key := testKey(t)
	dir := filepath.Join(t.TempDir(), "env")
	in, err := Install(t.Context(), opener(smallKit(t, key)), dir, InstallOptions{Anchors: anchorsFor(key)})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Versions) != 0 {
		t.Fatalf("versions %v from a kit without toolchains", in.Versions)
	}
	for _, p := range []string{ManifestFile, EnvelopeFile, ActivateFile, ActivateFishFile, DownloadDir + "/example.com/m/@v/v1.0.0.zip"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, stagingDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the staging directory is left: %v", err)
	}
	// The module is extracted where the go command looks for it.
	if in.Extracted != 1 {
		t.Errorf("%d modules extracted, want 1", in.Extracted)
	}
	data, err := os.ReadFile(filepath.Join(dir, GoPathDir, "pkg", "mod", "example.com", "m@v1.0.0", "data.bin"))
	if err != nil || !bytes.Equal(data, smallModuleData()) {
		t.Errorf("the extracted module's data.bin: %d bytes, %v", len(data), err)
	}
	// A second install into the same directory is refused.
	if _, err := Install(t.Context(), opener(smallKit(t, key)), dir, InstallOptions{Anchors: anchorsFor(key)}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("install over an installed kit: %v", err)
	}
}

// TestInstallRefusesTamperedKitBeforeWriting checks that a tampered kit
// leaves nothing behind: not the directory, not a file in it.
func TestInstallRefusesTamperedKitBeforeWriting(t *testing.T) {
	key := testKey(t)
	bad := rewrite(t, smallKit(t, key), func(es []entry) []entry {
		last := &es[len(es)-1]
		last.data = bytes.Clone(last.data)
		last.data[0] ^= 0xff
		return es
	})
	parent := t.TempDir()
	dir := filepath.Join(parent, "env")
	_, err := Install(t.Context(), opener(bad), dir, InstallOptions{Anchors: anchorsFor(key)})
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("Install = %v, want a FileError", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a refused install wrote %v", entries)
	}
	// Into an existing empty directory: it stays empty.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(t.Context(), opener(bad), dir, InstallOptions{Anchors: anchorsFor(key)}); err == nil {
		t.Fatal("tampered kit installed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused install wrote %v", entries)
	}
}

// TestInstallKitChangedBetweenReadings serves a good kit to the
// verification and a tampered one to the unpacking: nothing stays.
func TestInstallKitChangedBetweenReadings(t *testing.T) {
	key := testKey(t)
	good := smallKit(t, key)
	bad := rewrite(t, good, func(es []entry) []entry {
		last := &es[len(es)-1]
		last.data = bytes.Clone(last.data)
		last.data[0] ^= 0xff
		return es
	})
	calls := 0
	open := func() (io.ReadCloser, error) {
		calls++
		if calls == 1 {
			return io.NopCloser(bytes.NewReader(good)), nil
		}
		return io.NopCloser(bytes.NewReader(bad)), nil
	}
	parent := t.TempDir()
	_, err := Install(t.Context(), open, filepath.Join(parent, "env"), InstallOptions{Anchors: anchorsFor(key)})
	if err == nil || !strings.Contains(err.Error(), "nothing was installed") {
		t.Fatalf("Install = %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("an install that failed while unpacking left %v", entries)
	}
}

// TestInstallZipsOnly leaves the module zips for the go command.
func TestInstallZipsOnly(t *testing.T) {
	key := testKey(t)
	dir := filepath.Join(t.TempDir(), "env")
	in, err := Install(t.Context(), opener(smallKit(t, key)), dir, InstallOptions{Anchors: anchorsFor(key), ZipsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, GoPathDir, "pkg", "mod", "example.com", "m@v1.0.0")); in.Extracted != 0 || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("--zips-only extracted %d modules (%v)", in.Extracted, err)
	}
}

// TestInstallRefusesBadModuleZip installs a kit signed with a module zip
// that breaks the module zip rules (a path out of the module): x/mod/zip
// refuses it and nothing is left.
func TestInstallRefusesBadModuleZip(t *testing.T) {
	key := testKey(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("example.com/m@v1.0.0/../../escape.txt")
	w.Write([]byte("out of the module"))
	zw.Close()
	parent := t.TempDir()
	_, err := Install(t.Context(), opener(smallKitWithZip(t, key, Gzip, buf.Bytes())), filepath.Join(parent, "env"), InstallOptions{Anchors: anchorsFor(key)})
	if err == nil || !strings.Contains(err.Error(), "extracting example.com/m@v1.0.0") {
		t.Fatalf("Install = %v, want the zip refused", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a refused install left %v", entries)
	}
}

func TestInstallTargets(t *testing.T) {
	key := testKey(t)
	kit := smallKit(t, key)
	// A directory with someone's files is refused and left alone.
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Install(t.Context(), opener(kit), busy, InstallOptions{Anchors: anchorsFor(key)}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("install into a used directory: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(busy, "notes.txt")); string(data) != "mine" {
		t.Fatal("the user's file was touched")
	}
	// What an interrupted install left (a staging directory, no activate
	// script) is cleaned up and the install goes on.
	left := t.TempDir()
	os.MkdirAll(filepath.Join(left, stagingDir, "gopath"), 0o755)
	os.MkdirAll(filepath.Join(left, GoPathDir, "pkg"), 0o755)
	if _, err := Install(t.Context(), opener(kit), left, InstallOptions{Anchors: anchorsFor(key)}); err != nil {
		t.Fatalf("install over an interrupted one: %v", err)
	}
}

func TestNormalizeGoVersion(t *testing.T) {
	for in, want := range map[string]string{
		"1.22.5": "go1.22.5", "go1.26.8": "go1.26.8", "1.21": "go1.21", "1.23rc1": "go1.23rc1",
		"2.0.0": "", "1.22.5/../x": "", "": "", "go": "", "1.22 ": "go1.22", "latest": "",
	} {
		got, err := NormalizeGoVersion(in)
		if want == "" {
			if err == nil {
				t.Errorf("NormalizeGoVersion(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("NormalizeGoVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if CompareGoVersions("go1.9", "go1.22.5") >= 0 || CompareGoVersions("go1.26.8", "go1.22.5") <= 0 {
		t.Fatal("CompareGoVersions does not order by number")
	}
}

func TestParseManifestRefuses(t *testing.T) {
	key := testKey(t)
	es := readEntries(t, smallKit(t, key))
	good := string(es[0].data)
	if _, err := ParseManifest([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown member", `"schema"`, `"extra": 1, "schema"`, "unknown"},
		{"other schema", Schema, "hegui.dev/manifest/v1", "schema"},
		{"path out of the kit", `"path": "gopath/`, `"path": "../gopath/`, "not a path inside"},
		{"env a kit does not set", `"GOSUMDB"`, `"GOFLAGS"`, "GOFLAGS"},
		{"env with a shell character", `"sum.golang.org"`, `"sum.golang.org'; rm -rf ~; '"`, "character"},
		{"default not a toolchain", `"default": ""`, `"default": "go1.22.5"`, "default"},
		{"module zip not in the kit", `@v/v1.0.0.zip"`, `@v/v1.0.1.zip"`, "its zip is not in the kit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.from, tc.to, 1)
			if bad == good {
				t.Fatalf("%q is not in the manifest", tc.from)
			}
			if _, err := ParseManifest([]byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseManifest = %v; want an error with %q", err, tc.want)
			}
		})
	}
}

// FuzzParseManifest checks what ParseManifest promises of any document it
// accepts: every path inside the kit, each once; signers' files under
// signers/; toolchains where the kit keeps them.
func FuzzParseManifest(f *testing.F) {
	zipSize = 1000
	key := testKey(f)
	f.Add(readEntries(f, smallKit(f, key))[0].data)
	f.Add([]byte(`{"schema":"hegui.dev/kit/v1","signers":[],"files":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, file := range m.Files {
			if format.CheckPath(file.Path) != nil || seen[file.Path] {
				t.Fatalf("accepted file %q", file.Path)
			}
			seen[file.Path] = true
		}
		for _, s := range m.Signers {
			if !strings.HasPrefix(s.PublicKey, SignersDir+"/") && s.PublicKey != "" {
				t.Fatalf("accepted signer key path %q", s.PublicKey)
			}
		}
		for _, tc := range m.Toolchains {
			if tc.Zip != ToolchainZipPath(tc.Version, tc.Platform) || !seen[tc.Zip] {
				t.Fatalf("accepted toolchain %+v", tc)
			}
		}
		for _, md := range m.Modules {
			if zip, err := md.ZipPath(); err != nil || (md.Zip && !seen[zip]) {
				t.Fatalf("accepted module %+v whose zip is not in the kit", md)
			}
		}
	})
}

// TestVerifyVisitorFailure checks that a visitor's own failure (a full
// disk, say) is reported as itself, not as a corrupt kit.
func TestVerifyVisitorFailure(t *testing.T) {
	key := testKey(t)
	full := errors.New("no space left on device")
	_, err := Verify(t.Context(), bytes.NewReader(smallKit(t, key)), anchorsFor(key), func(f format.FileEntry, r io.Reader) error {
		if strings.HasSuffix(f.Path, ".zip") {
			return full
		}
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if !errors.Is(err, full) || strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Verify = %v, want the visitor's error", err)
	}
}

// TestActivateWithoutHegui runs the `hegui` shell function activate
// defines where hegui is not on PATH: one clear line and status 127, not
// the shell's "command not found" from inside the activate script; and
// where it is, to check the function passes the command on.
func TestActivateWithoutHegui(t *testing.T) {
	key := testKey(t)
	dir := filepath.Join(t.TempDir(), "env")
	if _, err := Install(t.Context(), opener(smallKit(t, key)), dir, InstallOptions{Anchors: anchorsFor(key)}); err != nil {
		t.Fatal(err)
	}
	fake := t.TempDir()
	if err := os.WriteFile(filepath.Join(fake, "hegui"), []byte("#!/bin/sh\necho \"the program: $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{
		"bash": ". '" + dir + "/activate'; hegui version; echo \"status $?\"",
		"zsh":  ". '" + dir + "/activate'; hegui version; echo \"status $?\"",
		"fish": "source '" + dir + "/activate.fish'; hegui version; echo \"status $status\"",
	}
	for shell, script := range scripts {
		t.Run(shell, func(t *testing.T) {
			bin, err := exec.LookPath(shell)
			if err != nil {
				if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
					t.Fatalf("%s is not installed", shell)
				}
				t.Skipf("%s is not installed", shell)
			}
			cmd := exec.Command(bin, "-c", script)
			cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), "hegui: not on PATH (this kit does not carry it") || !strings.Contains(string(out), "status 127") {
				t.Fatalf("%s:\n%s", shell, out)
			}
			// With a hegui on PATH, the function passes the command on.
			cmd = exec.Command(bin, "-c", script)
			cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + fake + ":/usr/bin:/bin"}
			out, _ = cmd.CombinedOutput()
			if !strings.Contains(string(out), "the program: version") || !strings.Contains(string(out), "status 0") {
				t.Fatalf("%s with hegui on PATH:\n%s", shell, out)
			}
		})
	}
}
