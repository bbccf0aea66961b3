package modproxy_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"

	"hegui.dev/hegui/digest"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/modlist"
	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modsign"
	"hegui.dev/hegui/internal/modstore"
)

// TestBundleAcrossAirGap warms a public module and publishes an internal
// one on a connected proxy, exports them, imports the bundle into an
// offline proxy that shares nothing with the first, and builds through it
// with the real go command; then checks that damaged, unsigned, foreign and
// lying bundles store nothing.
func TestBundleAcrossAirGap(t *testing.T) {
	up := upstream(t)
	lg := startLog(t)
	publisherKey := publisher(t)
	transfer := publisher(t)
	trust := modsign.Trust{Publishers: []crypto.PublicKey{publisherKey.Public()}, Log: lg.Keys}

	// The connected side.
	aDir := t.TempDir()
	a := startProxy(t, aDir, modproxy.Options{Upstream: up, Internal: "corp.example", Internals: &modsign.StoreVerifier{Trust: trust}})
	lib := writeModule(t, map[string]string{"go.mod": "module corp.example/auth\n\ngo 1.22\n", "auth.go": authLib})
	if _, err := publish(t, a.Store, lg, publisherKey, lib, "v1.0.0"); err != nil {
		t.Fatal(err)
	}
	items := []modlist.Item{{Module: "github.com/google/uuid", Version: "v1.6.0"}}
	if s := a.Warm(context.Background(), items, nil); s.Failed != 0 {
		t.Fatalf("warm: %+v", s.Failures)
	}
	export := func(items []modlist.Item, key crypto.Signer) []byte {
		t.Helper()
		var buf bytes.Buffer
		if _, err := a.Export(context.Background(), &buf, items, []crypto.Signer{key}, nil); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	bundle := export(append(items, modlist.Item{Module: "corp.example/auth", Version: "v1.0.0"}), transfer)
	if _, err := a.Export(context.Background(), io.Discard, []modlist.Item{{Module: "golang.org/x/text", Version: "v0.3.0"}}, []crypto.Signer{transfer}, nil); err == nil || !strings.Contains(err.Error(), "warm") {
		t.Errorf("exporting a version that is not stored: %v", err)
	}

	// The air-gapped side: a fresh offline proxy.
	newB := func() *testProxy {
		return startProxy(t, t.TempDir(), modproxy.Options{Offline: true, Internal: "corp.example", Internals: &modsign.StoreVerifier{Trust: trust}})
	}
	empty := func(t *testing.T, p *testProxy) {
		t.Helper()
		for _, prefix := range []string{"modules/", "sumdb/"} {
			if keys, err := p.Store.ListAll(context.Background(), prefix); err != nil || len(keys) != 0 {
				t.Errorf("a refused bundle left %q under %s (%v)", keys, prefix, err)
			}
		}
	}
	refused := func(name string, data []byte, trusted crypto.PublicKey, want string) {
		t.Run(name, func(t *testing.T) {
			b := newB()
			_, err := b.Import(context.Background(), bytes.NewReader(data), []crypto.PublicKey{trusted}, nil)
			t.Logf("refused: %v", err)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v, want an error about %q", err, want)
			}
			empty(t, b)
		})
	}
	refused("untrusted key", bundle, publisher(t).Public(), "not signed by a trusted key")
	refused("flipped byte", flipInEntry(t, bundle, ".zip"), transfer.Public(), "does not match the signed manifest")
	refused("truncated", bundle[:len(bundle)/2], transfer.Public(), "bundle")
	refused("extra entry", appendEntry(t, bundle, "objects/modules/evil/@v/v1.0.0.zip", []byte("x")), transfer.Public(), "not listed")
	refused("garbage", []byte("not a tar at all, not at all"), transfer.Public(), "bundle")

	b := newB()
	sum, err := b.Import(context.Background(), bytes.NewReader(bundle), []crypto.PublicKey{transfer.Public()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Versions != 2 || sum.New+sum.Unused != sum.Objects || sum.New == 0 {
		t.Errorf("import: %+v", sum)
	}
	if again, err := b.Import(context.Background(), bytes.NewReader(bundle), []crypto.PublicKey{transfer.Public()}, nil); err != nil || again.New != 0 {
		t.Errorf("importing again: %+v, %v", again, err)
	}
	app := writeModule(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n\nrequire (\n\tcorp.example/auth v1.0.0\n\tgithub.com/google/uuid v1.6.0\n)\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"corp.example/auth\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(auth.Check(\"ok\"), uuid.Nil) }\n",
	})
	runGo(t, app, goEnv(t, b.URL, "GONOSUMDB=corp.example"), false, "build", "-o", os.DevNull, ".")

	// A signed bundle whose zip is not what the checksum database says:
	// the exporter's store was rewritten, zip and record alike.
	zipKey, _ := modstore.ModuleKey("github.com/google/uuid", "v1.6.0", modstore.Zip)
	rewriteZip(t, a.Store, zipKey)
	refused("lying zip, re-signed", export(items, transfer), transfer.Public(), "checksum database")
}

// flipInEntry flips a byte in the middle of the first tar entry whose name
// ends in suffix.
func flipInEntry(t *testing.T, bundle []byte, suffix string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(bundle))
	offset := int64(0)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no entry ending in %s: %v", suffix, err)
		}
		if strings.HasSuffix(hdr.Name, suffix) {
			// The entry's data starts where the reader is now.
			rest, _ := io.ReadAll(tr)
			offset = int64(len(bundle)) - int64(len(rest)) - remainingAfter(t, bundle, hdr.Name)
			out := bytes.Clone(bundle)
			out[offset+hdr.Size/2] ^= 0x40
			return out
		}
	}
}

// remainingAfter is how many bytes of the tar follow the data of the entry
// named name.
func remainingAfter(t *testing.T, bundle []byte, name string) int64 {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(bundle))
	var total int64
	found := false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if found {
			total += 512 + (hdr.Size+511)/512*512
		}
		if hdr.Name == name {
			found = true
		}
	}
	return total + 1024 // the end-of-archive blocks
}

// appendEntry adds an entry to a bundle, before its end.
func appendEntry(t *testing.T, bundle []byte, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tr := tar.NewReader(bytes.NewReader(bundle))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(hdr)
		io.Copy(tw, tr)
	}
	tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(data)), Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write(data)
	tw.Close()
	return buf.Bytes()
}

// rewriteZip replaces a stored zip with a copy holding one more file and
// rewrites its record to match, as someone with write access to the store
// could.
func rewriteZip(t *testing.T, store modstore.Store, key string) string {
	t.Helper()
	data, err := modstore.ReadAll(context.Background(), store, key, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	recData, err := modstore.ReadAll(context.Background(), store, key+modstore.RecordSuffix, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := modstore.ParseRecord(recData, "github.com/google/uuid", "v1.6.0", modstore.Zip)
	if err != nil {
		t.Fatal(err)
	}
	forged := addZipFile(t, data, "github.com/google/uuid@v1.6.0/evil.go", "package uuid\n")
	file := filepath.Join(t.TempDir(), "forged.zip")
	os.WriteFile(file, forged, 0o644)
	rec.Size, rec.SHA256 = int64(len(forged)), sha256Hex(forged)
	rec.Hash = hashZipFile(t, file)
	newRec, _ := rec.Marshal()
	if err := store.Replace(context.Background(), key, bytes.NewReader(forged)); err != nil {
		t.Fatal(err)
	}
	if err := store.Replace(context.Background(), key+modstore.RecordSuffix, bytes.NewReader(newRec)); err != nil {
		t.Fatal(err)
	}
	return rec.Hash
}

// addZipFile returns a copy of a zip with one more file.
func addZipFile(t *testing.T, data []byte, name, content string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := zw.Create(name)
	io.WriteString(w, content)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func hashZipFile(t *testing.T, file string) string {
	t.Helper()
	h, err := dirhash.HashZip(file, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestBundleLiesSignedByTrustedKey imports bundles the trusted key signed
// but that carry what no check covers: a module file under a key the proxy
// would never write (a case variant), a publication without its module, a
// checksum-database lookup no module needs. The first two are refused,
// the third is left out of the store.
func TestBundleLiesSignedByTrustedKey(t *testing.T) {
	up := upstream(t)
	transfer := publisher(t)
	a := startProxy(t, "", modproxy.Options{Upstream: up})
	items := []modlist.Item{{Module: "github.com/google/uuid", Version: "v1.6.0"}}
	if s := a.Warm(context.Background(), items, nil); s.Failed != 0 {
		t.Fatalf("warm: %+v", s.Failures)
	}
	var buf bytes.Buffer
	if _, err := a.Export(context.Background(), &buf, items, []crypto.Signer{transfer}, nil); err != nil {
		t.Fatal(err)
	}
	modKey, _ := modstore.ModuleKey("github.com/google/uuid", "v1.6.0", modstore.Mod)
	evil := []byte("module github.com/google/uuid\n\nrequire evil.example/backdoor v1.0.0\n")
	for name, c := range map[string]struct {
		add  map[string][]byte
		want string
	}{
		"case variant": {map[string][]byte{strings.Replace(modKey, "google", "Google", 1): evil}, "not the key of a module file"},
		"publication alone": {map[string][]byte{
			"modules/corp.example/x/@v/v1.0.0.sig":  []byte("{}"),
			"modules/corp.example/x/@v/v1.0.0.tlog": []byte("{}"),
		}, "without its module files"},
	} {
		t.Run(name, func(t *testing.T) {
			b := startProxy(t, "", modproxy.Options{Offline: true, Internal: "corp.example"})
			forged := resign(t, buf.Bytes(), transfer, c.add)
			_, err := b.Import(context.Background(), bytes.NewReader(forged), []crypto.PublicKey{transfer.Public()}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want an error about %q", err, c.want)
			}
		})
	}
	t.Run("unused lookup", func(t *testing.T) {
		b := startProxy(t, "", modproxy.Options{Offline: true})
		junk := "sumdb/sum.golang.org/lookup/golang.org/x/text@v0.3.0"
		forged := resign(t, buf.Bytes(), transfer, map[string][]byte{junk: []byte("not a lookup\n")})
		sum, err := b.Import(context.Background(), bytes.NewReader(forged), []crypto.PublicKey{transfer.Public()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if obj, err := b.Store.Open(context.Background(), junk); err == nil {
			obj.Close()
			t.Errorf("an unverified lookup was stored (%+v)", sum)
		}
		if sum.Unused == 0 {
			t.Errorf("summary %+v counts no unused object", sum)
		}
	})
}

// resign adds objects to a bundle and signs its manifest again with key,
// as an exporter holding the trusted key could.
func resign(t *testing.T, bundle []byte, key crypto.Signer, add map[string][]byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(bundle))
	objects := map[string][]byte{}
	var m modproxy.BundleManifest
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if hdr.Name == modproxy.BundleEnvelopeName {
			_, payload, err := envelope.Parse(data, modproxy.BundlePayloadType)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(payload, &m); err != nil {
				t.Fatal(err)
			}
			continue
		}
		objects[strings.TrimPrefix(hdr.Name, "objects/")] = data
	}
	for k, v := range add {
		objects[k] = v
		sm3 := digest.SM3.New()
		sm3.Write(v)
		m.Files = append(m.Files, format.FileEntry{Path: k, Size: int64(len(v)), SHA256: sha256Hex(v), SM3: hex.EncodeToString(sm3.Sum(nil))})
	}
	payload, _ := json.Marshal(m)
	env, err := envelope.Sign(context.Background(), modproxy.BundlePayloadType, payload, key)
	if err != nil {
		t.Fatal(err)
	}
	envData, _ := envelope.Marshal(env)
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tw.WriteHeader(&tar.Header{Name: modproxy.BundleEnvelopeName, Size: int64(len(envData)), Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write(envData)
	for _, f := range m.Files {
		data := objects[f.Path]
		tw.WriteHeader(&tar.Header{Name: "objects/" + f.Path, Size: int64(len(data)), Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	tw.Close()
	return out.Bytes()
}
