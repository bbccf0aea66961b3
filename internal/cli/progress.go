package cli

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressThreshold is the input size from which a progress bar is worth
// showing: about a quarter of a second of SM3.
const progressThreshold = 64 << 20

// openInput opens a file for streaming (or stdin for "-") and wraps it in a
// progress bar when it is large and stderr is a terminal. The returned
// function closes the file and clears the bar.
func (e *Env) openInput(path, label string) (io.Reader, func(), error) {
	if path == "-" {
		return e.Stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, nil, &os.PathError{Op: "read", Path: path, Err: errIsDirectory}
	}
	if e.Quiet || !e.StderrIsTerminal || fi.Size() < progressThreshold {
		return f, func() { f.Close() }, nil
	}
	bar := progressbar.NewOptions64(fi.Size(),
		progressbar.OptionSetWriter(e.Stderr),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	r := progressbar.NewReader(f, bar)
	return &r, func() { bar.Finish(); f.Close() }, nil
}

var errIsDirectory = errors.New("is a directory")
