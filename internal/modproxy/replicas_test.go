package modproxy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/mod/sumdb/dirhash"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/internal/peertest"
)

// The replica tests run several proxies over one bucket of a real
// S3-compatible service, versitygw, as replicas behind a load balancer
// would run. The gateway is started once for the package by the first test
// that needs it and stopped by TestMain (crash_test.go); without versitygw
// the tests skip, or fail under HEGUI_REQUIRE_PEERS=1.
var gateway peertest.VersityGW

// replica is one proxy over the shared bucket.
type replica struct {
	URL   string
	store *observedStore
}

// startReplica serves a proxy over bucket, fetching from upstreamURL
// (offline when empty); its store counts its writes in writes.
func startReplica(t *testing.T, endpoint, bucket, upstreamURL string, writes *storeWrites) *replica {
	t.Helper()
	s3store, err := modstore.NewS3(t.Context(), modstore.S3Config{Bucket: bucket, Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	store := &observedStore{Store: s3store, writes: writes}
	// No prefetching: the tests count each replica's writes of the files
	// the clients ask for.
	p, err := modproxy.New(modproxy.Options{Store: store, Upstream: upstreamURL, Offline: upstreamURL == "", TempDir: t.TempDir(), Prefetch: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return &replica{URL: srv.URL, store: store}
}

// observedStore is a replica's store: the S3 store, with its writes
// counted, and hooks a test sets to order the writes of several replicas.
// The hooks are set before the replica serves.
type observedStore struct {
	modstore.Store
	writes        *storeWrites
	afterCreate   func(key string, err error)
	beforeReplace func(key string)
}

func (s *observedStore) Create(ctx context.Context, key string, r io.Reader) error {
	err := s.Store.Create(ctx, key, r)
	s.writes.note(key, "create", err)
	if s.afterCreate != nil {
		s.afterCreate(key, err)
	}
	return err
}

func (s *observedStore) Replace(ctx context.Context, key string, r io.Reader) error {
	if s.beforeReplace != nil {
		s.beforeReplace(key)
	}
	err := s.Store.Replace(ctx, key, r)
	s.writes.note(key, "replace", err)
	return err
}

// storeWrites counts the writes of module files and their records, by key
// and outcome: "create", "create refused" (the key held an object),
// "replace", or an error.
type storeWrites struct {
	mu sync.Mutex
	n  map[string]map[string]int
}

func (w *storeWrites) note(key, op string, err error) {
	if w == nil || !strings.HasPrefix(key, "modules/") {
		return
	}
	switch {
	case errors.Is(err, modstore.ErrExist):
		op += " refused"
	case err != nil:
		op += " failed"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == nil {
		w.n = map[string]map[string]int{}
	}
	if w.n[key] == nil {
		w.n[key] = map[string]int{}
	}
	w.n[key][op]++
}

func (w *storeWrites) of(key string) map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.n[key])
}

func (w *storeWrites) keys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var keys []string
	for k := range w.n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// requestCounter counts the requests an upstream receives, by path.
type requestCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// counting returns a tamper function for startHostileUpstream that counts
// each request and then leaves it to next (passes it on when nil).
func (c *requestCounter) counting(next func(w http.ResponseWriter, r *http.Request) bool) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		c.n[r.URL.Path]++
		c.mu.Unlock()
		return next != nil && next(w, r)
	}
}

func (c *requestCounter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// moduleFilePath matches the GOPROXY paths of .info, .mod and .zip files.
var moduleFilePath = regexp.MustCompile(`/@v/[^/]+\.(info|mod|zip)$`)

// moduleFiles returns the module file paths requested, with their counts.
func (c *requestCounter) moduleFiles() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	files := map[string]int{}
	for p, n := range c.n {
		if moduleFilePath.MatchString(p) {
			files[p] = n
		}
	}
	return files
}

// roundRobin is a load balancer that sends each request to the next of
// its backends in turn.
type roundRobin struct {
	URL    string
	next   atomic.Uint64
	served []atomic.Int64
}

func startRoundRobin(t *testing.T, backends ...string) *roundRobin {
	t.Helper()
	lb := &roundRobin{served: make([]atomic.Int64, len(backends))}
	var proxies []*httputil.ReverseProxy
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		proxies = append(proxies, &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := (lb.next.Add(1) - 1) % uint64(len(proxies))
		lb.served[i].Add(1)
		proxies[i].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	lb.URL = srv.URL
	return lb
}

// bucketObjects reads every object of a bucket, by key.
func bucketObjects(t *testing.T, bucket string) map[string][]byte {
	t.Helper()
	client := gateway.Client()
	objects := map[string][]byte{}
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range page.Contents {
			out, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: obj.Key})
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			objects[aws.ToString(obj.Key)] = data
		}
	}
	return objects
}

// checkBucket checks that every module file in the bucket has one record
// that describes it, and that nothing was quarantined.
func checkBucket(t *testing.T, bucket string) map[string][]byte {
	t.Helper()
	objects := bucketObjects(t, bucket)
	if orphans := checkModuleFiles(t, objects); len(orphans) != 0 {
		t.Errorf("module files without a record in the bucket: %q", orphans)
	}
	for key := range objects {
		if strings.HasPrefix(key, "quarantine/") {
			t.Errorf("quarantined: %s", key)
		}
	}
	return objects
}

// Two real modules the replicas serve to the go command.
const replicaApp = `package main

import (
	"fmt"

	"github.com/google/uuid"
	"golang.org/x/text/language"
)

func main() { fmt.Println(uuid.NewString(), language.Make("zh-Hans")) }
`

// TestReplicasOnS3 runs two proxies over one bucket behind a round-robin
// load balancer, each with its own upstream connection that counts what it
// is asked. The go command downloads and builds a program through the
// balancer: every module file is fetched from the upstream once across
// both replicas, created once, never replaced, and stored with one record
// that describes it. Then 20 clients ask both replicas at once for a zip
// neither has: each replica fetches it at most once, all get the same
// verified bytes, and one copy is kept. Last, replica B restarted offline
// serves a go command with fresh caches everything the two fetched.
func TestReplicasOnS3(t *testing.T) {
	up := upstream(t)
	endpoint := gateway.Start(t)
	bucket := gateway.NewBucket(t, "modproxy-")
	writes := &storeWrites{}
	var (
		counters [2]requestCounter
		relays   [2]*hostileUpstream
		replicas [2]*replica
	)
	for i := range replicas {
		relays[i] = startHostileUpstream(t, up, counters[i].counting(nil))
		replicas[i] = startReplica(t, endpoint, bucket, relays[i].URL, writes)
	}
	lb := startRoundRobin(t, replicas[0].URL, replicas[1].URL)

	app := writeModule(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgolang.org/x/text v0.21.0\n)\n",
		"main.go": replicaApp,
	})
	env := goEnv(t, lb.URL)
	runGo(t, app, env, false, "mod", "download")
	runGo(t, app, env, false, "build", "./...")
	if a, b := lb.served[0].Load(), lb.served[1].Load(); a == 0 || b == 0 {
		t.Fatalf("the load balancer sent %d requests to A and %d to B, want both used", a, b)
	}
	t.Logf("the load balancer sent %d requests to A, %d to B", lb.served[0].Load(), lb.served[1].Load())

	// Each module file was fetched once, by one replica or the other.
	a, b := counters[0].moduleFiles(), counters[1].moduleFiles()
	paths := map[string]bool{}
	for p := range a {
		paths[p] = true
	}
	for p := range b {
		paths[p] = true
	}
	if !paths["/golang.org/x/text/@v/v0.21.0.zip"] || !paths["/github.com/google/uuid/@v/v1.6.0.zip"] {
		t.Errorf("the zips were not fetched: %v", paths)
	}
	for p := range paths {
		if a[p]+b[p] != 1 {
			t.Errorf("%s fetched from the upstream %d times by A and %d by B, want once in all", p, a[p], b[p])
		}
	}
	t.Logf("module files fetched from the upstream: %d by A, %d by B, %d distinct", len(a), len(b), len(paths))

	// Each was created once, never replaced, and has one record that
	// describes it.
	for _, key := range writes.keys() {
		if w := writes.of(key); w["create"] != 1 || len(w) != 1 {
			t.Errorf("%s: writes %v, want one create", key, w)
		}
	}
	objects := checkBucket(t, bucket)
	stored := 0
	for key := range objects {
		if strings.HasPrefix(key, "modules/") && !strings.HasSuffix(key, modstore.RecordSuffix) {
			stored++
		}
	}
	if stored != len(paths) {
		t.Errorf("the bucket holds %d module files, %d were fetched", stored, len(paths))
	}

	// 20 clients at once, half to each replica, for a zip neither has. The
	// upstream answers it after 300 ms, so that both replicas' fetches
	// overlap.
	const contested = "/github.com/google/uuid/@v/v1.5.0.zip"
	contestedKey, _ := modstore.ModuleKey("github.com/google/uuid", "v1.5.0", modstore.Zip)
	want := readUpstream(t, up+contested)
	for i := range relays {
		slow := counters[i].counting(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == contested {
				time.Sleep(300 * time.Millisecond)
			}
			return false
		})
		relays[i].tamper.Store(&slow)
	}
	const clients = 20
	bodies := make([][]byte, clients)
	codes := make([]int, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			<-start
			resp, err := http.Get(replicas[i%2].URL + contested)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			codes[i] = resp.StatusCode
			bodies[i], _ = io.ReadAll(resp.Body)
		})
	}
	close(start)
	wg.Wait()
	for i := range clients {
		if codes[i] != http.StatusOK || !bytes.Equal(bodies[i], want) {
			t.Errorf("client %d (replica %c): %d, %d bytes, want 200 and the upstream's %d bytes", i, "AB"[i%2], codes[i], len(bodies[i]), len(want))
		}
	}
	fa, fb := counters[0].get(contested), counters[1].get(contested)
	if fa > 1 || fb > 1 {
		t.Errorf("the contested zip was fetched %d times by A and %d by B, want at most once by each", fa, fb)
	}
	zipWrites, recWrites := writes.of(contestedKey), writes.of(contestedKey+modstore.RecordSuffix)
	t.Logf("%d clients at once: the contested zip was fetched %d times by A, %d by B; store writes of the zip %v, of its record %v", clients, fa, fb, zipWrites, recWrites)
	// Of the replicas' writes, one creates the zip and one its record; any
	// other create is refused.
	if zipWrites["create"] != 1 || recWrites["create"] != 1 || recWrites["replace"] != 0 {
		t.Errorf("the contested zip was created %d times and its record created %d and replaced %d times, want once, once and never", zipWrites["create"], recWrites["create"], recWrites["replace"])
	}
	if objects := checkBucket(t, bucket); !bytes.Equal(objects[contestedKey], want) {
		t.Errorf("the bucket holds %d bytes of the contested zip, not the upstream's", len(objects[contestedKey]))
	}

	// Replica B, restarted offline, serves everything to a go command with
	// fresh caches.
	offline := startReplica(t, endpoint, bucket, "", nil)
	offEnv := goEnv(t, offline.URL)
	runGo(t, app, offEnv, false, "mod", "download")
	runGo(t, app, offEnv, false, "build", "./...")
	if code, body := get(t, offline.URL+contested); code != http.StatusOK || body != string(want) {
		t.Errorf("offline, the contested zip answers %d (%d bytes)", code, len(body))
	}
}

// TestReplicasStoreRace orders the writes of two replicas storing the same
// zip as a race can: A has stored the zip and not yet its record when B,
// with its own copy fetched and verified, finds the zip stored without a
// record and replaces it; A then writes its record before B writes its
// own. The design (docs/proxy.md) is that the first replica's file and
// record win and the second keeps them: both clients get a verified zip,
// the stored zip is the one its record describes, and nothing is
// quarantined. With the same bytes from both upstreams that holds
// whatever the order; the second case gives B an upstream whose copy holds
// the same files zipped differently (stored rather than deflated, as
// another proxy or another Go version may make it), which the checksum
// database accepts just the same.
func TestReplicasStoreRace(t *testing.T) {
	up := upstream(t)
	endpoint := gateway.Start(t)
	const (
		mod     = "github.com/google/uuid"
		version = "v1.4.0"
	)
	zipPath := "/" + mod + "/@v/" + version + ".zip"
	zipKey, _ := modstore.ModuleKey(mod, version, modstore.Zip)
	original := readUpstream(t, up+zipPath)
	repacked := repackStored(t, original)
	if h1, h2 := zipHash(t, original), zipHash(t, repacked); bytes.Equal(original, repacked) || h1 != h2 {
		t.Fatalf("the repacked zip should differ in bytes (%v) and hash the same: %s, %s", !bytes.Equal(original, repacked), h1, h2)
	}
	wantHash := zipHash(t, original)

	for _, tc := range []struct {
		name string
		bZip []byte
	}{
		{"same bytes", original},
		{"repacked by B's upstream", repacked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bucket := gateway.NewBucket(t, "modproxy-")
			relayA := startHostileUpstream(t, up, nil)
			relayB := startHostileUpstream(t, up, serving(zipPath, tc.bZip))
			a := startReplica(t, endpoint, bucket, relayA.URL, nil)
			b := startReplica(t, endpoint, bucket, relayB.URL, nil)

			aZipStored, aRecordStored, bReplacing := make(chan struct{}), make(chan struct{}), make(chan struct{})
			gateA, gateB := make(chan struct{}), make(chan struct{})
			// The hooks act once: later requests may store the zip again.
			aZip := sync.OnceFunc(func() {
				close(aZipStored)
				waitOrTimeout(gateA)
			})
			aRecord := sync.OnceFunc(func() { close(aRecordStored) })
			bReplace := sync.OnceFunc(func() {
				close(bReplacing)
				waitOrTimeout(gateB)
			})
			a.store.afterCreate = func(key string, err error) {
				switch {
				case key == zipKey && err == nil:
					aZip()
				case key == zipKey+modstore.RecordSuffix:
					// Written, or refused because B, finding the same
					// bytes, wrote the record first.
					aRecord()
				}
			}
			b.store.beforeReplace = func(key string) {
				if key == zipKey {
					bReplace()
				}
			}

			ra := getAsync(a.URL + zipPath)
			if !waitOrTimeout(aZipStored) {
				t.Fatal("A did not store the zip")
			}
			rb := getAsync(b.URL + zipPath)
			// B finds A's zip without its record. It must not replace it
			// while A may still write the record: it waits for it.
			select {
			case <-bReplacing:
				t.Error("B replaced the zip A stored while A's record was still to come")
			case res := <-rb:
				rb <- res
				t.Log("B answered before A's record was written")
			case <-time.After(time.Second):
				t.Log("B waits for A's record")
			}
			close(gateA)
			if !waitOrTimeout(aRecordStored) {
				t.Fatal("A did not store the zip's record")
			}
			resA := <-ra // A has answered before B goes on
			close(gateB)
			resB := <-rb

			for name, res := range map[string]asyncResult{"A": resA, "B": resB} {
				if res.code != http.StatusOK {
					t.Errorf("the client of %s got %d: %s", name, res.code, strings.TrimSpace(string(res.body)))
					continue
				}
				if h := zipHash(t, res.body); h != wantHash {
					t.Errorf("the client of %s got a zip hashing %s, want %s", name, h, wantHash)
				}
			}
			objects := checkBucket(t, bucket)
			if rec, err := modstore.ParseRecord(objects[zipKey+modstore.RecordSuffix], mod, version, modstore.Zip); err == nil {
				t.Logf("stored: the zip %s (%d bytes, sha256 %.12s…), its record sha256 %.12s…", whoseZip(objects[zipKey], original, repacked), len(objects[zipKey]), sha256Of(objects[zipKey]), rec.SHA256)
			}

			// Later clients of either replica get the zip without a
			// quarantine.
			for name, r := range map[string]*replica{"A": a, "B": b} {
				if code, _, body := fetch(t, r.URL+zipPath); code != http.StatusOK {
					t.Errorf("later, %s answers %d: %s", name, code, strings.TrimSpace(body))
				}
			}
			for key := range bucketObjects(t, bucket) {
				if strings.HasPrefix(key, "quarantine/") {
					t.Errorf("after later requests, quarantined: %s", key)
				}
			}
		})
	}
}

type asyncResult struct {
	code int
	body []byte
}

// getAsync GETs url in the background; the answer (code 0 for a transport
// error) arrives on the channel.
func getAsync(url string) chan asyncResult {
	ch := make(chan asyncResult, 1)
	go func() {
		client := &http.Client{Timeout: 2 * waitLimit}
		resp, err := client.Get(url)
		if err != nil {
			ch <- asyncResult{body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		ch <- asyncResult{resp.StatusCode, body}
	}()
	return ch
}

// waitOrTimeout waits for ch to close, at most waitLimit, so that a hook
// never holds a replica for good; it reports whether ch closed.
func waitOrTimeout(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(waitLimit):
		return false
	}
}

// repackStored returns a module zip with the same files, stored rather
// than deflated: other bytes, the same go.sum hash.
func repackStored(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(w, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipHash is the go.sum hash of a module zip.
func zipHash(t *testing.T, data []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := dirhash.HashZip(file, dirhash.Hash1)
	if err != nil {
		return "not a zip: " + err.Error()
	}
	return h
}

// whoseZip says which upstream's copy data is.
func whoseZip(data, original, repacked []byte) string {
	switch {
	case bytes.Equal(data, original):
		return "A's upstream's"
	case bytes.Equal(data, repacked):
		return "B's upstream's"
	}
	return "neither upstream's"
}

func sha256Of(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
