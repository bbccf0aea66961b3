package translog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// spool is the file of events waiting for the log: canonical JSON, one
// event a line, oldest first. Events before offset have been delivered in
// this run; a restart replays the whole file.
type spool struct {
	path   string
	f      *os.File // open for reading and appending while the handler runs
	size   int64    // bytes in the file
	offset int64    // bytes replayed
}

func (sp *spool) backlog() bool { return sp.offset < sp.size }

// openSpool opens or creates the spool file. A final line without its
// newline is what a crash in the middle of a write leaves; it is cut off
// and reported, so replay and new events start on a line of their own.
func openSpool(path string, d *outbox) (*spool, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("translog: open spool: %w (its directory must exist and be writable)", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		syncDir(filepath.Dir(path))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("translog: spool: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("translog: spool %q is not a regular file", path)
	}
	sp := &spool{path: path, f: f, size: fi.Size()}
	complete, err := completeLines(f, sp.size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("translog: spool %q: %w", path, err)
	}
	if complete < sp.size {
		if err := f.Truncate(complete); err != nil {
			f.Close()
			return nil, fmt.Errorf("translog: spool %q: cutting off an incomplete last line: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("translog: spool %q: %w", path, err)
		}
		d.dropped.Add(1)
		d.report(fmt.Errorf("translog: spool %q: the last %d bytes were an incomplete line, most likely from a crash while writing; discarded", path, sp.size-complete))
		sp.size = complete
	}
	return sp, nil
}

// completeLines returns the length of f up to and including its last
// newline.
func completeLines(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// append writes the events as lines and syncs the file. On failure it cuts
// the file back so no partial line stays behind.
func (sp *spool) append(batch []queued) error {
	var buf bytes.Buffer
	for _, q := range batch {
		buf.Write(q.line)
		buf.WriteByte('\n')
	}
	_, err := sp.f.Write(buf.Bytes())
	if err == nil {
		err = sp.f.Sync()
	}
	if err != nil {
		sp.f.Truncate(sp.size)
		return fmt.Errorf("translog: spool %q: %w", sp.path, err)
	}
	sp.size += int64(buf.Len())
	return nil
}

// empty truncates the spool once everything in it has been delivered. If
// that fails the delivered events stay in the file and are skipped in this
// run, but sent again after a restart.
func (sp *spool) empty() error {
	if err := sp.f.Truncate(0); err != nil {
		sp.offset = sp.size
		return fmt.Errorf("translog: spool %q: emptying after replay: %w", sp.path, err)
	}
	sp.size, sp.offset = 0, 0
	return nil
}

// close removes an empty spool. One with a backlog stays for the next run,
// rewritten without the events already delivered.
func (sp *spool) close() error {
	if !sp.backlog() {
		sp.f.Close()
		if err := os.Remove(sp.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("translog: spool %q: %w", sp.path, err)
		}
		return nil
	}
	if sp.offset == 0 {
		return sp.f.Close()
	}
	err := sp.compact()
	sp.f.Close()
	return err
}

// compact replaces the spool by its backlog: a new file renamed over the
// old one, so a crash leaves one or the other whole.
func (sp *spool) compact() error {
	tmp, err := os.CreateTemp(filepath.Dir(sp.path), filepath.Base(sp.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("translog: spool %q: dropping delivered events: %w", sp.path, err)
	}
	_, err = io.Copy(tmp, io.NewSectionReader(sp.f, sp.offset, sp.size-sp.offset))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), sp.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("translog: spool %q: dropping delivered events (they will be sent again): %w", sp.path, err)
	}
	syncDir(filepath.Dir(sp.path))
	return nil
}

// syncDir makes a new or renamed directory entry durable, where the system
// allows it.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// fileReader reads f from pos on with ReadAt, seeing what is appended to f
// after earlier reads hit the end.
type fileReader struct {
	f   *os.File
	pos int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.f.ReadAt(p, r.pos)
	r.pos += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}
