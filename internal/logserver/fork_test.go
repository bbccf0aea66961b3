package logserver_test

import (
	"context"
	"errors"
	"testing"

	"hegui.dev/hegui/internal/logserver"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// appendAndStop starts the log in h, appends n events, waits for their
// checkpoint and stops the server again.
func appendAndStop(t *testing.T, h *logserver.Home, token, prefix string, n int) translog.Checkpoint {
	t.Helper()
	l := startLog(t, h)
	before, err := l.client.Checkpoint(context.Background())
	if err != nil {
		before = translog.Checkpoint{}
	}
	fillLog(t, l, token, prefix, n)
	cp := waitForSize(t, l.client, before.Size+uint64(n))
	l.stop(t)
	return cp
}

// TestRollbackIsFork restores an older copy of a log home after a client
// has seen the log at a larger size: the client reports a fork.
func TestRollbackIsFork(t *testing.T) {
	ctx := context.Background()
	h := newHome(t)
	token := addToken(t, h, "ops")
	at10 := appendAndStop(t, h, token, "first", 10)
	backup := copyHome(t, h)
	at15 := appendAndStop(t, h, token, "second", 5)
	if at10.Size != 10 || at15.Size != 15 {
		t.Fatalf("sizes %d and %d", at10.Size, at15.Size)
	}

	store := logclient.NewSeenStore(t.TempDir())
	current := dirClient(t, h)
	cp, err := current.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := current.Advance(ctx, store, cp); err != nil {
		t.Fatalf("Advance to the current log: %v", err)
	}

	restored := dirClient(t, backup)
	old, err := restored.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if old.Size != 10 {
		t.Fatalf("restored copy has size %d", old.Size)
	}
	seen, _, err := restored.Advance(ctx, store, old)
	if !errors.Is(err, logclient.ErrFork) {
		t.Fatalf("Advance to the restored copy = %v, want ErrFork", err)
	}
	if seen.Size != 15 {
		t.Fatalf("fork reported against seen size %d, want 15", seen.Size)
	}
	if saved, _, err := store.Load(verifiersOf(t, h)); err != nil || saved.Size != 15 {
		t.Fatalf("the rolled-back checkpoint replaced the seen one: %d, %v", saved.Size, err)
	}

	// The restored copy keeps serving as a log: once it grows past the seen
	// size with other entries, it is still a fork.
	appendAndStop(t, backup, token, "rewritten", 10)
	grown, err := restored.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := restored.Advance(ctx, store, grown); !errors.Is(err, logclient.ErrFork) {
		t.Fatalf("Advance to a rewritten log of size %d = %v, want ErrFork", grown.Size, err)
	}
}

// TestSplitViewIsFork: two copies of one log diverge from the same size
// with different entries. A client that saw one reports a fork when shown
// the other at the same or a greater size.
func TestSplitViewIsFork(t *testing.T) {
	ctx := context.Background()
	h := newHome(t)
	token := addToken(t, h, "ops")
	appendAndStop(t, h, token, "shared", 20)
	a, b := copyHome(t, h), copyHome(t, h)
	appendAndStop(t, a, token, "view-a", 5)
	appendAndStop(t, b, token, "view-b", 5)

	ca, cb := dirClient(t, a), dirClient(t, b)
	cpA, err := ca.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cpB, err := cb.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cpA.Size != 25 || cpB.Size != 25 || string(cpA.Root) == string(cpB.Root) {
		t.Fatalf("views: %v and %v", cpA, cpB)
	}
	// Each view on its own is a valid log.
	for _, v := range []struct {
		c  *logclient.Client
		cp translog.Checkpoint
	}{{ca, cpA}, {cb, cpB}} {
		if _, err := v.c.VerifyTree(ctx, v.cp, nil); err != nil {
			t.Fatalf("VerifyTree: %v", err)
		}
	}

	store := logclient.NewSeenStore(t.TempDir())
	if _, _, err := ca.Advance(ctx, store, cpA); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cb.Advance(ctx, store, cpB); !errors.Is(err, logclient.ErrFork) {
		t.Fatalf("Advance to the other view at the same size = %v, want ErrFork", err)
	}

	appendAndStop(t, b, token, "view-b-more", 7)
	cpB2, err := cb.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cpB2.Size != 32 {
		t.Fatalf("view b has size %d", cpB2.Size)
	}
	_, _, err = cb.Advance(ctx, store, cpB2)
	var fe *logclient.ForkError
	if !errors.As(err, &fe) || fe.Seen.Size != 25 || fe.Presented.Size != 32 {
		t.Fatalf("Advance to the other view at a greater size = %v, want a ForkError from 25 to 32", err)
	}

	// The view the client saw keeps working.
	appendAndStop(t, a, token, "view-a-more", 3)
	cpA2, err := ca.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.Advance(ctx, store, cpA2); err != nil {
		t.Fatalf("Advance along the seen view: %v", err)
	}
}
