package ctxio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCopy(t *testing.T) {
	data := strings.Repeat("x", 3*BufferSize+7)
	var out bytes.Buffer
	n, err := Copy(context.Background(), &out, iotest.HalfReader(strings.NewReader(data)))
	if err != nil || n != int64(len(data)) || out.String() != data {
		t.Fatalf("copied %d bytes, err %v", n, err)
	}
}

func TestCopyStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Copy(ctx, io.Discard, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	boom := errors.New("boom")
	if _, err := Copy(context.Background(), io.Discard, iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("read error: err = %v", err)
	}
	if _, err := Copy(context.Background(), failingWriter{boom}, strings.NewReader("x")); !errors.Is(err, boom) {
		t.Errorf("write error: err = %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
