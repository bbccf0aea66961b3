package kit

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/modverify"
)

// maxSumDBAnswer bounds a lookup or a tile read from the network.
const maxSumDBAnswer = 256 << 10

// completeSumDB proves every lookup the go command cached against the
// newest tree head it saw, with the go command's own client library
// (x/mod/sumdb) reading the kit's cache and writing into it whatever tile
// the proofs need that is not there yet. The go command verified each
// lookup as it came, against the tree head of that moment; offline, it
// checks them against the kit's tree head, in any order, and so needs the
// proofs from each lookup's tree to that one.
func (b *builder) completeSumDB(ctx context.Context) error {
	ops, name, err := b.sumdbOps(ctx)
	if err != nil {
		return err
	}
	latest, err := ops.ReadConfig(name + "/latest")
	if err != nil || len(latest) == 0 {
		// Nothing was looked up (every module is private, or there are
		// none): there is nothing to prove.
		return err
	}
	lookups, err := ops.cachedLookups()
	if err != nil {
		return err
	}
	if ops.base, err = b.sumdbBase(ctx, ops, name, b.sumdbURL); err != nil {
		return err
	}
	b.o.Progress("proving %d checksum-database lookups against the tree head the kit carries", len(lookups))
	client := sumdb.NewClient(ops)
	for _, mv := range lookups {
		if _, err := client.Lookup(mv.Path, mv.Version); err != nil {
			return fmt.Errorf("checksum database %s: %s@%s: %v", name, mv.Path, mv.Version, err)
		}
		if err := ops.securityErr(); err != nil {
			return err
		}
	}
	return nil
}

// sumdbOps are the checksum-database client operations over the kit's
// files, for the database GOSUMDB names.
func (b *builder) sumdbOps(ctx context.Context) (*cacheOps, string, error) {
	key, url, err := modverify.ParseGOSUMDB(b.o.Getenv("GOSUMDB"))
	if errors.Is(err, modverify.ErrSumDBOff) {
		return nil, "", errors.New("GOSUMDB=off: a kit's modules are checked against the checksum database; unset GOSUMDB, or list private modules in GONOSUMDB")
	}
	if err != nil {
		return nil, "", err
	}
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return nil, "", fmt.Errorf("GOSUMDB: %v", err)
	}
	b.sumdbURL = url
	name := verifier.Name()
	return &cacheOps{
		ctx: ctx, key: key, name: name,
		cache:  filepath.Join(b.root, filepath.FromSlash(DownloadDir), "sumdb"),
		config: filepath.Join(b.root, filepath.FromSlash(SumDBConfigDir)),
		client: &http.Client{Timeout: 2 * time.Minute},
	}, name, nil
}

// sumdbBase finds where to read the checksum database from: the URL
// GOSUMDB gives, else the first proxy in GOPROXY that proxies it (as the
// go command does), else the database itself.
func (b *builder) sumdbBase(ctx context.Context, ops *cacheOps, name, url string) (string, error) {
	if url != "" {
		return strings.TrimSuffix(url, "/"), nil
	}
	for _, p := range strings.FieldsFunc(cmp.Or(b.o.Getenv("GOPROXY"), "https://proxy.golang.org,direct"), func(r rune) bool { return r == ',' || r == '|' }) {
		if p == "direct" || p == "off" {
			break
		}
		base := strings.TrimSuffix(p, "/") + "/sumdb/" + name
		if _, err := ops.get(base + "/supported"); err == nil {
			return base, nil
		}
	}
	return "https://" + name, nil
}

// cacheOps are x/mod/sumdb's client operations over the go command's
// files in the kit: the tree head in GOPATH/pkg/sumdb, lookups and tiles
// in the module cache's cache/download/sumdb, the network for the rest.
type cacheOps struct {
	ctx                  context.Context
	key, name            string
	cache, config        string
	base                 string
	client               *http.Client
	mu                   sync.Mutex
	firstSecurityProblem error
}

func (o *cacheOps) ReadRemote(path string) ([]byte, error) { return o.get(o.base + path) }

func (o *cacheOps) get(url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(o.ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSumDBAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if len(data) > maxSumDBAnswer {
		return nil, fmt.Errorf("GET %s: answer larger than %d bytes", url, maxSumDBAnswer)
	}
	return data, nil
}

func (o *cacheOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.key), nil
	}
	data, err := os.ReadFile(filepath.Join(o.config, filepath.FromSlash(file)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func (o *cacheOps) WriteConfig(file string, old, new []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	cur, err := o.ReadConfig(file)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, old) {
		return sumdb.ErrWriteConflict
	}
	p := filepath.Join(o.config, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, new, 0o644)
}

func (o *cacheOps) ReadCache(file string) ([]byte, error) {
	return os.ReadFile(filepath.Join(o.cache, filepath.FromSlash(file)))
}

func (o *cacheOps) WriteCache(file string, data []byte) {
	p := filepath.Join(o.cache, filepath.FromSlash(file))
	if os.MkdirAll(filepath.Dir(p), 0o755) == nil {
		os.WriteFile(p, data, 0o644)
	}
}

func (o *cacheOps) Log(string) {}

func (o *cacheOps) SecurityError(msg string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.firstSecurityProblem == nil {
		o.firstSecurityProblem = fmt.Errorf("checksum database %s: SECURITY ERROR: %s", o.name, msg)
	}
}

func (o *cacheOps) securityErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.firstSecurityProblem
}

// cachedLookups lists the module versions whose lookups the go command
// cached.
func (o *cacheOps) cachedLookups() ([]module.Version, error) {
	dir := filepath.Join(o.cache, o.name, "lookup")
	var out []module.Version
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipDir
		}
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		epath, evers, ok := strings.Cut(filepath.ToSlash(rel), "@")
		if !ok {
			return nil
		}
		path, err1 := module.UnescapePath(epath)
		vers, err2 := module.UnescapeVersion(evers)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("the go command's checksum cache holds %s, which names no module version", rel)
		}
		out = append(out, module.Version{Path: path, Version: vers})
		return nil
	})
	return out, err
}
