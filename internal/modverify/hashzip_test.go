package modverify

import (
	"bytes"
	"os"
	"path/filepath"
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
