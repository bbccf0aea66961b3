package kit

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// Limits on what a toolchain fetch reads.
const (
	maxInfo = 64 << 10
	maxMod  = modzip.MaxGoMod
)

// fetchToolchains downloads toolchain module zips into the kit's download
// cache the way the go command's module fetcher does: .info, .mod and .zip
// from the first proxy in GOPROXY, each .mod and .zip hashed as go.sum
// hashes them and the hashes checked against the checksum database with
// the go command's own client library; the .ziphash written beside the
// zip. Unlike `go mod download`, nothing is extracted: a toolchain is
// unpacked only where the kit is installed.
func (b *builder) fetchToolchains(ctx context.Context, toolchains []Toolchain) error {
	if len(toolchains) == 0 {
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
	var wg sync.WaitGroup
	errs := make([]error, len(toolchains))
	for i := range toolchains {
		t := &toolchains[i]
		wg.Go(func() {
			b.o.Progress("fetching Go %s (%s)", strings.TrimPrefix(t.Version, "go"), t.Platform)
			h, err := b.fetchToolchain(ctx, proxy, client, t)
			if err == nil {
				err = ops.securityErr()
			}
			if err != nil {
				errs[i] = fmt.Errorf("toolchain %s %s: %w", t.Version, t.Platform, err)
				return
			}
			t.Hash = h
		})
	}
	wg.Wait()
	return cmp.Or(errs...)
}

// fetchGoModsAt is how many go.mod files fetchGoMods reads at once.
const fetchGoModsAt = 8

// fetchGoMods downloads the go.mod files of module versions the kit
// carries nothing else of (a go.sum "/go.mod" line alone), each checked
// against the checksum database, into the kit's download cache: all the
// go command reads of such a version is its .mod.
func (b *builder) fetchGoMods(ctx context.Context, versions []module.Version) error {
	if len(versions) == 0 {
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
	b.o.Progress("fetching %d go.mod files", len(versions))
	errs := make([]error, len(versions))
	next := make(chan int)
	var wg sync.WaitGroup
	for range fetchGoModsAt {
		wg.Go(func() {
			for i := range next {
				if err := b.fetchGoMod(ctx, proxy, client, versions[i]); err != nil {
					errs[i] = fmt.Errorf("%s@%s: %w", versions[i].Path, versions[i].Version, err)
				}
			}
		})
	}
	for i := range versions {
		next <- i
	}
	close(next)
	wg.Wait()
	var failed []string
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d go.mod files could not be fetched:\n  %s", len(failed), len(versions), strings.Join(first(failed, 20), "\n  "))
	}
	return ops.securityErr()
}

// fetchGoMod fetches one go.mod and checks it against the checksum
// database, unless the go checksum settings exempt its module.
func (b *builder) fetchGoMod(ctx context.Context, proxy string, client *sumdb.Client, mv module.Version) error {
	ep, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	ev, err := module.EscapeVersion(mv.Version)
	if err != nil {
		return err
	}
	mod, err := b.getSmall(ctx, proxy+"/"+ep+"/@v/"+ev+".mod", maxMod)
	if err != nil {
		return err
	}
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(mod)), nil
	})
	if err != nil {
		return err
	}
	if !b.private(mv.Path) {
		lines, err := client.Lookup(mv.Path, mv.Version+"/go.mod")
		if err != nil {
			return fmt.Errorf("checksum database: %w", err)
		}
		if !slices.Contains(lines, mv.Path+" "+mv.Version+"/go.mod "+h) {
			return fmt.Errorf("its go.mod hashes to %s, which the checksum database does not list (SECURITY ERROR)", h)
		}
	}
	dir := filepath.Join(b.root, filepath.FromSlash(DownloadDir), filepath.FromSlash(ep), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ev+".mod"), mod, 0o644)
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

func (b *builder) fetchToolchain(ctx context.Context, proxy string, client *sumdb.Client, t *Toolchain) (string, error) {
	version := t.ModuleVersion()
	ep, err := module.EscapePath(ToolchainModule)
	if err != nil {
		return "", err
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(b.root, filepath.FromSlash(DownloadDir), filepath.FromSlash(ep), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := proxy + "/" + ep + "/@v/" + ev
	lines, err := client.Lookup(ToolchainModule, version)
	if err != nil {
		return "", fmt.Errorf("checksum database: %w", err)
	}
	modLines, err := client.Lookup(ToolchainModule, version+"/go.mod")
	if err != nil {
		return "", fmt.Errorf("checksum database: %w", err)
	}
	info, err := b.getSmall(ctx, base+".info", maxInfo)
	if err != nil {
		return "", err
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
	if !slices.Contains(modLines, ToolchainModule+" "+version+"/go.mod "+modHash) {
		return "", fmt.Errorf("its go.mod hashes to %s, which the checksum database does not list (SECURITY ERROR)", modHash)
	}
	zipPath := filepath.Join(dir, ev+".zip")
	if err := b.getFile(ctx, base+".zip", zipPath+".partial", modzip.MaxZipFile); err != nil {
		return "", err
	}
	zipHash, err := dirhash.HashZip(zipPath+".partial", dirhash.Hash1)
	if err != nil {
		return "", fmt.Errorf("not a module zip: %v", err)
	}
	if !slices.Contains(lines, ToolchainModule+" "+version+" "+zipHash) {
		return "", fmt.Errorf("its zip hashes to %s, which the checksum database does not list (SECURITY ERROR)", zipHash)
	}
	for name, data := range map[string][]byte{ev + ".info": info, ev + ".mod": mod, ev + ".ziphash": []byte(zipHash)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return zipHash, os.Rename(zipPath+".partial", zipPath)
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
