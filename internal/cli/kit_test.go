package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/peertest"
)

// kitOtherGo is the second Go version of the test kit, beside the one
// running the tests: old enough to tell apart, new enough for the app.
const kitOtherGo = "1.22.0"

// TestKitOffline is the recovery story: on a connected machine `hegui kit
// build` puts two Go toolchains and a real project's modules (cobra, uuid,
// x/text and what they require) into one signed file; `hegui kit verify`
// and `install` check it; then, in a clean environment with no module
// proxy (GOPROXY=off, an empty HOME, no go command on PATH), bash, zsh and
// fish each activate the kit, build the project offline with GOSUMDB on,
// switch Go version with `hegui kit use`, build again, check a module
// against the checksum database offline (a module with no go.sum), and
// deactivate, which must leave the environment exactly as it was.
func TestKitOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads two Go toolchains")
	}
	out, err := exec.Command("go", "env", "GOPROXY", "GOVERSION").Output()
	lines := strings.Fields(string(out))
	if err != nil || len(lines) != 2 || !strings.HasPrefix(lines[0], "http") {
		if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
			t.Fatalf("no module proxy: %q %v", out, err)
		}
		t.Skipf("no module proxy: %q %v", out, err)
	}
	hostGo := strings.TrimPrefix(lines[1], "go")

	r := newRunner(t)
	r.genKey("release", "sm2")
	r.genKey("stranger", "sm2")
	app := r.path("app")
	copyDir(t, filepath.Join("testdata", "kitapp"), app)
	kitFile := r.path("go-env.tar.zst")

	res := r.ok("kit", "build", "--go", kitOtherGo+","+hostGo, "--modules", app, "--vulndb="+testVulnDB(t), "--key", r.path("release.key"), "--out", kitFile)
	if !strings.Contains(res.stderr, "2 toolchain(s), 9 module versions (5 zips)") {
		t.Fatalf("kit build said:\n%s", res.stderr)
	}
	res = r.ok("kit", "verify", kitFile, "--pub", r.path("release.pub"))
	if !strings.Contains(res.stdout, "verifies") || !strings.Contains(res.stdout, kitOtherGo+" (linux/amd64)") || !strings.Contains(res.stdout, "vulndb ") {
		t.Fatalf("kit verify said:\n%s", res.stdout)
	}
	r.fails(1, []string{"signature does not hold"}, "kit", "verify", kitFile, "--pub", r.path("stranger.pub"))
	r.fails(2, []string{"--trust-root", "--pub"}, "kit", "install", kitFile, r.path("nowhere"))

	// A byte of the kit changed in transit: refused before anything is
	// written.
	data, err := os.ReadFile(kitFile)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)*3/4] ^= 0x40
	r.write("tampered.tar.zst", data)
	r.fails(1, []string{"tampered.tar.zst"}, "kit", "install", r.path("tampered.tar.zst"), r.path("tampered-env"), "--pub", r.path("release.pub"))
	if _, err := os.Stat(r.path("tampered-env")); !os.IsNotExist(err) {
		t.Fatalf("a refused install left %s: %v", r.path("tampered-env"), err)
	}

	dir := r.path("env")
	res = r.ok("kit", "install", kitFile, dir, "--pub", r.path("release.pub"))
	if strings.TrimSpace(res.stdout) != "source "+filepath.Join(dir, "activate") {
		t.Fatalf("kit install printed %q", res.stdout)
	}
	r.fails(1, []string{"not empty"}, "kit", "install", kitFile, dir, "--pub", r.path("release.pub"))
	res = r.ok("kit", "use", kitOtherGo, "--dir", dir)
	if strings.TrimSpace(res.stdout) != ". "+filepath.Join(dir, "activate")+" go"+kitOtherGo {
		t.Fatalf("kit use printed %q", res.stdout)
	}
	r.fails(1, []string{"no Go 1.21.0", kitOtherGo}, "kit", "use", "1.21.0", "--dir", dir)

	// A module with no go.sum: the go command must look it up in the
	// checksum database, which it can only do from the kit's copy.
	nosum := r.path("nosum")
	os.MkdirAll(nosum, 0o755)
	r.write("nosum/go.mod", []byte("module example.com/nosum\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n"))
	r.write("nosum/main.go", []byte("package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(uuid.NewSHA1(uuid.NameSpaceURL, nil)) }\n"))

	shells := map[string]string{
		"bash": kitScriptSh(dir, app, nosum, hostGo, `declare -p | grep -E '^declare -[-a-zA-Z]+ (GO[A-Z]*|PATH|HEGUI_[A-Z]*|NOTEXPORTED)='`),
		"zsh":  kitScriptSh(dir, app, nosum, hostGo, `typeset -p PATH GOROOT GOPATH GOPROXY GOFLAGS GOSUMDB GONOSUMDB GOTOOLCHAIN NOTEXPORTED 2>/dev/null`),
		"fish": kitScriptFish(dir, app, nosum, hostGo),
	}
	// The shells share a build cache (the first fills it), or each would
	// compile the project and its modules twice from nothing.
	gocache := r.path("gocache")
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			bin, err := exec.LookPath(shell)
			if err != nil {
				if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
					t.Fatalf("%s is not installed", shell)
				}
				t.Skipf("%s is not installed", shell)
			}
			home := peertest.GoHome(t)
			cmd := exec.Command(bin, "-c", shells[shell])
			// A clean machine: no go command on PATH, no module proxy, an
			// empty HOME (so no go env file and no module cache).
			cmd.Env = []string{"HOME=" + home, "GOCACHE=" + gocache, "PATH=/usr/bin:/bin", "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOSUMDB=off", "LANG=C.UTF-8"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", shell, err, out)
			}
			for _, want := range []string{
				"before: no go",
				"go version go" + hostGo + " linux/amd64",
				"GOROOT " + filepath.Join(dir, "go", "go"+hostGo),
				"GOPROXY file://" + filepath.Join(dir, "gopath/pkg/mod/cache/download"),
				"GOSUMDB sum.golang.org",
				"vulndb file://" + filepath.Join(dir, "vulndb"),
				"built with go" + hostGo + ": 07b1e939-6ce7-5f33-8ad6-d5a0b091f0db zh",
				// The modules install extracted are what go.sum says (the
				// go command hashes each zip and each extracted tree).
				"all modules verified",
				"go version go" + kitOtherGo + " linux/amd64",
				"GOROOT " + filepath.Join(dir, "go", "go"+kitOtherGo),
				"built with go" + kitOtherGo + ": 07b1e939-6ce7-5f33-8ad6-d5a0b091f0db zh",
				"github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=",
				"no go.sum: built",
				"deactivated: the same environment",
			} {
				if !strings.Contains(string(out), want+"\n") {
					t.Errorf("%s: the output lacks %q:\n%s", shell, want, out)
				}
			}
			if strings.Contains(string(out), "leftover") {
				t.Errorf("%s: deactivate left its own variables or functions behind:\n%s", shell, out)
			}
		})
	}
	t.Run("doctor", func(t *testing.T) { kitDoctor(t, r, dir, app) })
}

// kitDoctor checks `hegui kit doctor` on TestKitOffline's installed kit:
// all well in an activated shell; the wrong go and proxy outside one; an
// untrusted key; a changed extracted module and a changed toolchain file.
func kitDoctor(t *testing.T, r *runner, dir, app string) {
	// The environment an activated bash has.
	out, err := exec.Command("bash", "-c", ". '"+dir+"/activate' && env -0").Output()
	if err != nil {
		t.Fatal(err)
	}
	activated := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	r.environ = activated
	res := r.ok("kit", "doctor", "--dir", dir, "--module", app, "--pub", r.path("release.pub"))
	for _, want := range []string{"[ok  ] signature", "[ok  ] toolchain go" + kitOtherGo, "[ok  ] GOPROXY", "[ok  ] module cache 14 of 14 go.sum lines", "[ok  ] extracted modules all "} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("kit doctor lacks %q:\n%s", want, res.stdout)
		}
	}
	r.fails(1, []string{"signature"}, "kit", "doctor", "--dir", dir, "--pub", r.path("stranger.pub"))

	// Not activated: the machine's go, no kit proxy.
	r.environ = []string{"PATH=/usr/bin:/bin:" + filepath.Dir(goBinary(t)), "HOME=" + peertest.GoHome(t)}
	r.fails(1, []string{"go command", "GOROOT", "GOPROXY", "GOMODCACHE"}, "kit", "doctor", "--dir", dir)

	// An extracted module changed after the go command extracted it (the
	// go command itself would build with it), and a toolchain file.
	r.environ = activated
	uuidDir := filepath.Join(dir, "gopath", "pkg", "mod", "github.com", "google", "uuid@v1.6.0")
	if err := os.WriteFile(filepath.Join(uuidDir, "uuid.go"), []byte("package uuid\n// changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	version := filepath.Join(dir, "go", "go"+kitOtherGo, "VERSION")
	if err := os.WriteFile(version, []byte("go"+kitOtherGo+"-patched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.fails(1, []string{"module cache", "extracted modules", "toolchain go" + kitOtherGo}, "kit", "doctor", "--dir", dir, "--module", app)
	res = r.run("kit", "doctor", "--dir", dir, "--module", app)
	if !strings.Contains(res.stdout, "github.com/google/uuid v1.6.0: the extracted directory") || !strings.Contains(res.stdout, "github.com/google/uuid@v1.6.0: "+uuidDir+" was changed") || !strings.Contains(res.stdout, "fix: reinstall the kit") {
		t.Errorf("kit doctor after tampering:\n%s", res.stdout)
	}
}

func goBinary(t *testing.T) string {
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// kitScriptSh is the bash and zsh side of TestKitOffline; vars prints the
// shell's own view of the variables (set, exported or not).
func kitScriptSh(dir, app, nosum, hostGo, vars string) string {
	return `set -e
NOTEXPORTED=kept
command -v go >/dev/null || echo "before: no go"
before="$(env | grep -Ev '^(PWD|OLDPWD|_)=' | sort; ` + vars + ` || true)"
. '` + dir + `/activate'
go version
echo "GOROOT $(go env GOROOT)"
echo "GOPROXY $(go env GOPROXY)"
echo "GOSUMDB $(go env GOSUMDB)"
[ -f "$HEGUI_VULNDB/index/db.json" ] && echo "vulndb $GOVULNDB"
cd '` + app + `'
go build -o app.bin . && echo "built with $(go env GOVERSION): $(./app.bin)"
go mod verify
hegui kit use ` + kitOtherGo + `
go version
echo "GOROOT $(go env GOROOT)"
go build -o app.bin . && echo "built with $(go env GOVERSION): $(./app.bin)"
cd '` + nosum + `'
rm -f go.sum
go mod tidy
cat go.sum
go build -o /dev/null . && echo "no go.sum: built"
deactivate
if set | grep -q '^_hegui_kit'; then echo "leftover variables"; fi
if type hegui >/dev/null 2>&1 || type deactivate >/dev/null 2>&1; then echo "leftover functions"; fi
after="$(env | grep -Ev '^(PWD|OLDPWD|_)=' | sort; ` + vars + ` || true)"
if [ "$before" = "$after" ]; then echo "deactivated: the same environment"; else echo "before:"; echo "$before"; echo "after:"; echo "$after"; fi
`
}

func kitScriptFish(dir, app, nosum, hostGo string) string {
	return `set -g NOTEXPORTED kept
command -q go; or echo "before: no go"
set before (env | string match -v -r '^(PWD|OLDPWD|_)=' | sort) (set -S PATH GOPROXY GOFLAGS GOSUMDB NOTEXPORTED)
source '` + dir + `/activate.fish'; or exit 1
go version
echo "GOROOT "(go env GOROOT)
echo "GOPROXY "(go env GOPROXY)
echo "GOSUMDB "(go env GOSUMDB)
test -f "$HEGUI_VULNDB/index/db.json"; and echo "vulndb $GOVULNDB"
cd '` + app + `'
go build -o app.bin .; and echo "built with "(go env GOVERSION)": "(./app.bin)
go mod verify; or exit 1
hegui kit use ` + kitOtherGo + `; or exit 1
go version
echo "GOROOT "(go env GOROOT)
go build -o app.bin .; and echo "built with "(go env GOVERSION)": "(./app.bin)
cd '` + nosum + `'
rm -f go.sum
go mod tidy; or exit 1
cat go.sum
go build -o /dev/null .; and echo "no go.sum: built"
deactivate
set -n | string match -q -r '^_hegui_kit'; and echo "leftover variables"
functions -q hegui deactivate; and echo "leftover functions"
set after (env | string match -v -r '^(PWD|OLDPWD|_)=' | sort) (set -S PATH GOPROXY GOFLAGS GOSUMDB NOTEXPORTED)
if test "$before" = "$after"
    echo "deactivated: the same environment"
else
    printf '%s\n' before: $before after: $after
end
`
}

// copyDir copies the regular files of src (one level) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
