package ociimage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"hegui.dev/hegui/internal/peertest"
)

var (
	helloOnce sync.Once
	helloDir  string
	helloErr  error
)

// hello builds testdata/hello for linux/amd64 and linux/arm64 once.
func hello(t *testing.T) map[string]string {
	t.Helper()
	helloOnce.Do(func() {
		helloDir, helloErr = os.MkdirTemp("", "hegui-ociimage")
		for _, arch := range []string{"amd64", "arm64"} {
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", filepath.Join(helloDir, arch, "hello"), "./testdata/hello")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
			if out, err := cmd.CombinedOutput(); err != nil {
				helloErr = &exec.ExitError{Stderr: out}
				return
			}
		}
	})
	if helloErr != nil {
		t.Fatalf("building hello: %v", helloErr)
	}
	return map[string]string{"amd64": filepath.Join(helloDir, "amd64", "hello"), "arm64": filepath.Join(helloDir, "arm64", "hello")}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helloDir != "" {
		os.RemoveAll(helloDir)
	}
	os.Exit(code)
}

// fixture is a delivery's worth of files for an image: two binaries, an
// SBOM each, the provenance.
type fixture struct {
	dir   string
	opts  Options
	files map[string]string // delivery path -> SHA-256
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	bins := hello(t)
	f := &fixture{dir: t.TempDir(), files: map[string]string{}}
	write := func(rel string, data []byte) string {
		p := filepath.Join(f.dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f.files[rel] = sha256Hex(data)
		return p
	}
	f.opts = Options{
		Name: "hello", Version: "v1.2.3", Created: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
		Source: "https://git.example.com/hello.git", Revision: "0123456789abcdef0123456789abcdef01234567",
		CACerts: []byte("-----BEGIN CERTIFICATE-----\n(a test bundle)\n-----END CERTIFICATE-----\n"),
		Ports:   []string{"8080/tcp"},
	}
	prov := write("provenance.intoto.jsonl", []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`+"\n"))
	for _, arch := range []string{"amd64", "arm64"} {
		data, err := os.ReadFile(bins[arch])
		if err != nil {
			t.Fatal(err)
		}
		bin := write("bin/linux_"+arch+"/hello", data)
		spdx := write("sbom/hello_linux_"+arch+".spdx.json", []byte(`{"spdxVersion":"SPDX-2.3","name":"hello `+arch+`"}`))
		f.opts.Platforms = append(f.opts.Platforms, Platform{OS: "linux", Arch: arch, Binary: bin, Attach: []Attachment{
			{Path: "sbom/hello_linux_" + arch + ".spdx.json", File: spdx, ArtifactType: ArtifactSPDX},
			{Path: "provenance.intoto.jsonl", File: prov, ArtifactType: ArtifactProvenance},
		}})
	}
	return f
}

// write writes the image into the fixture's image/ and records its files.
func (f *fixture) write(t *testing.T) (*Result, string) {
	t.Helper()
	dir := filepath.Join(f.dir, "image")
	res, err := Write(dir, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, dir
}

func TestWriteVerify(t *testing.T) {
	f := newFixture(t)
	res, dir := f.write(t)
	c, err := Verify(dir, Expect{Version: "v1.2.3", Files: f.files})
	if err != nil {
		t.Fatal(err)
	}
	if c.Index != res.Index || strings.Join(c.Platforms, " ") != "linux/amd64 linux/arm64" || c.Attached != 4 || c.User != "65532:65532" {
		t.Fatalf("%+v, result %+v", c, res)
	}
	// The same input gives the same bytes: every file of the layout.
	again := filepath.Join(t.TempDir(), "image")
	res2, err := Write(again, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Index != res.Index {
		t.Fatalf("index %s, then %s", res.Index, res2.Index)
	}
	if a, b := tree(t, dir), tree(t, again); a != b {
		t.Fatalf("two writes differ:\n%s\n%s", a, b)
	}
}

// tree lists a directory's files with their SHA-256.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		lines = append(lines, rel+" "+sha256Hex(data))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t)
	_, dir := f.write(t)
	for name, tc := range map[string]struct {
		change func(t *testing.T, files map[string]string, dir string)
		want   string
	}{
		"another binary": {func(t *testing.T, files map[string]string, dir string) {
			files["bin/linux_arm64/hello"] = strings.Repeat("0", 64)
		}, "linux/arm64 image: its entry point /usr/local/bin/hello is not the delivery's binary"},
		"a platform more": {func(t *testing.T, files map[string]string, dir string) {
			files["bin/linux_loong64/hello"] = strings.Repeat("0", 64)
		}, "no image for linux/loong64"},
		"another SBOM": {func(t *testing.T, files map[string]string, dir string) {
			files["sbom/hello_linux_amd64.spdx.json"] = strings.Repeat("0", 64)
		}, "its content is not the delivery's sbom/hello_linux_amd64.spdx.json"},
		"another version": {nil, `names no image index "v9"`},
		"a changed blob": {func(t *testing.T, files map[string]string, dir string) {
			blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
			for _, b := range blobs {
				if fi, _ := os.Stat(b); fi.Size() > 100<<10 { // a binary's layer
					data, _ := os.ReadFile(b)
					data[len(data)/2] ^= 1
					os.WriteFile(b, data, 0o644)
					return
				}
			}
			t.Fatal("no layer blob")
		}, "validating layers: gzip: invalid checksum"},
	} {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range f.files {
				files[k] = v
			}
			copied := filepath.Join(t.TempDir(), "image")
			if err := os.CopyFS(copied, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			version := "v1.2.3"
			if tc.change != nil {
				tc.change(t, files, copied)
			} else {
				version = "v9"
			}
			_, err := Verify(copied, Expect{Version: version, Files: files})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSkopeoUmoci reads the layout with the tools an operator has:
// skopeo inspects the index and each platform's image and copies them;
// umoci unpacks one into a root file system that holds exactly the
// binary, the CA bundle and the passwd file, and the binary runs.
func TestSkopeoUmoci(t *testing.T) {
	peertest.Require(t, "skopeo")
	peertest.Require(t, "umoci")
	f := newFixture(t)
	res, dir := f.write(t)
	work := t.TempDir()
	raw := peertest.Run(t, work, "skopeo", "inspect", "--raw", "oci:"+dir+":v1.2.3")
	var idx struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			Digest   string                        `json:"digest"`
			Platform struct{ Architecture string } `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(raw), &idx); err != nil || idx.MediaType != "application/vnd.oci.image.index.v1+json" || len(idx.Manifests) != 2 {
		t.Fatalf("skopeo inspect --raw: %v\n%s", err, raw)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		out := peertest.Run(t, work, "skopeo", "inspect", "--override-os", "linux", "--override-arch", arch, "oci:"+dir+":v1.2.3")
		var info struct {
			Digest       string
			Layers       []string
			Architecture string
			Os           string
			Labels       map[string]string
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatal(err)
		}
		// skopeo names the reference's digest: the index's.
		if info.Digest != res.Index || len(info.Layers) != 2 || info.Architecture != arch || info.Os != "linux" || info.Labels[AnnotationRevision] != f.opts.Revision {
			t.Fatalf("skopeo inspect %s: %s", arch, out)
		}
	}
	peertest.Run(t, work, "skopeo", "copy", "--all", "oci:"+dir+":v1.2.3", "oci:"+filepath.Join(work, "copy")+":v1.2.3")

	bundle := filepath.Join(work, "bundle")
	peertest.Run(t, work, "umoci", "unpack", "--image", dir+":v1.2.3-linux-"+runtime.GOARCH, bundle)
	rootfs := filepath.Join(bundle, "rootfs")
	var files []string
	filepath.WalkDir(rootfs, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(rootfs, p)
			files = append(files, rel)
		}
		return err
	})
	sort.Strings(files)
	if got := strings.Join(files, " "); got != "etc/passwd etc/ssl/certs/ca-certificates.crt usr/local/bin/hello" {
		t.Fatalf("the unpacked root holds %s", got)
	}
	passwd, _ := os.ReadFile(filepath.Join(rootfs, "etc", "passwd"))
	if !strings.Contains(string(passwd), "nonroot:x:65532:65532:") {
		t.Fatalf("passwd: %s", passwd)
	}
	var spec struct {
		Process struct {
			User struct{ UID, GID int }
			Args []string
		}
	}
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil || spec.Process.User.UID != 65532 || spec.Process.User.GID != 65532 || spec.Process.Args[0] != "/usr/local/bin/hello" {
		t.Fatalf("runtime spec: %v %s", err, data)
	}
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		out, err := exec.Command(filepath.Join(rootfs, "usr", "local", "bin", "hello")).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "hello from") {
			t.Fatalf("the unpacked binary: %v %s", err, out)
		}
	}
}

// sha256Hex is the SHA-256 of data in hex.
func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
