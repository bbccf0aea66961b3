package logserver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hegui.dev/hegui/translog/logclient"
)

// TestVerifyTreeFindsTampering changes one byte of one file in a copy of a
// stopped POSIX log and checks that VerifyTree, reading the directory,
// names that file.
func TestVerifyTreeFindsTampering(t *testing.T) {
	ctx := context.Background()
	h := newHome(t)
	token := addToken(t, h, "ops")
	l := startLog(t, h)
	fillLog(t, l, token, "tamper", 600)
	waitForSize(t, l.client, 600)
	l.stop(t)

	if _, err := dirClient(t, h).VerifyTree(ctx, waitForSize(t, dirClient(t, h), 600), nil); err != nil {
		t.Fatalf("VerifyTree of the untouched log: %v", err)
	}

	tests := []struct {
		name   string
		path   string // below the static directory, as CorruptionError names it
		offset int    // of the byte to change; negative counts from the end
	}{
		{"level-0 hash tile", "tile/0/001", 17 * 32},
		{"partial level-0 hash tile", "tile/0/002.p/88", -1},
		{"level-1 hash tile", "tile/1/000.p/2", 3},
		{"entry in an entry bundle", "tile/entries/000", 10},
		{"entry in the partial entry bundle", "tile/entries/002.p/88", -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := copyHome(t, h)
			file := filepath.Join(c.StaticDir(), filepath.FromSlash(tt.path))
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			off := tt.offset
			if off < 0 {
				off += len(data)
			}
			data[off] ^= 0x01
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}

			client := dirClient(t, c)
			cp, err := client.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.VerifyTree(ctx, cp, nil)
			var ce *logclient.CorruptionError
			if !errors.As(err, &ce) {
				t.Fatalf("VerifyTree = %v, want a *CorruptionError", err)
			}
			if ce.Path != tt.path {
				t.Fatalf("VerifyTree blames %s (%v), want %s", ce.Path, err, tt.path)
			}
		})
	}
}
