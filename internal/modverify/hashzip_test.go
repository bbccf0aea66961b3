package modverify

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// moduleZip writes a module zip made by x/mod/zip from a small tree with a
// compressible file, and returns its path.
func moduleZip(t *testing.T) string {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":      "module example.com/m\n\ngo 1.22\n",
		"m.go":        "package m\n\n// " + strings.Repeat("compressible text ", 4000) + "\n",
		"sub/x/x.go":  "package x\n",
		"testdata/tx": strings.Repeat("\x00\x01", 1000),
	}
	for name, body := range files {
		p := filepath.Join(dir, "src", filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := modzip.CreateFromDir(&buf, module.Version{Path: "example.com/m", Version: "v1.0.0"}, filepath.Join(dir, "src")); err != nil {
		t.Fatal(err)
	}
	z := filepath.Join(dir, "m.zip")
	if err := os.WriteFile(z, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return z
}

// TestHashZip: HashZip agrees with dirhash.HashZip on a module zip and on
// the module zips of this machine's module cache, and both refuse a zip
// whose compressed bytes were changed (the CRC-32 no longer matches).
func TestHashZip(t *testing.T) {
	zips := []string{moduleZip(t)}
	if cache := os.Getenv("GOMODCACHE"); cache != "" {
		found, _ := filepath.Glob(filepath.Join(cache, "cache", "download", "*", "*", "@v", "*.zip"))
		zips = append(zips, found[:min(len(found), 40)]...)
	}
	for _, z := range zips {
		want, err := dirhash.HashZip(z, dirhash.Hash1)
		if err != nil {
			continue
		}
		if got, err := HashZip(z); err != nil || got != want {
			t.Errorf("%s: HashZip = %s, %v; dirhash says %s", z, got, err, want)
		}
	}

	z := zips[0]
	data, _ := os.ReadFile(z)
	i := bytes.Index(data, []byte("m.go")) + 200 // inside m.go's compressed bytes
	data[i] ^= 0x55
	bad := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(bad, data, 0o644)
	if _, err := dirhash.HashZip(bad, dirhash.Hash1); err == nil {
		t.Fatal("the test's changed zip is not refused by dirhash either: change another byte")
	}
	if h, err := HashZip(bad); err == nil {
		t.Errorf("a changed zip hashed: %s", h)
	}
	if _, err := HashZip(filepath.Join(t.TempDir(), "none.zip")); err == nil {
		t.Error("a missing zip hashed")
	}
}

// BenchmarkHashZip hashes the largest module zip of the module cache (set
// HEGUI_BENCH_ZIP to choose one) with dirhash.HashZip and with HashZip.
func BenchmarkHashZip(b *testing.B) {
	z := os.Getenv("HEGUI_BENCH_ZIP")
	if z == "" {
		b.Skip("set HEGUI_BENCH_ZIP to a module zip")
	}
	info, err := os.Stat(z)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("dirhash", func(b *testing.B) {
		b.SetBytes(info.Size())
		for b.Loop() {
			if _, err := dirhash.HashZip(z, dirhash.Hash1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(info.Size())
		for b.Loop() {
			if _, err := HashZip(z); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// rawZip writes a zip with the given files in order (names may repeat:
// HashZip takes any zip, not only those x/mod/zip would accept).
func rawZip(t *testing.T, files [][2]string) string {
	z := filepath.Join(t.TempDir(), "raw.zip")
	if err := os.WriteFile(z, zipOf(t, files), 0o644); err != nil {
		t.Fatal(err)
	}
	return z
}

// zipOf makes a zip of the files (name, content), deflated, in order.
func zipOf(tb testing.TB, files [][2]string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate})
		if err != nil {
			tb.Fatal(err)
		}
		fw.Write([]byte(f[1]))
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestHashZipAhead: inflating ahead of dirhash.Hash1 gives its hash, with
// one CPU or several, on a zip of many files in no order, files larger
// than aheadLimit (opened as Hash1 reads them), more than aheadBudget in
// all (the inflaters wait for Hash1), an empty file and a name given
// twice; and a damaged file among those inflated ahead fails the hash.
func TestHashZipAhead(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var files [][2]string
	for i := range 300 {
		n := rng.IntN(64 << 10)
		if i%50 == 7 {
			n = aheadLimit + 1 + rng.IntN(1<<20)
		}
		body := make([]byte, n)
		for j := range body {
			body[j] = "abcdefgh\n"[rng.IntN(9)]
		}
		files = append(files, [2]string{fmt.Sprintf("m@v1.0.0/d%d/f%03d.go", rng.IntN(5), rng.IntN(1000)), string(body)})
	}
	files = append(files, [2]string{"m@v1.0.0/empty", ""}, [2]string{"m@v1.0.0/twice", "first"}, [2]string{"m@v1.0.0/twice", "second"})
	z := rawZip(t, files)
	want, err := dirhash.HashZip(z, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	defaultBudget := aheadBudget
	defer func() { aheadBudget = defaultBudget }()
	// 64 KiB: the inflaters wait for Hash1, and files between the budget
	// and aheadLimit are opened as Hash1 reads them.
	for _, budget := range []int64{defaultBudget, 64 << 10} {
		aheadBudget = budget
		for _, procs := range []int{1, 2, 8} {
			old := runtime.GOMAXPROCS(procs)
			got, err := HashZip(z)
			runtime.GOMAXPROCS(old)
			if err != nil || got != want {
				t.Errorf("budget %d, GOMAXPROCS=%d: HashZip = %s, %v; dirhash says %s", budget, procs, got, err, want)
			}
		}
	}
	aheadBudget = defaultBudget

	// Change a byte in the middle of the zip (in a small file's deflated
	// bytes, most likely): the CRC-32 or the inflation fails.
	data, _ := os.ReadFile(z)
	for _, at := range []int{len(data) / 3, len(data) / 2} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x55
		p := filepath.Join(t.TempDir(), "bad.zip")
		os.WriteFile(p, bad, 0o644)
		dh, derr := dirhash.HashZip(p, dirhash.Hash1)
		if h, err := HashZip(p); (err == nil) != (derr == nil) || h != dh {
			t.Errorf("byte %d changed: HashZip = %s, %v; dirhash = %s, %v", at, h, err, dh, derr)
		} else if derr == nil {
			t.Errorf("byte %d changed, and both hashed it: the test should change another byte", at)
		}
	}
}

// TestHashZipDeclaredSize: a file that inflates to more, or less, than
// its header declares fails, as it does in dirhash (archive/zip holds it
// to the size, which bounds what is inflated ahead).
func TestHashZipDeclaredSize(t *testing.T) {
	for _, declared := range []uint64{10, 200000} {
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		for _, name := range []string{"a", "b"} {
			body := strings.Repeat("x", 100000)
			fw, err := w.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(body)), CompressedSize64: uint64(len(body)), UncompressedSize64: declared})
			if err != nil {
				t.Fatal(err)
			}
			fw.Write([]byte(body))
		}
		w.Close()
		z := filepath.Join(t.TempDir(), "lies.zip")
		os.WriteFile(z, buf.Bytes(), 0o644)
		if _, err := dirhash.HashZip(z, dirhash.Hash1); err == nil {
			t.Fatalf("declared %d: dirhash hashes the test's zip: make it lie otherwise", declared)
		}
		if h, err := HashZip(z); err == nil {
			t.Errorf("declared %d for 100000 bytes, and hashed: %s", declared, h)
		}
	}
}
