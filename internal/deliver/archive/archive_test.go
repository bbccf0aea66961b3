package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
)

func TestArchive(t *testing.T) {
	d := deliverytest.New(t)
	deliverytest.AddBinary(t, d, "app", "linux/amd64", []byte("amd64 binary"))

	d.Config.Archive.Format = "none"
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) {
		t.Fatalf("archive.format none: %v, want a skip", err)
	}

	d.Config.Archive.Format = "tar.gz"
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(d.Archive)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(deliverytest.CommitTime) || h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: time %v, owner %d %q: want the commit time and no owner", h.Name, h.ModTime, h.Uid, h.Uname)
		}
		names = append(names, h.Name)
	}
	if len(names) == 0 || names[len(names)-1] != "app_v1.2.3/bin/linux_amd64/app" {
		t.Errorf("entries %v", names)
	}
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(d.Archive)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("two archives of one delivery differ")
	}
}
