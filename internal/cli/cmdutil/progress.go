package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"hegui.dev/hegui/internal/inputfile"
)

// progressThreshold is the input size from which a progress bar is worth
// showing: about a quarter of a second of SM3.
const progressThreshold = 64 << 20

// openInput opens a file for streaming (or stdin for "-") and wraps it in a
// progress bar when it is large and stderr is a terminal. The returned
// function closes the file and clears the bar. Files of any size are
// streamed, but only regular ones: a named pipe could hold the command
// forever, and a stream is what "-" is for.
func (e *Env) OpenInput(path, label string) (io.Reader, func(), error) {
	if path == "-" {
		return e.Stdin, func() {}, nil
	}
	f, fi, err := inputfile.Open(path)
	var nr *inputfile.NotRegularError
	if errors.As(err, &nr) && !nr.Mode.IsDir() {
		return nil, nil, fmt.Errorf("%w: to read a stream, give - and redirect it to standard input", err)
	}
	if err != nil {
		return nil, nil, err
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
