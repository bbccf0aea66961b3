// Package archive is the optional stage that writes the whole delivery as
// one reproducible tar.gz: entries sorted, owned by root, with fixed modes
// and the commit time as their modification time, and no timestamp in the
// gzip header, so the same delivery always gives the same archive bytes.
package archive

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"hegui.dev/hegui/internal/deliver/delivery"
)

// Stage writes the archive beside the delivery directory.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "archive" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	if d.Config.Archive.Format != "tar.gz" {
		return delivery.Skip("archive.format is " + d.Config.Archive.Format + " (tar.gz writes one)")
	}
	out := d.Dir + ".tar.gz"
	if err := Write(ctx, d.Dir, filepath.Base(d.FinalDir), d.Version.CommitTime, out); err != nil {
		return err
	}
	d.Archive = out
	d.Log.Stepf("%s.tar.gz", filepath.Base(d.FinalDir))
	return nil
}

// Write archives dir as top/... into out.
func Write(ctx context.Context, dir, top string, mtime time.Time, out string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil && rel != "." {
			paths = append(paths, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	gz, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			f.Close()
			return err
		}
		if err := addEntry(tw, filepath.Join(dir, filepath.FromSlash(p)), path.Join(top, p), mtime); err != nil {
			f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	if err := gz.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func addEntry(tw *tar.Writer, file, name string, mtime time.Time) error {
	fi, err := os.Lstat(file)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: name, ModTime: mtime.UTC(), Format: tar.FormatPAX, Uid: 0, Gid: 0}
	switch {
	case fi.IsDir():
		hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, name+"/", 0o755
		return tw.WriteHeader(hdr)
	case fi.Mode().IsRegular():
		hdr.Typeflag, hdr.Size, hdr.Mode = tar.TypeReg, fi.Size(), 0o644
		if fi.Mode()&0o111 != 0 {
			hdr.Mode = 0o755
		}
	default:
		return &fs.PathError{Op: "archive", Path: file, Err: fs.ErrInvalid}
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(tw, in)
	return err
}
