package kit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
	"hegui.dev/hegui/internal/modverify"
)

// Limits on what a toolchain fetch reads.
const (
	maxInfo = 64 << 10
	maxMod  = modzip.MaxGoMod
)

// fetchAt is how many module versions a kit build fetches at once.
const fetchAt = 8

// fetchItem is one module version to fetch: its go.mod always, its .info
// and zip when zip is set; zipHash receives the zip's go.sum hash.
type fetchItem struct {
	mv      module.Version
	zip     bool
	zipHash *string
}

// fetchAll downloads module versions (toolchains among them) into the
// kit's download cache in the go command's layout, the way its module
// fetcher does: .info, .mod and .zip from the first proxy in GOPROXY; each
// .mod and .zip hashed as go.sum hashes them and the hashes checked
// against the checksum database with the go command's own client library
// (x/mod/sumdb), which writes the lookups and tiles beside them; each zip
// checked against the module zip rules (x/mod/zip); the .ziphash written
// beside it. Unlike `go mod download`, nothing is extracted: the kit
// carries the zips, and the go command extracts what a build needs.
// Every version that failed is named, one a line.
func (b *builder) fetchAll(ctx context.Context, items []fetchItem) error {
	if len(items) == 0 {
		return nil
	}
	ops, name, err := b.sumdbOps(ctx)
	if err != nil {
		return err
	}
	proxy, err := b.firstProxy()
	if err != nil {
		return err
	}
	if ops.base, err = b.sumdbBase(ctx, ops, name, b.sumdbURL); err != nil {
		return err
	}
	client := sumdb.NewClient(ops)
	errs := make([]error, len(items))
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range fetchAt {
		wg.Go(func() {
			for i := range next {
				it := items[i]
				h, err := b.fetch(ctx, proxy, client, it)
				if err != nil && it.mv.Path == ToolchainModule {
					errs[i] = fmt.Errorf("toolchain %s@%s: %w (is it a released Go version, built for that platform?)", it.mv.Path, it.mv.Version, err)
				} else if err != nil {
					errs[i] = fmt.Errorf("%s@%s: %w", it.mv.Path, it.mv.Version, err)
				} else if it.zipHash != nil {
					*it.zipHash = h
				}
				mu.Lock()
				if done++; done%32 == 0 || done == len(items) {
					b.o.Progress("  %d/%d module versions", done, len(items))
				}
				mu.Unlock()
			}
		})
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	var failed []string
	unreachable := 0
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err.Error())
			if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
				unreachable++
			}
		}
	}
	if unreachable == len(items) {
		// One cause, not a line for each version.
		var op *net.OpError
		errors.As(errs[0], &op)
		return fmt.Errorf("cannot reach the module proxy %s (%v): is GOPROXY right and the proxy up?", proxy, op)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d module versions could not be fetched:\n  %s", len(failed), len(items), strings.Join(first(failed, 20), "\n  "))
	}
	if err := ops.securityErr(); err != nil {
		return err
	}
	return b.writeLists(items)
}

// fetch fetches one module version and returns its zip's hash.
func (b *builder) fetch(ctx context.Context, proxy string, client *sumdb.Client, it fetchItem) (string, error) {
	ep, err := module.EscapePath(it.mv.Path)
	if err != nil {
		return "", err
	}
	ev, err := module.EscapeVersion(it.mv.Version)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(b.root, filepath.FromSlash(DownloadDir), filepath.FromSlash(ep), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := proxy + "/" + ep + "/@v/" + ev
	checked := !b.private(it.mv.Path)
	// want checks a hash against the checksum database's line for vers.
	want := func(vers, what, h string) error {
		if !checked {
			return nil
		}
		lines, err := client.Lookup(it.mv.Path, vers)
		if err != nil {
			return fmt.Errorf("checksum database: %w", err)
		}
		if !slices.Contains(lines, it.mv.Path+" "+vers+" "+h) {
			return fmt.Errorf("its %s hashes to %s, which the checksum database does not list (SECURITY ERROR)", what, h)
		}
		return nil
	}
	mod, err := b.getSmall(ctx, base+".mod", maxMod)
	if err != nil {
		return "", err
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(mod)), nil
	})
	if err != nil {
		return "", err
	}
	if err := want(it.mv.Version+"/go.mod", "go.mod", modHash); err != nil {
		return "", err
	}
	info, err := b.getSmall(ctx, base+".info", maxInfo)
	if err == nil {
		var parsed struct{ Version string }
		if json.Unmarshal(info, &parsed) != nil || parsed.Version != it.mv.Version {
			err = fmt.Errorf("the proxy's .info does not describe %s", it.mv.Version)
		}
	}
	if !it.zip {
		// A build reads only the go.mod of such a version; `go list -m
		// all` wants its .info too, which is carried when the proxy has
		// it (a proxy warmed from a go.sum need not).
		if err == nil {
			if err := os.WriteFile(filepath.Join(dir, ev+".info"), info, 0o644); err != nil {
				return "", err
			}
		}
		return "", os.WriteFile(filepath.Join(dir, ev+".mod"), mod, 0o644)
	}
	if err != nil {
		return "", err
	}
	partial := filepath.Join(dir, ev+".zip.partial")
	defer os.Remove(partial)
	if err := b.getFile(ctx, base+".zip", partial, modzip.MaxZipFile); err != nil {
		return "", err
	}
	if _, err := modzip.CheckZip(it.mv, partial); err != nil {
		return "", fmt.Errorf("not a valid module zip: %v", err)
	}
	zipHash, err := modverify.HashZip(partial)
	if err != nil {
		return "", fmt.Errorf("not a module zip: %v", err)
	}
	if err := want(it.mv.Version, "zip", zipHash); err != nil {
		return "", err
	}
	for name, data := range map[string][]byte{ev + ".info": info, ev + ".mod": mod, ev + ".ziphash": []byte(zipHash)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return zipHash, os.Rename(partial, filepath.Join(dir, ev+".zip"))
}

// writeLists writes each module's @v/list, the versions the kit holds
// whole, as the go command's cache has it: a file:// GOPROXY answers
// `go list -m -versions` and @latest from it.
func (b *builder) writeLists(items []fetchItem) error {
	versions := map[string][]string{}
	for _, it := range items {
		if it.zip {
			versions[it.mv.Path] = append(versions[it.mv.Path], it.mv.Version)
		}
	}
	for path, vs := range versions {
		ep, err := module.EscapePath(path)
		if err != nil {
			return err
		}
		semver.Sort(vs)
		list := filepath.Join(b.root, filepath.FromSlash(DownloadDir), filepath.FromSlash(ep), "@v", "list")
		if err := os.WriteFile(list, []byte(strings.Join(vs, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// firstProxy is the first proxy URL in GOPROXY, which the kit fetches
// toolchains from; "direct" or "off" first are refused, since toolchains
// come only from a module proxy.
func (b *builder) firstProxy() (string, error) {
	gp := cmp.Or(b.o.Getenv("GOPROXY"), "https://proxy.golang.org,direct")
	first := strings.FieldsFunc(gp, func(r rune) bool { return r == ',' || r == '|' })
	if len(first) == 0 || first[0] == "direct" || first[0] == "off" {
		return "", fmt.Errorf("GOPROXY=%s: toolchains are fetched from a module proxy; set GOPROXY to one", gp)
	}
	u, err := url.Parse(first[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("GOPROXY=%s: the kit fetches toolchains from an http(s) proxy", gp)
	}
	return strings.TrimSuffix(first[0], "/"), nil
}

var httpClient = &http.Client{Timeout: 30 * time.Minute}

func (b *builder) get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp, nil
}

func (b *builder) getSmall(ctx context.Context, url string, limit int64) ([]byte, error) {
	resp, err := b.get(ctx, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", url, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", url, limit)
	}
	return data, nil
}

func (b *builder) getFile(ctx context.Context, url, path string, limit int64) error {
	resp, err := b.get(ctx, url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("GET %s: %v", url, err)
	}
	if n > limit {
		return fmt.Errorf("GET %s: larger than %d bytes", url, limit)
	}
	return nil
}

// private reports whether the checksum settings (GONOSUMDB, GOPRIVATE,
// GONOSUMCHECK) exempt a module from the checksum database, as the go
// command reads them.
func (b *builder) private(path string) bool {
	for _, k := range []string{"GONOSUMDB", "GOPRIVATE", "GONOSUMCHECK"} {
		if v := b.o.Getenv(k); v != "" && module.MatchPrefixPatterns(v, path) {
			return true
		}
	}
	return false
}
