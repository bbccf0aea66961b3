package vulndb

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"hegui.dev/hegui/internal/inputfile"
)

// DefaultMirror is the Go vulnerability database.
const DefaultMirror = "https://vuln.go.dev"

// Limits on what a mirror may send.
const (
	maxIndexSize = 256 << 20
	maxMetaSize  = 1 << 20
)

// UpdateOptions adjust Update.
type UpdateOptions struct {
	// Client makes the requests; nil means a client with a 60 s timeout
	// per request.
	Client *http.Client
	// Force rebuilds even when the mirror is not newer.
	Force bool
	// Progress, if set, is called as entries are fetched.
	Progress func(done, total int)
	// Now is the time of the update (for tests); zero means time.Now().
	// A mirror or entry dated more than a day after it is refused.
	Now time.Time
}

// UpdateResult says what Update did.
type UpdateResult struct {
	*Info
	// UpToDate is set when the local database was already as new as the
	// mirror's and nothing was changed.
	UpToDate bool
	// Fetched counts the entries downloaded; the rest were unchanged and
	// copied from the local database.
	Fetched int
}

// Update brings the database at dest up to date with the mirror at base
// (vuln.go.dev or a server with the same layout, serving .json.gz files or
// plain .json). Only entries whose modification time changed are
// downloaded. The new database replaces the old one whole, and only when
// every entry has been fetched and checked.
func Update(ctx context.Context, base, dest string, opts UpdateOptions) (*UpdateResult, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mirror %q: want an http:// or https:// URL", base)
	}
	m := &mirror{base: u.String(), client: opts.Client, gz: true}
	if m.client == nil {
		m.client = &http.Client{Timeout: 60 * time.Second}
	}
	var meta dbMeta
	data, err := m.get(ctx, dbFile, maxMetaSize)
	if errors.Is(err, errNotFound) {
		m.gz = false // a server with plain .json files
		data, err = m.get(ctx, dbFile, maxMetaSize)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("%s: %s", m.url(dbFile), jsonError(err))
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := checkNotFuture(meta.Modified, now); err != nil {
		return nil, fmt.Errorf("%s: the database is %w", m.url(dbFile), err)
	}
	local, localErr := Open(dest)
	if localErr == nil && !opts.Force && !meta.Modified.After(local.Modified) {
		return &UpdateResult{Info: local, UpToDate: true}, nil
	}
	if data, err = m.get(ctx, modulesFile, maxIndexSize); err != nil {
		return nil, err
	}
	var index []moduleMeta
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %s", m.url(modulesFile), jsonError(err))
	}
	want := map[string]time.Time{}
	for _, mod := range index {
		for _, v := range mod.Vulns {
			if !ValidID(v.ID) {
				return nil, fmt.Errorf("%s lists %q, which is not an entry id", m.url(modulesFile), v.ID)
			}
			want[v.ID] = v.Modified
		}
	}
	have := map[string]time.Time{}
	if localErr == nil {
		have = localModified(local.Path)
	}
	set := newEntrySet(now)
	var fetch []string
	for id, mod := range want {
		if t, ok := have[id]; ok && t.Equal(mod) {
			data, err := inputfile.Read(ctx, filepath.Join(local.Path, entryDir, id+".json"), maxEntrySize)
			if err == nil && set.add(id, data) == nil {
				continue
			}
		}
		fetch = append(fetch, id)
	}
	if err := m.fetchEntries(ctx, fetch, set, opts.Progress); err != nil {
		return nil, err
	}
	info, err := set.write(dest, meta.Modified)
	if err != nil {
		return nil, err
	}
	return &UpdateResult{Info: info, Fetched: len(fetch)}, nil
}

// localModified maps each entry of a local database to its modification
// time, from its index.
func localModified(dir string) map[string]time.Time {
	out := map[string]time.Time{}
	var index []moduleMeta
	if readJSON(filepath.Join(dir, modulesFile), maxIndexSize, &index) != nil {
		return out
	}
	for _, m := range index {
		for _, v := range m.Vulns {
			out[v.ID] = v.Modified
		}
	}
	return out
}

var errNotFound = errors.New("not found")

type mirror struct {
	base   string
	client *http.Client
	gz     bool // files are served as NAME.json.gz
}

func (m *mirror) url(name string) string {
	if m.gz {
		name += ".gz"
	}
	return m.base + "/" + name
}

// get fetches one file, gunzipping it if it is compressed, and refuses
// bodies over limit bytes.
func (m *mirror) get(ctx context.Context, name string, limit int64) ([]byte, error) {
	u := m.url(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	// Ask for the bytes as stored: vuln.go.dev serves raw gzip files.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("fetch %s: %w", u, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("fetch %s: larger than %d MiB", u, limit>>20)
	}
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", u, err)
		}
		body, err = io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: corrupt gzip: %w", u, err)
		}
		if int64(len(body)) > limit {
			return nil, fmt.Errorf("fetch %s: larger than %d MiB uncompressed", u, limit>>20)
		}
	}
	return body, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fetchEntries downloads ids with a few requests in flight and adds them
// to set, checking that each file holds the entry it is named for.
func (m *mirror) fetchEntries(ctx context.Context, ids []string, set *entrySet, progress func(int, int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan string)
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				data, err := m.get(ctx, entryDir+"/"+id+".json", maxEntrySize)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				err = set.add(m.url(entryDir+"/"+id+".json"), data)
				if err == nil && set.byID[id] == nil {
					err = fmt.Errorf("%s does not hold entry %s", m.url(entryDir+"/"+id+".json"), id)
				}
				done++
				if progress != nil {
					progress(done, len(ids))
				}
				mu.Unlock()
				if err != nil {
					fail(err)
				}
			}
		}()
	}
	for _, id := range ids {
		select {
		case jobs <- id:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
