package kit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Compression is how a kit's tar stream is compressed.
type Compression string

// The compressions a kit may have. Zstandard is the default: on restic's
// kit (700 MB of toolchain, modules and build cache) it decompresses in
// 1.5 s where gzip takes 5 s, and install reads a kit twice.
const (
	Zstd Compression = "zstd"
	Gzip Compression = "gzip"
)

// CompressionFor picks the compression from a kit file's name:
// .tar.zst or .tzst for zstd, .tar.gz or .tgz for gzip.
func CompressionFor(name string) (Compression, error) {
	switch {
	case strings.HasSuffix(name, ".tar.zst"), strings.HasSuffix(name, ".tzst"):
		return Zstd, nil
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return Gzip, nil
	}
	return "", fmt.Errorf("%s: name a kit FILE.tar.zst (Zstandard, the faster to install) or FILE.tar.gz (gzip)", name)
}

// compressor wraps w in the compression's writer.
func compressor(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case Zstd, "":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

// maxZstdWindow bounds the memory a hostile zstd frame can ask the
// decoder for; hegui's own kits use a window of a few MiB.
const maxZstdWindow = 64 << 20

// decompressor reads a kit's tar stream from r, gzip or zstd, told apart
// by their magic numbers. close releases the decoder.
func decompressor(r io.Reader) (tar io.Reader, close func(), err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, notAKit(err)
		}
		return gz, func() { gz.Close() }, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, nil, notAKit(err)
		}
		return zr, zr.Close, nil
	}
	return nil, nil, notAKit(fmt.Errorf("it is neither zstd nor gzip"))
}

func notAKit(err error) error {
	return fmt.Errorf("not a kit (a tar file compressed with zstd or gzip): %v", err)
}
