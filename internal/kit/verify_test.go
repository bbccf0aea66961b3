package kit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"errors"
	"io"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/trust"
	"hegui.dev/hegui/keys"
)

// testKey makes an SM2 key for a test (a fixture, never a secret).
func testKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := keys.Generate(keys.SM2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// smallKit packs a kit of a few files (no toolchain, one module's cache
// files) signed by key, without the go command.
func smallKit(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	return smallKitCompressed(t, key, Gzip)
}

// zipSize is about the size of smallKit's module zip: larger than a read
// buffer, so that files stream in several pieces. Fuzz targets shrink it,
// since every execution hashes it with instrumented code.
var zipSize = 1_000_000

// smallModuleData is the content of the one data file of smallKit's
// module: incompressible, so that the zip is about zipSize.
func smallModuleData() []byte {
	data := make([]byte, zipSize)
	chacha8 := mathrand.NewChaCha8([32]byte{'k', 'i', 't'})
	chacha8.Read(data)
	return data
}

// moduleZip makes the module zip of example.com/m@v1.0.0 with x/mod/zip,
// as a proxy serves it.
func moduleZip(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := modzip.CreateFromDir(&buf, module.Version{Path: "example.com/m", Version: "v1.0.0"}, dir); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func smallKitCompressed(t testing.TB, key crypto.Signer, c Compression) []byte {
	t.Helper()
	return smallKitWithZip(t, key, c, moduleZip(t, map[string][]byte{"go.mod": []byte("module example.com/m\n"), "data.bin": smallModuleData()}))
}

// smallKitWithZip packs smallKit with zip as its module's zip.
func smallKitWithZip(t testing.TB, key crypto.Signer, c Compression, zip []byte) []byte {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		DownloadDir + "/example.com/m/@v/v1.0.0.mod":  "module example.com/m\n",
		DownloadDir + "/example.com/m/@v/v1.0.0.info": `{"Version":"v1.0.0"}`,
		DownloadDir + "/example.com/m/@v/v1.0.0.zip":  string(zip),
		SumDBConfigDir + "/sum.golang.org/latest":     "go.sum database tree\n1\nhash\n",
	}
	var paths []string
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	m := &Manifest{
		Schema: Schema, Signed: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC),
		Modules: []Module{{Path: "example.com/m", Version: "v1.0.0", Zip: true}},
		Env:     map[string]string{"GOSUMDB": "sum.golang.org"},
	}
	var buf bytes.Buffer
	if err := pack(t.Context(), &buf, c, root, paths, m, []Signer{{Key: key, Role: "primary"}}, func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entry is one file of a kit archive, for tests that rewrite kits.
type entry struct {
	hdr  tar.Header
	data []byte
}

func readEntries(t testing.TB, kit []byte) []entry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(kit))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []entry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{*hdr, data})
	}
}

func writeEntries(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rewrite(t testing.TB, kit []byte, fn func([]entry) []entry) []byte {
	t.Helper()
	return writeEntries(t, fn(readEntries(t, kit)))
}

func anchorsFor(key crypto.Signer) trust.Anchors {
	return trust.Anchors{Keys: []crypto.PublicKey{key.Public()}}
}

func TestVerifyGoodKit(t *testing.T) {
	key := testKey(t)
	for _, c := range []Compression{Zstd, Gzip} {
		kit := smallKitCompressed(t, key, c)
		v, err := Verify(t.Context(), bytes.NewReader(kit), anchorsFor(key), nil)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if v.Files != 5 || !strings.Contains(v.Trust, "given with --pub") {
			t.Fatalf("%s: Verify = %d files, trust %q", c, v.Files, v.Trust)
		}
		for _, n := range []int{10, len(kit) / 2, len(kit) - 4} {
			if _, err := Verify(t.Context(), bytes.NewReader(kit[:n]), anchorsFor(key), nil); err == nil {
				t.Fatalf("%s: a kit cut to %d of %d bytes verified", c, n, len(kit))
			}
		}
	}
	if _, err := Verify(t.Context(), strings.NewReader("PK\x03\x04 not a kit"), anchorsFor(key), nil); err == nil || !strings.Contains(err.Error(), "neither zstd nor gzip") {
		t.Fatalf("a zip file: %v", err)
	}
}

// TestVerifyRefusesTampering changes a signed kit in every way a carrier
// could, and expects each change refused with the file named.
func TestVerifyRefusesTampering(t *testing.T) {
	key := testKey(t)
	good := smallKit(t, key)
	zip := DownloadDir + "/example.com/m/@v/v1.0.0.zip"
	mod := DownloadDir + "/example.com/m/@v/v1.0.0.mod"
	for _, tc := range []struct {
		name      string
		change    func([]entry) []entry
		untrusted bool
		want      string
	}{
		{"a byte of a zip flipped", func(es []entry) []entry {
			for i := range es {
				if es[i].hdr.Name == zip {
					es[i].data = bytes.Clone(es[i].data)
					es[i].data[1000] ^= 1
				}
			}
			return es
		}, false, zip + ": SHA-256 differs"},
		{"a file replaced by one of another size", func(es []entry) []entry {
			for i := range es {
				if es[i].hdr.Name == mod {
					es[i].data = []byte("module evil.example/m\n")
				}
			}
			return es
		}, false, mod + ": 22 bytes, the manifest says 21"},
		{"a file added", func(es []entry) []entry {
			return append(es, entry{tar.Header{Name: DownloadDir + "/evil.example/x/@v/v1.0.0.zip", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("x")})
		}, false, "evil.example/x/@v/v1.0.0.zip: not in the manifest"},
		{"a file removed", func(es []entry) []entry {
			var out []entry
			for _, e := range es {
				if e.hdr.Name != mod {
					out = append(out, e)
				}
			}
			return out
		}, false, mod + ": missing from the kit"},
		{"the manifest changed", func(es []entry) []entry {
			es[0].data = bytes.Replace(es[0].data, []byte("example.com/m"), []byte("example.com/n"), 1)
			return es
		}, true, "changed after signing"},
		{"the signature removed", func(es []entry) []entry {
			return append(es[:1:1], es[2:]...)
		}, false, "first files must be manifest.json and manifest.dsse.json"},
		{"the signer's key replaced", func(es []entry) []entry {
			other := testKey(t)
			pem, _ := keys.MarshalPublicKeyPEM(other.Public())
			for i := range es {
				if strings.HasPrefix(es[i].hdr.Name, SignersDir+"/") {
					es[i].data = pem
				}
			}
			return es
		}, true, "the key file was swapped"},
		{"a symbolic link", func(es []entry) []entry {
			return append(es, entry{tar.Header{Name: "gopath/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, nil})
		}, false, "not a regular file"},
		{"a path out of the kit", func(es []entry) []entry {
			return append(es, entry{tar.Header{Name: "../../etc/cron.d/x", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("x")})
		}, false, "not a path inside it"},
		{"a file twice", func(es []entry) []entry {
			return append(es, es[len(es)-1])
		}, false, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := rewrite(t, good, tc.change)
			_, err := Verify(t.Context(), bytes.NewReader(bad), anchorsFor(key), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v; want an error with %q", err, tc.want)
			}
			var ue *UntrustedError
			if errors.As(err, &ue) != tc.untrusted {
				t.Fatalf("untrusted = %v, want %v: %v", !tc.untrusted, tc.untrusted, err)
			}
		})
	}
}

func TestVerifyUntrustedSigner(t *testing.T) {
	key, other := testKey(t), testKey(t)
	_, err := Verify(t.Context(), bytes.NewReader(smallKit(t, key)), anchorsFor(other), nil)
	var ue *UntrustedError
	if !errors.As(err, &ue) {
		t.Fatalf("a kit signed by another key: %v", err)
	}
}

// TestVerifyReadsNoFileBeforeTheSignature checks that a kit signed by an
// untrusted key is refused before any payload file reaches the visitor.
func TestVerifyReadsNoFileBeforeTheSignature(t *testing.T) {
	key, other := testKey(t), testKey(t)
	visited := 0
	_, err := Verify(t.Context(), bytes.NewReader(smallKit(t, key)), anchorsFor(other), func(f format.FileEntry, r io.Reader) error {
		visited++
		return nil
	})
	if err == nil || visited != 0 {
		t.Fatalf("Verify = %v after visiting %d files", err, visited)
	}
}

func TestVerifyCutShort(t *testing.T) {
	key := testKey(t)
	good := smallKit(t, key)
	for _, n := range []int{0, 10, len(good) / 2, len(good) - 10} {
		if _, err := Verify(t.Context(), bytes.NewReader(good[:n]), anchorsFor(key), nil); err == nil {
			t.Fatalf("a kit cut to %d of %d bytes verified", n, len(good))
		}
	}
}

// FuzzVerify feeds Verify arbitrary bytes: an error or a kit, never a
// panic or a hang.
func FuzzVerify(f *testing.F) {
	zipSize = 1000
	key := testKey(f)
	good := smallKit(f, key)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"))
	f.Add(smallKitCompressed(f, key, Zstd))
	f.Add([]byte("\x28\xb5\x2f\xfd\x00\x58"))
	anchors := anchorsFor(key)
	f.Fuzz(func(t *testing.T, data []byte) {
		Verify(t.Context(), bytes.NewReader(data), anchors, func(f format.FileEntry, r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		})
	})
}
