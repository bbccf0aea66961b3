package modverify

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	kflate "github.com/klauspost/compress/flate"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/sync/semaphore"
)

// HashZip is dirhash.HashZip(zipfile, dirhash.Hash1), the h1: hash of a
// module zip as go.sum and the checksum database write it, with the zip's
// files inflated by klauspost/compress's flate (about twice as fast as
// compress/flate; archive/zip still checks every file's CRC-32 and size).
// A proxy or a kit hashes every zip it stores: on a cold fetch this was
// half of the proxy's CPU time.
//
// With more than one CPU, files are inflated ahead of dirhash.Hash1, a few
// at a time (see inflateAhead): inflating is most of the work, and Hash1
// reads one file after the other.
func HashZip(zipfile string) (string, error) {
	z, err := zip.OpenReader(zipfile)
	if err != nil {
		return "", err
	}
	defer z.Close()
	z.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return kflate.NewReader(r) })
	files := make([]string, 0, len(z.File))
	byName := make(map[string]*zip.File, len(z.File))
	for _, f := range z.File {
		files = append(files, f.Name)
		byName[f.Name] = f
	}
	open := func(name string) (io.ReadCloser, error) {
		f := byName[name]
		if f == nil {
			return nil, fmt.Errorf("file %q not found in zip", name)
		}
		return f.Open()
	}
	if workers := min(runtime.GOMAXPROCS(0), maxInflaters); workers > 1 && len(files) > 1 {
		a := inflateAhead(files, byName, workers)
		defer a.stop()
		open = a.open
	}
	return dirhash.Hash1(files, open)
}

// Inflating ahead: at most maxInflaters files at a time, holding at most
// aheadBudget bytes of inflated files that Hash1 has not read yet; a file
// larger than aheadLimit (or the budget) is inflated when Hash1 reads it,
// as without.
const (
	maxInflaters = 8
	aheadLimit   = 4 << 20
)

// aheadBudget is a variable for the tests, which make it smaller.
var aheadBudget int64 = 16 << 20

// ahead inflates a zip's files in the order dirhash.Hash1 reads them
// (sorted by name, as Hash1 sorts them).
type ahead struct {
	names   []string
	files   []*zip.File
	results []chan inflated
	next    int // the index of the next open
	budget  *semaphore.Weighted
	limit   uint64 // the largest file inflated ahead
	ctx     context.Context
	cancel  context.CancelFunc
	ended   chan struct{} // closed when run and every inflater have ended
}

type inflated struct {
	data []byte
	err  error
}

// inflateAhead starts inflating the files Hash1 will read, in its order.
// Each file takes its declared uncompressed size from the budget, a size
// archive/zip holds it to (a file that inflates to more fails its read).
func inflateAhead(names []string, byName map[string]*zip.File, workers int) *ahead {
	ctx, cancel := context.WithCancel(context.Background())
	a := &ahead{
		names:  slices.Sorted(slices.Values(names)),
		budget: semaphore.NewWeighted(aheadBudget),
		limit:  uint64(min(aheadLimit, aheadBudget)),
		ctx:    ctx,
		cancel: cancel,
		ended:  make(chan struct{}),
	}
	a.files = make([]*zip.File, len(a.names))
	a.results = make([]chan inflated, len(a.names))
	for i, n := range a.names {
		a.files[i] = byName[n]
		a.results[i] = make(chan inflated, 1) // one send each: never blocks
	}
	go a.run(workers)
	return a
}

func (a *ahead) run(workers int) {
	defer close(a.ended)
	var wg sync.WaitGroup
	defer wg.Wait()
	inflaters := semaphore.NewWeighted(int64(workers))
	for i, f := range a.files {
		if !a.inflatedAhead(f) {
			continue // opened when Hash1 reads it
		}
		if a.budget.Acquire(a.ctx, int64(f.UncompressedSize64)) != nil {
			return
		}
		if inflaters.Acquire(a.ctx, 1) != nil {
			return
		}
		wg.Go(func() {
			defer inflaters.Release(1)
			a.results[i] <- inflate(f)
		})
	}
}

// inflatedAhead reports whether f is inflated ahead of Hash1: a file the
// budget could never hold would wait for it forever.
func (a *ahead) inflatedAhead(f *zip.File) bool { return f != nil && f.UncompressedSize64 <= a.limit }

// open returns the next file Hash1 reads: inflated ahead, or opened now.
func (a *ahead) open(name string) (io.ReadCloser, error) {
	i := a.next
	a.next++
	if i >= len(a.names) || a.names[i] != name {
		return nil, fmt.Errorf("dirhash read %q out of the expected order", name)
	}
	f := a.files[i]
	if f == nil {
		return nil, fmt.Errorf("file %q not found in zip", name)
	}
	if !a.inflatedAhead(f) {
		return f.Open()
	}
	r := <-a.results[i]
	a.budget.Release(int64(f.UncompressedSize64))
	if r.err != nil {
		return nil, r.err
	}
	return io.NopCloser(bytes.NewReader(r.data)), nil
}

// stop ends inflating ahead and waits for the inflaters under way.
func (a *ahead) stop() {
	a.cancel()
	<-a.ended
}

// inflate reads a zip file whole into a buffer of its declared size, and
// reads on to the end, where archive/zip checks the size and CRC-32.
func inflate(f *zip.File) inflated {
	rc, err := f.Open()
	if err != nil {
		return inflated{err: err}
	}
	defer rc.Close()
	data := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, data); err != nil {
		return inflated{err: err}
	}
	if extra, err := io.ReadAll(io.LimitReader(rc, 1)); err != nil || len(extra) > 0 {
		if err == nil {
			err = zip.ErrFormat // more than the declared size
		}
		return inflated{err: err}
	}
	return inflated{data: data}
}
