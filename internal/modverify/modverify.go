// Package modverify checks a go.sum as a CI gate: every public line
// matches the checksum database and every internal line is a version
// published with `hegui proxy publish`, signed by a trusted publisher and
// proven in the audit log. It reads both through a module proxy: the
// checksum database through its /sumdb/ endpoint (x/mod/sumdb's client,
// which verifies the signed tree), publications as MODULE/@v/VERSION.sig
// and .tlog. HashZip (hashzip.go) is the h1: hash of a module zip, for
// everything here that stores zips.
package modverify

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"

	"hegui.dev/hegui/internal/modsign"
)

// DefaultSumDB is the go command's default checksum database and its
// verifier key (cmd/go/internal/modfetch/key.go in Go 1.26).
const DefaultSumDB = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

// ErrSumDBOff is ParseGOSUMDB's answer to GOSUMDB=off.
var ErrSumDBOff = errors.New("GOSUMDB=off: no checksum database to check against")

// ParseGOSUMDB reads a GOSUMDB value as the go command does: a verifier
// key ("name+hash+key"), optionally followed by the database's URL, is
// used as it is; empty or "sum.golang.org" mean DefaultSumDB; "off" is
// ErrSumDBOff.
func ParseGOSUMDB(gosumdb string) (key, url string, err error) {
	f := strings.Fields(gosumdb)
	if len(f) == 2 {
		url = f[1]
	}
	switch {
	case len(f) > 2:
		return "", "", fmt.Errorf("GOSUMDB %q: want a verifier key, optionally followed by a URL", gosumdb)
	case len(f) == 0 || f[0] == "sum.golang.org":
		return DefaultSumDB, url, nil
	case f[0] == "off":
		return "", "", ErrSumDBOff
	case strings.Contains(f[0], "+"):
		return f[0], url, nil
	}
	return "", "", fmt.Errorf("GOSUMDB %q: give the checksum database's verifier key (name+hash+key)", gosumdb)
}

// Options say what to check against.
type Options struct {
	// Proxy is the module proxy's base URL.
	Proxy string
	// Token, if set, is sent as a bearer token.
	Token string
	// Internal are the internal module patterns (GOPRIVATE syntax): their
	// lines must be signed publications, the others must be in the
	// checksum database.
	Internal string
	// SumDB is the checksum database's verifier key; empty means
	// DefaultSumDB.
	SumDB string
	// Trust verifies internal publications.
	Trust modsign.Trust
	// HTTPClient talks to the proxy; nil means one with timeouts.
	HTTPClient *http.Client
	// Progress, if set, is called as lines are checked.
	Progress func(done, total int)
}

// Line is one line of a go.sum.
type Line struct {
	Module, Version string // Version may end in "/go.mod"
	Hash            string
	N               int // line number
}

func (l Line) String() string { return l.Module + " " + l.Version + " " + l.Hash }

// Failure is a line that did not verify.
type Failure struct {
	Line Line
	Err  error
}

// Result is what Check found.
type Result struct {
	// Public and Internal count the lines that verified.
	Public, Internal int
	// Publishers are the key IDs that signed the internal lines.
	Publishers []string
	Failures   []Failure
}

// ParseGoSum reads a go.sum.
func ParseGoSum(data []byte) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("go.sum line %d: want MODULE VERSION HASH", n)
		}
		if err := module.Check(f[0], strings.TrimSuffix(f[1], "/go.mod")); err != nil {
			return nil, fmt.Errorf("go.sum line %d: %v", n, err)
		}
		lines = append(lines, Line{Module: f[0], Version: f[1], Hash: f[2], N: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("go.sum: %v", err)
	}
	return lines, nil
}

// Check verifies every line.
func Check(ctx context.Context, lines []Line, o Options) (*Result, error) {
	if o.Proxy == "" {
		return nil, errors.New("no module proxy to check against")
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	f := &fetcher{base: strings.TrimSuffix(o.Proxy, "/"), token: o.Token, client: client, ctx: ctx}
	key := cmp.Or(o.SumDB, DefaultSumDB)
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("checksum database key %q: %v", key, err)
	}
	ops := &clientOps{f: f, name: v.Name(), key: key, cache: map[string][]byte{}}
	db := sumdb.NewClient(ops)
	db.SetGONOSUMDB(o.Internal)

	// Internal lines are checked once per version.
	type pub struct {
		once sync.Once
		v    *modsign.Verified
		err  error
	}
	var mu sync.Mutex
	pubs := map[string]*pub{}
	publication := func(mod, version string) (*modsign.Verified, error) {
		mu.Lock()
		p := pubs[mod+"@"+version]
		if p == nil {
			p = &pub{}
			pubs[mod+"@"+version] = p
		}
		mu.Unlock()
		p.once.Do(func() { p.v, p.err = f.publication(mod, version, o.Trust) })
		return p.v, p.err
	}

	res := &Result{}
	errs := make([]error, len(lines))
	internal := make([]bool, len(lines))
	signers := make([]string, len(lines))
	var done int
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, l := range lines {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			if o.Internal != "" && module.MatchPrefixPatterns(o.Internal, l.Module) {
				internal[i] = true
				version, _ := strings.CutSuffix(l.Version, "/go.mod")
				v, err := publication(l.Module, version)
				if err == nil {
					want := v.Statement.ZipHash
					if strings.HasSuffix(l.Version, "/go.mod") {
						want = v.Statement.ModHash
					}
					if l.Hash != want {
						err = fmt.Errorf("go.sum has %s, the signed publication %s (SECURITY ERROR)", l.Hash, want)
					} else {
						signers[i] = v.KeyID
					}
				}
				errs[i] = err
			} else {
				got, err := db.Lookup(l.Module, l.Version)
				switch {
				case err != nil:
					errs[i] = fmt.Errorf("checksum database: %v", err)
				case !slices.Contains(got, l.String()):
					errs[i] = fmt.Errorf("go.sum has %s, the checksum database %q (SECURITY ERROR)", l.Hash, strings.Join(got, "; "))
				}
			}
			if o.Progress != nil {
				mu.Lock()
				done++
				o.Progress(done, len(lines))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if ops.securityErr != nil {
		return nil, ops.securityErr
	}
	seen := map[string]bool{}
	for i, l := range lines {
		switch {
		case errs[i] != nil:
			res.Failures = append(res.Failures, Failure{Line: l, Err: errs[i]})
		case internal[i]:
			res.Internal++
			if !seen[signers[i]] {
				seen[signers[i]] = true
				res.Publishers = append(res.Publishers, signers[i])
			}
		default:
			res.Public++
		}
	}
	return res, nil
}

// Limits on what the proxy sends.
const (
	maxSumDBAnswer = 256 << 10
	maxPublication = 64 << 10
)

// fetcher reads from the proxy.
type fetcher struct {
	base, token string
	client      *http.Client
	ctx         context.Context
}

func (f *fetcher) get(path string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, f.base+path, nil)
	if err != nil {
		return nil, err
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, msg)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("GET %s: answer larger than %d bytes", path, max)
	}
	return data, nil
}

// publication reads and verifies an internal version's publication.
func (f *fetcher) publication(mod, version string, trust modsign.Trust) (*modsign.Verified, error) {
	ep, err := module.EscapePath(mod)
	if err != nil {
		return nil, err
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return nil, err
	}
	base := "/" + ep + "/@v/" + ev
	sig, err := f.get(base+".sig", maxPublication)
	if err != nil {
		return nil, fmt.Errorf("no signed publication: %v", err)
	}
	tlog, err := f.get(base+".tlog", maxPublication)
	if err != nil {
		return nil, fmt.Errorf("no audit-log proof: %v", err)
	}
	v, err := modsign.Verify(sig, tlog, trust)
	if err != nil {
		return nil, err
	}
	if v.Statement.Module != mod || v.Statement.Version != version {
		return nil, fmt.Errorf("the proxy's publication is for %s", v.Statement.Object())
	}
	return v, nil
}

// clientOps is the checksum-database client's view: the database through
// the proxy, the latest tree head and tiles in memory for this run.
type clientOps struct {
	f         *fetcher
	name, key string
	mu        sync.Mutex
	latest    []byte
	cache     map[string][]byte
	// securityErr is the first proof that the database lied.
	securityErr error
}

func (o *clientOps) ReadRemote(path string) ([]byte, error) {
	return o.f.get("/sumdb/"+o.name+path, maxSumDBAnswer)
}

func (o *clientOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.key), nil
	}
	if file == o.name+"/latest" {
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.latest, nil
	}
	return nil, fmt.Errorf("unknown checksum database configuration %q", file)
}

func (o *clientOps) WriteConfig(file string, old, new []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !bytes.Equal(o.latest, old) {
		return sumdb.ErrWriteConflict
	}
	o.latest = new
	return nil
}

func (o *clientOps) ReadCache(file string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if data, ok := o.cache[file]; ok {
		return data, nil
	}
	return nil, errors.New("not cached")
}

func (o *clientOps) WriteCache(file string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cache[file] = data
}

func (o *clientOps) Log(string) {}

func (o *clientOps) SecurityError(msg string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.securityErr == nil {
		o.securityErr = fmt.Errorf("checksum database %s: SECURITY ERROR: %s", o.name, msg)
	}
}
