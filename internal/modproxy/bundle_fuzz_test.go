package modproxy_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"testing"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/keys"
)

// FuzzImport: a bundle is carried in from elsewhere; Import never panics on
// one, and a bundle that was not signed by the trusted key stores nothing.
func FuzzImport(f *testing.F) {
	k, err := keys.Generate(keys.SM2, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	var seed bytes.Buffer
	tw := tar.NewWriter(&seed)
	tw.WriteHeader(&tar.Header{Name: modproxy.BundleEnvelopeName, Size: 2, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write([]byte("{}"))
	tw.WriteHeader(&tar.Header{Name: "objects/modules/x/@v/v1.0.0.zip", Size: 1, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	f.Add(seed.Bytes())
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Add([]byte{})
	dir := f.TempDir()
	store, err := modstore.NewDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	p, err := modproxy.New(modproxy.Options{Store: store, Offline: true, TempDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := p.Import(context.Background(), bytes.NewReader(data), []crypto.PublicKey{k.Public()}, nil); err == nil {
			t.Fatal("imported a bundle nobody signed")
		}
		if keys, err := store.ListAll(context.Background(), "modules/"); err != nil || len(keys) != 0 {
			t.Fatalf("a refused bundle stored %q (%v)", keys, err)
		}
	})
}
