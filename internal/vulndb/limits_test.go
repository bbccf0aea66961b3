package vulndb

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hegui.dev/hegui/internal/inputfile"
)

// existingDB imports one dated entry into a new database and returns its
// path and description, for tests that a refused import leaves it alone.
func existingDB(t *testing.T) (string, *Info) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "db")
	src := writeEntries(t, map[string]string{"GO-2026-0001.json": entry("GO-2026-0001", "example.com/m", "2026-01-01T00:00:00Z")})
	if _, err := Import(context.Background(), src, dest, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	return dest, info
}

// checkUntouched fails t unless the database at dest is still want and
// nothing was left beside it.
func checkUntouched(t *testing.T, dest string, want *Info) {
	t.Helper()
	got, err := Open(dest)
	if err != nil || got.Digest != want.Digest {
		t.Errorf("the database was changed by a refused import: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".*"))
	if len(left) > 0 {
		t.Errorf("a refused import left %v beside the database", left)
	}
}

// TestImportRefusesFutureDates: one entry dated 9999 made the database's
// age negative until then, so every age check passed.
func TestImportRefusesFutureDates(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	dest, before := existingDB(t)
	for name, modified := range map[string]string{
		"year 9999":      "9999-12-31T23:59:59Z",
		"two days ahead": "2026-12-07T12:00:01Z",
		"next year":      "2027-01-01T00:00:00Z",
	} {
		t.Run(name, func(t *testing.T) {
			src := writeEntries(t, map[string]string{
				"GO-2026-0001.json": entry("GO-2026-0001", "example.com/m", "2026-01-01T00:00:00Z"),
				"GO-2026-0002.json": entry("GO-2026-0002", "example.com/n", modified),
			})
			_, err := Import(context.Background(), src, dest, ImportOptions{Now: now})
			if err == nil || !strings.Contains(err.Error(), "in the future") || !strings.Contains(err.Error(), "GO-2026-0002.json") {
				t.Fatalf("error %v, want one about GO-2026-0002.json's date in the future", err)
			}
			checkUntouched(t, dest, before)
		})
	}
	// A clock a few hours ahead of ours is not an attack.
	src := writeEntries(t, map[string]string{"GO-2026-0002.json": entry("GO-2026-0002", "example.com/n", "2026-12-06T06:00:00Z")})
	res, err := Import(context.Background(), src, filepath.Join(t.TempDir(), "db"), ImportOptions{Now: now})
	if err != nil || !res.Modified.Equal(time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("an entry dated 18 hours ahead: %v, %v", res, err)
	}
	// Nor may the date given for the database be in the future.
	_, err = Import(context.Background(), src, dest, ImportOptions{Now: now, Modified: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err == nil || !strings.Contains(err.Error(), "in the future") {
		t.Errorf("--modified 9999-01-01: error %v", err)
	}
	checkUntouched(t, dest, before)
}

// TestImportUndatedDatabase: entries without a "modified" time give a
// database of unknown age, not one dated by the import.
func TestImportUndatedDatabase(t *testing.T) {
	src := writeEntries(t, map[string]string{
		"GO-2026-0001.json": entry("GO-2026-0001", "example.com/m", "0001-01-01T00:00:00Z"),
		"GO-2026-0002.json": `{"id":"GO-2026-0002","affected":[{"package":{"name":"example.com/n","ecosystem":"Go"}}]}`,
	})
	dest := filepath.Join(t.TempDir(), "db")
	res, err := Import(context.Background(), src, dest, ImportOptions{Now: importTime})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Undated || res.AgeKnown() {
		t.Errorf("undated %v, age known %v; want an undated database", res.Undated, res.AgeKnown())
	}
	info, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Modified.IsZero() || info.AgeKnown() || info.Age(importTime) < 100*365*24*time.Hour {
		t.Errorf("reopened: modified %v, age %v; want no date and an age above any limit", info.Modified, info.Age(importTime))
	}
	data, _ := json.Marshal(info)
	if strings.Contains(string(data), `"modified"`) {
		t.Errorf("an undated database's description gives a date: %s", data)
	}
	// A date given to the import dates it.
	res, err = Import(context.Background(), src, dest, ImportOptions{Now: importTime, Modified: importTime})
	if err != nil || res.Undated || !res.Modified.Equal(importTime) || res.Age(importTime) != 0 {
		t.Errorf("with a date: %+v, %v", res, err)
	}
}

// bigEntry is a valid OSV entry padded with spaces to size bytes.
func bigEntry(id string, size int) []byte {
	e := []byte(entry(id, "example.com/"+strings.ToLower(id), "2026-01-01T00:00:00Z"))
	return append(e, bytes.Repeat([]byte(" "), size-len(e))...)
}

// TestImportRefusesZipBomb: a .zip of 65 copies of an entry padded to
// just under 4 MiB is 300 KB, and unpacks to 260 MiB. It is refused from
// the sizes it declares, before any of it is unpacked.
func TestImportRefusesZipBomb(t *testing.T) {
	dest, before := existingDB(t)
	data := bigEntry("GO-2026-0002", maxEntrySize-1)
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := range 65 {
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: fmt.Sprintf("osv/%d/GO-2026-0002.json", i), Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(raw.Len()), UncompressedSize64: uint64(len(data)),
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw.Bytes())
	}
	zw.Close()
	src := filepath.Join(t.TempDir(), "bomb.zip")
	os.WriteFile(src, b.Bytes(), 0o644)
	_, err := Import(context.Background(), src, dest, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "unpacks to more than 256 MiB") {
		t.Fatalf("error %v, want the archive refused for what it unpacks to", err)
	}
	checkUntouched(t, dest, before)
}

// TestImportRefusesTarBomb: a file the import skips (not *.json) is
// unpacked all the same, so it counts: 300 MiB of zeros in a .tar.gz of
// 300 KB is refused, not gunzipped to the end.
func TestImportRefusesTarBomb(t *testing.T) {
	dest, before := existingDB(t)
	const size = 300 << 20
	// gzip readers read concatenated members as one stream: the tar
	// header, 300 members of 1 MiB of zeros each, then an entry.
	var b bytes.Buffer
	member := func(data []byte) {
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
	}
	var head bytes.Buffer
	tw := tar.NewWriter(&head)
	tw.WriteHeader(&tar.Header{Name: "README", Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
	tw.Flush()
	member(head.Bytes())
	zeros := make([]byte, 1<<20)
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	zw.Write(zeros)
	zw.Close()
	for range size >> 20 {
		b.Write(one.Bytes())
	}
	var tail bytes.Buffer
	tw = tar.NewWriter(&tail)
	e := []byte(entry("GO-2026-0002", "example.com/n", "2026-01-01T00:00:00Z"))
	tw.WriteHeader(&tar.Header{Name: "GO-2026-0002.json", Mode: 0o644, Size: int64(len(e)), Typeflag: tar.TypeReg})
	tw.Write(e)
	tw.Close()
	member(tail.Bytes())
	src := filepath.Join(t.TempDir(), "bomb.tar.gz")
	os.WriteFile(src, b.Bytes(), 0o644)
	if b.Len() > 1<<20 {
		t.Fatalf("the bomb is %d bytes", b.Len())
	}

	_, err := Import(context.Background(), src, dest, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "unpacks to more than 256 MiB") {
		t.Fatalf("error %v, want the archive refused for what it unpacks to", err)
	}
	checkUntouched(t, dest, before)
}

func TestImportLimits(t *testing.T) {
	dest, before := existingDB(t)
	small := &importLimits{entry: 1 << 10, archive: 64 << 10, unpacked: 8 << 10, files: 4}
	entries := map[string]string{}
	for i := range 5 {
		id := fmt.Sprintf("GO-2026-%04d", i+1)
		entries[id+".json"] = entry(id, "example.com/m", "2026-01-01T00:00:00Z")
	}
	big := map[string]string{"GO-2026-0001.json": string(bigEntry("GO-2026-0001", 2<<10))}
	many := map[string]string{}
	for i := range 10 {
		id := fmt.Sprintf("GO-2026-%04d", i+1)
		many[id+".json"] = string(bigEntry(id, 1000))
	}
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"too many files":    {entries, "holds more than 4 files"},
		"entry too large":   {big, "larger than 1024 bytes, the most hegui reads for one OSV entry"},
		"too much in total": {many, "unpacks to more than 8192 bytes"},
	} {
		for _, kind := range []string{"dir", "zip", "tar.gz"} {
			t.Run(name+" "+kind, func(t *testing.T) {
				lim := *small
				if name == "too much in total" {
					lim.files = 100
				}
				src := writeSource(t, kind, tc.files)
				_, err := Import(context.Background(), src, dest, ImportOptions{limits: &lim})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				checkUntouched(t, dest, before)
			})
		}
	}
	src := writeSource(t, "zip", entries)
	lim := *small
	lim.archive = 100
	if _, err := Import(context.Background(), src, dest, ImportOptions{limits: &lim}); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Errorf("archive over the limit: error %v", err)
	}
}

// writeSource writes files as a directory, a .zip or a .tar.gz.
func writeSource(t *testing.T, kind string, files map[string]string) string {
	t.Helper()
	if kind == "dir" {
		return writeEntries(t, files)
	}
	var b bytes.Buffer
	switch kind {
	case "zip":
		zw := zip.NewWriter(&b)
		for name, body := range files {
			w, _ := zw.Create("osv/" + name)
			w.Write([]byte(body))
		}
		zw.Close()
	case "tar.gz":
		gz := gzip.NewWriter(&b)
		tw := tar.NewWriter(gz)
		for name, body := range files {
			tw.WriteHeader(&tar.Header{Name: "osv/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
			tw.Write([]byte(body))
		}
		tw.Close()
		gz.Close()
	}
	p := filepath.Join(t.TempDir(), "osv."+kind)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// within fails t if f does not return within a few seconds: reading a
// FIFO with no writer would block for ever.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s blocked", what)
		return nil
	}
}

func TestImportRefusesFIFOs(t *testing.T) {
	dest, before := existingDB(t)
	dir := t.TempDir()
	for _, name := range []string{"osv.zip", "osv.tar.gz"} {
		fifo := filepath.Join(dir, name)
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		err := within(t, "import of a FIFO "+name, func() error {
			_, err := Import(context.Background(), fifo, dest, ImportOptions{})
			return err
		})
		var nr *inputfile.NotRegularError
		if !errors.As(err, &nr) {
			t.Errorf("%s: error %v, want a NotRegularError", name, err)
		}
	}
	// A FIFO named like an entry in a directory of entries.
	src := writeEntries(t, map[string]string{"GO-2026-0001.json": entry("GO-2026-0001", "example.com/m", "2026-01-01T00:00:00Z")})
	if err := syscall.Mkfifo(filepath.Join(src, "GO-2026-0002.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := within(t, "import of a directory with a FIFO", func() error {
		_, err := Import(context.Background(), src, dest, ImportOptions{})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "GO-2026-0002.json") {
		t.Errorf("directory with a FIFO: error %v", err)
	}
	checkUntouched(t, dest, before)

	// The database's own files are read with the same care.
	os.Remove(filepath.Join(dest, dbFile))
	if err := syscall.Mkfifo(filepath.Join(dest, dbFile), 0o644); err != nil {
		t.Fatal(err)
	}
	err = within(t, "Open of a database whose db.json is a FIFO", func() error {
		_, err := Open(dest)
		return err
	})
	var nr *inputfile.NotRegularError
	if !errors.As(err, &nr) {
		t.Errorf("db.json a FIFO: error %v, want a NotRegularError", err)
	}
}

func TestImportIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, src := range []string{goVulnDB, writeSource(t, "zip", map[string]string{"GO-2026-0001.json": entry("GO-2026-0001", "m", "")})} {
		if _, err := Import(ctx, src, filepath.Join(t.TempDir(), "db"), ImportOptions{}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: error %v, want context.Canceled", src, err)
		}
	}
}

// TestUpdateRefusesFutureDates: a mirror is held to the same dates as an
// import.
func TestUpdateRefusesFutureDates(t *testing.T) {
	local, before := existingDB(t)
	future, _ := json.Marshal(dbMeta{Modified: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)})
	newer, _ := json.Marshal(dbMeta{Modified: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	for name, handler := range map[string]http.HandlerFunc{
		"database dated 9999": func(w http.ResponseWriter, r *http.Request) { w.Write(future) },
		"entry dated 9999": func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.Contains(r.URL.Path, "db.json"):
				w.Write(newer)
			case strings.Contains(r.URL.Path, "modules.json"):
				w.Write([]byte(`[{"path":"m","vulns":[{"id":"GO-2026-0009"}]}]`))
			default:
				w.Write([]byte(entry("GO-2026-0009", "m", "9999-01-01T00:00:00Z")))
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			_, err := Update(context.Background(), srv.URL, local, UpdateOptions{Now: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)})
			if err == nil || !strings.Contains(err.Error(), "in the future") {
				t.Fatalf("error %v, want one about a date in the future", err)
			}
			checkUntouched(t, local, before)
		})
	}
}
