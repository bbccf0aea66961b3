package logserver_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/logserver"
)

// TestOneServerPerHome: a second server on a POSIX log home is refused,
// naming the home, while the first runs, whether in this process or in
// another; once the first is closed or killed, a new one starts.
func TestOneServerPerHome(t *testing.T) {
	ctx := context.Background()
	h := newHome(t)
	first, err := logserver.New(ctx, logserver.Options{Home: h})
	if err != nil {
		t.Fatal(err)
	}
	expectInUse(t, h)
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	newServer(t, h, logserver.Options{}).Close(ctx)

	child := startChild(t, h.Dir)
	expectInUse(t, h)
	child.kill()
	newServer(t, h, logserver.Options{})
}

func expectInUse(t *testing.T, h *logserver.Home) {
	t.Helper()
	srv, err := logserver.New(context.Background(), logserver.Options{Home: h})
	if err == nil {
		srv.Close(context.Background())
		t.Fatal("a second server started on the same log home")
	}
	if !errors.Is(err, logserver.ErrHomeInUse) || !strings.Contains(err.Error(), h.Dir) ||
		!strings.Contains(err.Error(), "another `hegui log serve` is running on it") {
		t.Fatalf("second server: %v, want ErrHomeInUse naming %s", err, h.Dir)
	}
}
