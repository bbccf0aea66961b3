package kit

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/emmansun/gmsm/sm3"

	"hegui.dev/hegui/internal/ctxio"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/trust"
)

// Verified is a kit whose signatures and files hold.
type Verified struct {
	Manifest *Manifest
	// Trust says who signed and why they are trusted.
	Trust string
	Files int
	Bytes int64
	// ManifestData and EnvelopeData are manifest.json and its signatures,
	// as read.
	ManifestData, EnvelopeData []byte
}

// FileError is a kit whose files are not those its manifest lists. Each
// problem names its file.
type FileError struct {
	Problems []string
}

func (e *FileError) Error() string {
	const shown = 20
	p := e.Problems
	more := ""
	if len(p) > shown {
		more = fmt.Sprintf("\n  ... and %d more", len(p)-shown)
		p = p[:shown]
	}
	return fmt.Sprintf("%d file(s) of the kit differ from its signed manifest:\n  %s%s", len(e.Problems), strings.Join(p, "\n  "), more)
}

// UntrustedError is a kit whose manifest is not signed by a trusted key,
// or not signed at all: nothing after the signature was read.
type UntrustedError struct{ Err error }

func (e *UntrustedError) Error() string { return "the kit's signature does not hold: " + e.Err.Error() }
func (e *UntrustedError) Unwrap() error { return e.Err }

// Visit receives each payload file of a kit as it is read, after the
// signatures were checked; content must be read to its end. The file is
// only known good when the read finishes without error.
type Visit func(f format.FileEntry, content io.Reader) error

// Verify reads a kit and checks it whole, offline: the manifest's
// signatures against the anchors (before any other file is read), then
// every file against the manifest (size, SHA-256 and SM3), nothing missing
// and nothing added. Every file that differs is named. visit, if not nil,
// sees each file as it is read (Install writes them).
func Verify(ctx context.Context, r io.Reader, anchors trust.Anchors, visit Visit) (*Verified, error) {
	return verify(ctx, r, anchors, readOptions{visit: visit})
}

// readOptions tune a reading of a kit.
type readOptions struct {
	visit Visit
	// again is a second reading of a kit that verified: the files need
	// only be the same bytes, which SHA-256 alone shows (SM3 is the slow
	// one).
	again bool
	// checked, if set, is told of each payload file that was read whole
	// and matched the manifest.
	checked func(format.FileEntry)
}

func verify(ctx context.Context, r io.Reader, anchors trust.Anchors, o readOptions) (*Verified, error) {
	visit := o.visit
	if anchors.Empty() {
		return nil, errors.New("nothing to verify against: give a trust root (--trust-root) or a public key (--pub)")
	}
	stream, closeStream, err := decompressor(r)
	if err != nil {
		return nil, err
	}
	defer closeStream()
	// A compressed stream can expand without bound (a few kilobytes of
	// zstd are gigabytes of zeros): what is read is bounded by what the
	// manifest lists, once it is known.
	bounded := &boundedReader{r: stream, left: 2*maxManifestSize + entryOverhead}
	tr := tar.NewReader(bounded)
	manifestData, err := readEntry(tr, ManifestFile, maxManifestSize)
	if err != nil {
		return nil, err
	}
	envData, err := readEntry(tr, EnvelopeFile, maxManifestSize)
	if err != nil {
		return nil, err
	}
	env, payload, err := envelope.Parse(envData, PayloadType)
	if err != nil {
		return nil, &UntrustedError{fmt.Errorf("%s: %w", EnvelopeFile, err)}
	}
	if !bytes.Equal(payload, manifestData) {
		return nil, &UntrustedError{fmt.Errorf("%s differs from the document signed in %s: it was changed after signing", ManifestFile, EnvelopeFile)}
	}
	m, err := ParseManifest(manifestData)
	if err != nil {
		return nil, &UntrustedError{fmt.Errorf("%s: %w", ManifestFile, err)}
	}
	bounded.left = maxTrailer
	for _, f := range m.Files {
		bounded.left += f.Size + entryOverhead
	}
	v := &verifier{ctx: ctx, m: m, entries: map[string]format.FileEntry{}, seen: map[string]bool{}, o: o}
	for _, f := range m.Files {
		v.entries[f.Path] = f
	}

	// The signers' files come first; the signatures are checked before
	// any other file is read.
	signerFiles := map[string][]byte{}
	hdr, err := v.next(tr)
	for err == nil && strings.HasPrefix(hdr.Name, SignersDir+"/") {
		var data []byte
		if data, err = v.readSmall(tr, hdr); err == nil {
			signerFiles[hdr.Name] = data
			hdr, err = v.next(tr)
		}
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	res, terr := trust.Check(ctx, anchors, trust.Signed{
		Envelope: env, Signers: m.Signers, Time: m.Signed,
		Read: func(_ context.Context, p string) ([]byte, error) {
			data, ok := signerFiles[p]
			if !ok {
				return nil, fmt.Errorf("%s is not among the kit's first files", p)
			}
			return data, nil
		},
	})
	if terr != nil {
		return nil, &UntrustedError{terr}
	}
	if visit != nil {
		for _, f := range m.Files {
			if data, ok := signerFiles[f.Path]; ok {
				if err := visit(f, bytes.NewReader(data)); err != nil {
					return nil, fmt.Errorf("%s: %w", f.Path, err)
				}
			}
		}
	}
	for err == nil {
		if err = v.check(tr, hdr, visit); err == nil {
			hdr, err = v.next(tr)
		}
	}
	if err != io.EOF {
		return nil, err
	}
	// The compressed stream's end, whose checksum says the archive is
	// whole: a kit cut short after its last file is still cut short.
	if n, err := io.Copy(io.Discard, io.LimitReader(bounded, maxTrailer+1)); err != nil {
		return nil, fmt.Errorf("the kit is corrupt or cut short: %v", err)
	} else if n > maxTrailer {
		return nil, errors.New("the kit has data after its end: refused")
	}
	for p := range v.entries {
		if !v.seen[p] {
			v.problems = append(v.problems, p+": missing from the kit")
		}
	}
	if len(v.problems) > 0 {
		sort.Strings(v.problems)
		return nil, &FileError{Problems: v.problems}
	}
	return &Verified{Manifest: m, Trust: res.Detail, Files: len(m.Files), Bytes: v.bytes, ManifestData: manifestData, EnvelopeData: envData}, nil
}

// entryOverhead bounds what a tar entry adds to its file's bytes: a
// header, a PAX header with long names, padding.
const entryOverhead = 8 << 10

// boundedReader fails once more than left bytes are read.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("the kit holds more data than its manifest lists: refused")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// maxTrailer bounds what may follow a kit's tar end marker (tar
// writers pad to a record size).
const maxTrailer = 1 << 20

// readEntry reads the next entry, which must be the regular file name, of
// at most limit bytes.
func readEntry(tr *tar.Reader, name string, limit int64) ([]byte, error) {
	hdr, err := tr.Next()
	if err == io.EOF {
		return nil, fmt.Errorf("not a kit: it ends before %s", name)
	}
	if err != nil {
		return nil, notAKit(err)
	}
	if hdr.Name != name || hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("not a kit: its first files must be %s and %s, found %q", ManifestFile, EnvelopeFile, hdr.Name)
	}
	if hdr.Size > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, limit>>20)
	}
	data, err := io.ReadAll(io.LimitReader(tr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return data, nil
}

// verifier checks a kit's files as they stream by.
type verifier struct {
	ctx      context.Context
	o        readOptions
	m        *Manifest
	entries  map[string]format.FileEntry
	seen     map[string]bool
	problems []string
	bytes    int64
}

// next returns the next entry's header, which must be a regular file the
// manifest lists, seen once, with the listed size. A file the manifest does
// not list is a problem, skipped; anything else ends the reading.
func (v *verifier) next(tr *tar.Reader) (*tar.Header, error) {
	for {
		if err := v.ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, fmt.Errorf("the kit is corrupt or cut short: %v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("the kit holds %q, which is not a regular file: refused", hdr.Name)
		}
		if err := inputfile.CheckName(hdr.Name); err != nil {
			return nil, fmt.Errorf("the kit holds %q, which is not a path inside it: refused", hdr.Name)
		}
		if v.seen[hdr.Name] {
			return nil, fmt.Errorf("the kit holds %s twice: refused", hdr.Name)
		}
		v.seen[hdr.Name] = true
		want, ok := v.entries[hdr.Name]
		if !ok {
			v.problems = append(v.problems, hdr.Name+": not in the manifest (added after signing)")
			continue
		}
		if hdr.Size != want.Size {
			v.problems = append(v.problems, fmt.Sprintf("%s: %d bytes, the manifest says %d", hdr.Name, hdr.Size, want.Size))
			continue
		}
		return hdr, nil
	}
}

// readSmall reads a signer's file whole and checks it.
func (v *verifier) readSmall(tr *tar.Reader, hdr *tar.Header) ([]byte, error) {
	if hdr.Size > inputfile.KeyLimit {
		return nil, fmt.Errorf("%s is larger than %d MiB", hdr.Name, inputfile.KeyLimit>>20)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("the kit is corrupt or cut short: %s: %v", hdr.Name, err)
	}
	v.compare(hdr.Name, sumsOf(data))
	return data, nil
}

// check reads one file, hashing it, and compares it with the manifest.
func (v *verifier) check(tr *tar.Reader, hdr *tar.Header, visit Visit) error {
	want := v.entries[hdr.Name]
	var extra io.Writer
	var visitDone chan error
	var pw *io.PipeWriter
	if visit != nil {
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		visitDone = make(chan error, 1)
		go func() {
			err := visit(want, pr)
			if err == nil {
				// The visitor must read to the end; drain what it left.
				_, err = io.Copy(io.Discard, pr)
			}
			pr.CloseWithError(err)
			visitDone <- err
		}()
		extra = pw
	}
	got, n, err := hashStream(v.ctx, tr, extra, !v.o.again)
	if pw != nil {
		pw.CloseWithError(err)
		// The visitor's own failure (a full disk) reaches the copy as a
		// write error carrying it: it is the cause, not the kit.
		if verr := <-visitDone; verr != nil && (err == nil || errors.Is(err, verr)) {
			return fmt.Errorf("%s: %w", hdr.Name, verr)
		}
	}
	if err != nil {
		return fmt.Errorf("the kit is corrupt or cut short: %s: %v", hdr.Name, err)
	}
	v.bytes += n
	if v.compare(hdr.Name, got) && v.o.checked != nil {
		v.o.checked(want)
	}
	return nil
}

// compare records a problem when a file's digests are not the manifest's
// and reports whether they are. A second reading has no SM3 to compare.
func (v *verifier) compare(name string, got sums) bool {
	want := v.entries[name]
	switch {
	case got.sha256 != want.SHA256:
		v.problems = append(v.problems, name+": SHA-256 differs from the manifest's (changed after signing)")
	case !v.o.again && got.sm3 != want.SM3:
		v.problems = append(v.problems, name+": SM3 differs from the manifest's (changed after signing)")
	default:
		return true
	}
	return false
}

// sums are a file's two digests, hex.
type sums struct{ sha256, sm3 string }

func sumsOf(data []byte) sums {
	a := sha256.Sum256(data)
	b := sm3.Sum(data)
	return sums{hex.EncodeToString(a[:]), hex.EncodeToString(b[:])}
}

// streamBuffer is how much hashStream reads at a time.
const streamBuffer = 256 << 10

var streamBuffers = sync.Pool{New: func() any { b := make([]byte, streamBuffer); return &b }}

// hashStream reads r to its end, computing SHA-256 and, if withSM3, SM3
// at once on two goroutines (SM3 is the slow one, about a fifth of
// SHA-256's speed), and copies what it reads to extra if that is not nil.
func hashStream(ctx context.Context, r io.Reader, extra io.Writer, withSM3 bool) (sums, int64, error) {
	hashes := []hash.Hash{sha256.New()}
	if withSM3 {
		hashes = append(hashes, sm3.New())
	}
	pipes := make([]*io.PipeWriter, len(hashes))
	done := make(chan error, len(hashes))
	for i, h := range hashes {
		pr, pw := io.Pipe()
		pipes[i] = pw
		go func() {
			bp := streamBuffers.Get().(*[]byte)
			defer streamBuffers.Put(bp)
			_, err := io.CopyBuffer(h, pr, *bp)
			pr.CloseWithError(err)
			done <- err
		}()
	}
	var writers []io.Writer
	for _, pw := range pipes {
		writers = append(writers, pw)
	}
	if extra != nil {
		writers = append(writers, extra)
	}
	n, err := ctxio.Copy(ctx, io.MultiWriter(writers...), r)
	for _, pw := range pipes {
		pw.CloseWithError(err)
	}
	for range hashes {
		if herr := <-done; herr != nil && err == nil {
			err = herr
		}
	}
	if err != nil {
		return sums{}, n, err
	}
	got := sums{sha256: hex.EncodeToString(hashes[0].Sum(nil))}
	if withSM3 {
		got.sm3 = hex.EncodeToString(hashes[1].Sum(nil))
	}
	return got, n, nil
}
