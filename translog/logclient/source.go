package logclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/transparency-dev/tessera/api/layout"
	"hegui.dev/hegui/translog"
)

// Size limits for what a Source reads, so a hostile or broken server cannot
// make a client read without end. A full hash tile is 8 KiB; an entry bundle
// holds at most 256 entries of at most MaxEventSize bytes each.
const (
	maxTileSize   = layout.TileWidth * 32
	maxBundleSize = layout.EntryBundleWidth * (2 + translog.MaxEventSize)
)

// A Source reads the static files of a C2SP tlog-tiles log: the checkpoint,
// hash tiles and entry bundles. A missing file is reported with an error
// that matches fs.ErrNotExist.
type Source interface {
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error)
	ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error)
}

// OpenSource returns a Source for location: an http(s) URL of the log's
// root, or a directory holding the log's files (a POSIX log, or a copy of
// one). A nil client uses one with a 30-second timeout.
func OpenSource(location string, client *http.Client) (Source, error) {
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		u, err := url.Parse(location)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("log URL %q is not valid", location)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		if client == nil {
			client = &http.Client{Timeout: 30 * time.Second}
		}
		return &httpSource{root: u, client: client}, nil
	}
	if strings.Contains(location, "://") {
		return nil, fmt.Errorf("log location %q: only http, https and directories are supported", location)
	}
	st, err := os.Stat(location)
	if err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("log location %q is not a directory", location)
	}
	return dirSource(location), nil
}

// readPartialOrFull reads a partial resource and falls back to the full one
// when the partial one is gone: a log may have completed the tile and
// garbage-collected the partial copy since the checkpoint was read.
func readPartialOrFull(ctx context.Context, p uint8, read func(context.Context, uint8) ([]byte, error)) ([]byte, error) {
	if p == 0 {
		return read(ctx, 0)
	}
	b, err := read(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return read(ctx, 0)
	}
	return b, err
}

type dirSource string

func (d dirSource) read(p string, limit int64) ([]byte, error) {
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, limit, p)
}

func (d dirSource) ReadCheckpoint(context.Context) ([]byte, error) {
	return d.read(layout.CheckpointPath, translog.MaxCheckpointSize)
}

func (d dirSource) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	return readPartialOrFull(ctx, p, func(_ context.Context, p uint8) ([]byte, error) {
		return d.read(layout.TilePath(level, index, p), maxTileSize)
	})
}

func (d dirSource) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	return readPartialOrFull(ctx, p, func(_ context.Context, p uint8) ([]byte, error) {
		return d.read(layout.EntriesPath(index, p), maxBundleSize)
	})
}

type httpSource struct {
	root   *url.URL
	client *http.Client
}

func (h *httpSource) get(ctx context.Context, p string, limit int64) ([]byte, error) {
	u := h.root.JoinPath(p)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return readLimited(resp.Body, limit, u.String())
	case http.StatusNotFound:
		return nil, fmt.Errorf("%s: %w", u, fs.ErrNotExist)
	default:
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
}

func (h *httpSource) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return h.get(ctx, layout.CheckpointPath, translog.MaxCheckpointSize)
}

func (h *httpSource) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	return readPartialOrFull(ctx, p, func(ctx context.Context, p uint8) ([]byte, error) {
		return h.get(ctx, layout.TilePath(level, index, p), maxTileSize)
	})
}

func (h *httpSource) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	return readPartialOrFull(ctx, p, func(ctx context.Context, p uint8) ([]byte, error) {
		return h.get(ctx, layout.EntriesPath(index, p), maxBundleSize)
	})
}

func readLimited(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}
