package ociimage

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// FuzzFileInLayer: the layers hegui verify reads out of a delivery's image
// (gzip or not, a tar or not) give an answer or an error, never a panic.
func FuzzFileInLayer(f *testing.F) {
	l, err := layer([]entry{{name: "usr/local/bin/app", data: []byte("binary"), mode: 0o755}}, time.Unix(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	rc, _ := l.Compressed()
	seed, _ := io.ReadAll(rc)
	f.Add(seed)
	rc, _ = l.Uncompressed()
	plain, _ := io.ReadAll(rc)
	f.Add(plain)
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			return
		}
		fileInLayer(l, "usr/local/bin/app")
	})
}
