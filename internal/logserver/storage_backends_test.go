package logserver

// The mysql and aws drivers are tested against real peers: a MariaDB
// server (Debian mariadb-server, started as .ci/run does) and versitygw, an
// S3-compatible gateway (go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0). A test skips, saying
// why, only when a peer is not installed or not running here.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/tessera/api"

	"hegui.dev/hegui/internal/peertest"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// eventsPerTest makes the tree span a full tile and a partial one, so full
// and partial tiles and bundles are all read back.
const eventsPerTest = 300

func TestStorageConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  StorageConfig
		err  string // "" for a valid section
	}{
		{"posix", StorageConfig{Driver: "posix", Path: "data"}, ""},
		{"posix without path", StorageConfig{Driver: "posix"}, "storage.path is missing"},
		{"posix with a bucket", StorageConfig{Driver: "posix", Path: "data", Bucket: "b"}, "storage.bucket is not used by the posix driver"},
		{"unknown driver", StorageConfig{Driver: "gcp"}, `"gcp" is not one of aws, mysql, posix`},
		{"mysql", StorageConfig{Driver: "mysql", DSN: "hegui@tcp(db:3306)/auditlog?tls=true"}, ""},
		{"mysql over a socket", StorageConfig{Driver: "mysql", DSN: "hegui@unix(/run/mysqld/mysqld.sock)/auditlog"}, ""},
		{"mysql without dsn", StorageConfig{Driver: "mysql"}, "storage.dsn is missing"},
		{"mysql with a password", StorageConfig{Driver: "mysql", DSN: "hegui:secret@tcp(db:3306)/auditlog"}, "set HEGUI_LOG_MYSQL_PASSWORD"},
		{"mysql without database", StorageConfig{Driver: "mysql", DSN: "hegui@tcp(db:3306)/"}, "names no database"},
		{"mysql with a path", StorageConfig{Driver: "mysql", DSN: "hegui@tcp(db)/log", Path: "data"}, "storage.path is not used by the mysql driver"},
		{"mysql with an endpoint", StorageConfig{Driver: "mysql", DSN: "hegui@tcp(db)/log", Endpoint: "http://s3"}, "storage.endpoint is not used"},
		{"mysql bad dsn", StorageConfig{Driver: "mysql", DSN: "db:3306"}, "storage.dsn"},
		{"aws", StorageConfig{Driver: "aws", DSN: "hegui@tcp(db)/log", Bucket: "audit", BucketPrefix: "prod", Region: "cn-north-1"}, ""},
		{"aws elsewhere", StorageConfig{Driver: "aws", DSN: "hegui@tcp(db)/log", Bucket: "audit", Endpoint: "https://s3.example.internal:7070", PathStyle: true}, ""},
		{"aws without bucket", StorageConfig{Driver: "aws", DSN: "hegui@tcp(db)/log"}, "storage.bucket is missing"},
		{"aws without dsn", StorageConfig{Driver: "aws", Bucket: "audit"}, "storage.dsn is missing"},
		{"aws bad endpoint", StorageConfig{Driver: "aws", DSN: "hegui@tcp(db)/log", Bucket: "audit", Endpoint: "s3.example.internal"}, "not an http or https URL"},
		{"aws with a path", StorageConfig{Driver: "aws", DSN: "hegui@tcp(db)/log", Bucket: "audit", Path: "data"}, "storage.path is not used by the aws driver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Check()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Check() = %v, want nil", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Check() = %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

func TestBundlePrefix(t *testing.T) {
	bundle := []byte{0, 1, 'a', 0, 0, 0, 2, 'b', 'c'}
	for _, tc := range []struct {
		data []byte
		n    int
		want int
		err  bool
	}{
		{bundle, 1, 3, false},
		{bundle, 2, 5, false},
		{bundle, 3, 9, false},
		{bundle, 4, 0, true},
		{bundle[:8], 3, 0, true},
		{nil, 1, 0, true},
	} {
		got, err := bundlePrefix(tc.data, tc.n)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("bundlePrefix(%x, %d) = %d, %v; want %d, error %v", tc.data, tc.n, got, err, tc.want, tc.err)
		}
	}
}

func TestMySQLStorage(t *testing.T) {
	dsn := newTestDatabase(t, true)
	h, token := newTestHome(t, StorageConfig{Driver: "mysql", DSN: dsn})
	if h.StaticDir() != "" {
		t.Errorf("StaticDir() = %q for a log in MySQL", h.StaticDir())
	}
	urls := startFrontEnds(t, h, 1)
	want := appendEvents(t, urls, token)
	verifyLog(t, h, urls, want)
	checkReadAPI(t, urls[0])
}

func TestMySQLStorageTwoFrontEnds(t *testing.T) {
	h, token := newTestHome(t, StorageConfig{Driver: "mysql", DSN: newTestDatabase(t, true)})
	urls := startFrontEnds(t, h, 2)
	want := appendEvents(t, urls, token)
	verifyLog(t, h, urls, want)
}

func TestMySQLStorageWithoutSchema(t *testing.T) {
	h, _ := newTestHome(t, StorageConfig{Driver: "mysql", DSN: newTestDatabase(t, false)})
	_, err := New(t.Context(), Options{Home: h})
	if err == nil || !strings.Contains(err.Error(), "storage/mysql/schema.sql") {
		t.Fatalf("New on a database without the schema: %v, want an error naming schema.sql", err)
	}
}

func TestAWSStorage(t *testing.T) {
	dsn := newTestDatabase(t, false)
	endpoint := startVersityGW(t)
	const bucket, prefix = "hegui-audit", "logs/test"
	client := s3.New(s3.Options{
		Region:       defaultS3Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(os.Getenv(S3AccessKeyEnv), os.Getenv(S3SecretKeyEnv), ""),
	})
	if _, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	h, token := newTestHome(t, StorageConfig{Driver: "aws", DSN: dsn, Bucket: bucket, BucketPrefix: prefix, Endpoint: endpoint, PathStyle: true})
	if h.StaticDir() != "" {
		t.Errorf("StaticDir() = %q for a log in S3", h.StaticDir())
	}
	urls := startFrontEnds(t, h, 2)
	want := appendEvents(t, urls, token)
	verifyLog(t, h, urls, want)
	checkReadAPI(t, urls[0])

	// The bucket holds the log under the prefix, ready for any static
	// server: the checkpoint there is the one the read API serves.
	obj, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/checkpoint")})
	if err != nil {
		t.Fatalf("checkpoint object: %v", err)
	}
	inBucket, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if served := httpGet(t, urls[0]+"/checkpoint"); !bytes.Equal(inBucket, served) {
		t.Errorf("checkpoint in the bucket:\n%s\nserved:\n%s", inBucket, served)
	}
	if _, err := client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/tile/0/000")}); err != nil {
		t.Errorf("full tile object: %v", err)
	}

	t.Run("bucket missing", func(t *testing.T) {
		cfg := h.Config
		cfg.Storage.Bucket = "no-such-bucket"
		_, err := New(t.Context(), Options{Home: &Home{Dir: h.Dir, Config: cfg}})
		if err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" at `+endpoint) {
			t.Fatalf("New with a missing bucket: %v", err)
		}
	})
	t.Run("database without the log", func(t *testing.T) {
		cfg := h.Config
		cfg.Storage.DSN = newTestDatabase(t, false)
		_, err := New(t.Context(), Options{Home: &Home{Dir: h.Dir, Config: cfg}})
		if err == nil || !strings.Contains(err.Error(), "has no state for it") {
			t.Fatalf("New with an empty database for a bucket with a log: %v", err)
		}
	})
	t.Run("bucket without the log", func(t *testing.T) {
		cfg := h.Config
		cfg.Storage.BucketPrefix = "logs/other"
		_, err := New(t.Context(), Options{Home: &Home{Dir: h.Dir, Config: cfg}})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("holds a log of %d entries", eventsPerTest)) {
			t.Fatalf("New with a database of a log and a bucket prefix without it: %v", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv(S3SecretKeyEnv, "")
		_, err := New(t.Context(), Options{Home: h})
		if err == nil || !strings.Contains(err.Error(), S3SecretKeyEnv) {
			t.Fatalf("New without a secret key: %v", err)
		}
	})
}

// skipWithoutPeer skips a test whose real peer is missing on a developer's
// machine, and fails it where the peers are required: .ci/run sets
// HEGUI_REQUIRE_PEERS=1, so CI can never pass by skipping these tests.
func skipWithoutPeer(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// newTestDatabase creates a database of its own for the test on the local
// MariaDB, dropped at the end, and returns its DSN. withSchema applies the
// schema of Tessera's MySQL driver from the module cache, as an operator
// applies it from the Tessera release.
func newTestDatabase(t *testing.T, withSchema bool) string {
	t.Helper()
	dsn := peertest.MariaDB(t)
	if withSchema {
		db, err := sql.Open("mysql", dsn+"?multiStatements=true")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(string(tesseraMySQLSchema(t))); err != nil {
			t.Fatalf("apply Tessera's schema.sql: %v", err)
		}
	}
	return dsn
}

// tesseraMySQLSchema reads storage/mysql/schema.sql of the Tessera version
// in go.mod from the module cache.
func tesseraMySQLSchema(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/transparency-dev/tessera").Output()
	if err != nil {
		t.Fatalf("locate the tessera module: %v", err)
	}
	schema, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "storage", "mysql", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// startVersityGW runs versitygw with a POSIX backend in a temporary
// directory, sets the S3 credentials in the environment as an operator
// would, and returns the gateway's URL.
func startVersityGW(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		skipWithoutPeer(t, "versitygw is not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	access, secret := "hegui-test", rand.Text()
	t.Setenv(S3AccessKeyEnv, access)
	t.Setenv(S3SecretKeyEnv, secret)
	var out bytes.Buffer
	cmd := exec.Command(bin, "--port", addr, "--access", access, "--secret", secret, "--quiet", "posix", t.TempDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case err := <-exited:
			t.Fatalf("versitygw exited (%v):\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw is not listening on %s after 30 s:\n%s", addr, out.String())
		}
	}
}

// newTestHome initialises a log home with the storage section cfg, reads
// it back from log.yaml, and issues a token to the writer "test".
func newTestHome(t *testing.T, cfg StorageConfig) (*Home, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Init(dir, InitOptions{Origin: "test.example/" + cfg.Driver, Storage: cfg}); err != nil {
		t.Fatal(err)
	}
	h, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h.Config.Storage != cfg {
		t.Fatalf("log.yaml storage read back as %+v, written as %+v", h.Config.Storage, cfg)
	}
	token, err := AddToken(dir, "test", []string{"storage.*"})
	if err != nil {
		t.Fatal(err)
	}
	return h, token
}

// startFrontEnds runs n servers of the log h, as n machines behind a load
// balancer would, and returns their URLs.
func startFrontEnds(t *testing.T, h *Home, n int) []string {
	t.Helper()
	var urls []string
	for range n {
		srv, err := New(t.Context(), Options{Home: h})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(func() {
			hs.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Close(ctx); err != nil {
				t.Errorf("close front end: %v", err)
			}
		})
		urls = append(urls, hs.URL)
	}
	return urls
}

// appendEvents appends eventsPerTest events through the HTTP write API,
// spread over the front ends at urls and eight concurrent writers, and
// returns the canonical entry of each index the log answered.
func appendEvents(t *testing.T, urls []string, token string) map[uint64][]byte {
	t.Helper()
	var (
		mu   sync.Mutex
		want = map[uint64][]byte{}
		errs []error
		wg   sync.WaitGroup
	)
	next := make(chan int)
	for w := range 8 {
		app, err := translog.NewHTTPAppender(urls[w%len(urls)], token, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range next {
				e := translog.Event{
					Time:    time.Date(2026, 11, 21, 8, 0, 0, i, time.UTC),
					Actor:   fmt.Sprintf("writer-%d", w),
					Action:  "storage.test",
					Object:  fmt.Sprintf("event-%d", i),
					Outcome: translog.OutcomeSuccess,
				}
				entry, err := e.Canonical()
				var idx uint64
				if err == nil {
					idx, err = app.Append(t.Context(), e)
				}
				mu.Lock()
				switch _, dup := want[idx]; {
				case err != nil:
					errs = append(errs, fmt.Errorf("event %d: %w", i, err))
				case dup:
					errs = append(errs, fmt.Errorf("event %d: index %d given twice", i, idx))
				default:
					want[idx] = entry
				}
				mu.Unlock()
			}
		})
	}
	for i := range eventsPerTest {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return want
}

// verifyLog waits until every front end serves a checkpoint of exactly the
// appended entries, then checks the whole tree, each entry and its
// inclusion proof through the read API.
func verifyLog(t *testing.T, h *Home, urls []string, want map[uint64][]byte) {
	t.Helper()
	verifiers, err := h.Verifiers()
	if err != nil {
		t.Fatal(err)
	}
	var first translog.Checkpoint
	for i, u := range urls {
		src, err := logclient.OpenSource(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := logclient.NewClient(src, verifiers)
		if err != nil {
			t.Fatal(err)
		}
		cp := waitForCheckpoint(t, c, uint64(len(want)))
		if cp.Size != uint64(len(want)) {
			t.Fatalf("front end %d: checkpoint of %d entries, %d were appended", i, cp.Size, len(want))
		}
		if i > 0 {
			if !bytes.Equal(cp.Root, first.Root) {
				t.Fatalf("front ends disagree on the root of size %d", cp.Size)
			}
			continue
		}
		first = cp
		rep, err := c.VerifyTree(t.Context(), cp, nil)
		if err != nil {
			t.Fatalf("VerifyTree: %v", err)
		}
		if rep.Entries != cp.Size {
			t.Fatalf("VerifyTree hashed %d entries of %d", rep.Entries, cp.Size)
		}
		for idx, entry := range want {
			got, err := c.Entry(t.Context(), idx, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, entry) {
				t.Fatalf("entry %d is %s, appended %s", idx, got, entry)
			}
			proof, err := c.Inclusion(t.Context(), entry, idx, cp)
			if err != nil {
				t.Fatalf("inclusion of %d: %v", idx, err)
			}
			if _, err := proof.Verify(entry, verifiers); err != nil {
				t.Fatalf("inclusion proof of %d: %v", idx, err)
			}
		}
	}
}

func waitForCheckpoint(t *testing.T, c *logclient.Client, size uint64) translog.Checkpoint {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		cp, err := c.Checkpoint(t.Context())
		if err == nil && cp.Size >= size {
			return cp
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of %d entries within 60 s (last: size %d, %v)", size, cp.Size, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkReadAPI checks what tlog-tiles clients rely on beyond what
// translog reads: a partial tile or bundle holds exactly the width its
// path names, and a missing one is a 404.
func checkReadAPI(t *testing.T, url string) {
	t.Helper()
	if n := len(httpGet(t, url+"/tile/0/000.p/10")); n != 10*32 {
		t.Errorf("tile/0/000.p/10 is %d bytes, want %d", n, 10*32)
	}
	var b api.EntryBundle
	if err := b.UnmarshalText(httpGet(t, url+"/tile/entries/000.p/10")); err != nil {
		t.Fatal(err)
	}
	if len(b.Entries) != 10 {
		t.Errorf("tile/entries/000.p/10 holds %d entries, want 10", len(b.Entries))
	}
	for _, p := range []string{"/tile/0/005", "/tile/entries/005", "/tile/1/000"} {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s of a log of %d entries: %s, want 404", p, eventsPerTest, resp.Status)
		}
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return b
}
