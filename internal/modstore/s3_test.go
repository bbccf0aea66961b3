package modstore

// The S3 store is tested against a real S3-compatible service: versitygw
// with its POSIX backend (go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0), started once for the
// package's tests, each of which makes a bucket of its own. A test skips,
// saying why, only when versitygw is not installed, and fails instead
// where HEGUI_REQUIRE_PEERS=1 (.ci/run), so CI can never pass by skipping.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hegui.dev/hegui/internal/peertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	gateway.Stop()
	os.Exit(code)
}

// gateway is the versitygw the package's tests share, started by the first
// test that needs it.
var gateway peertest.VersityGW

// startVersityGW returns the URL of the shared versitygw, starting it on
// first use, and sets the S3 credentials in the environment for the test.
func startVersityGW(t *testing.T) string {
	t.Helper()
	return gateway.Start(t)
}

func TestS3Store(t *testing.T) {
	endpoint := startVersityGW(t)
	client := gateway.Client()
	bucket := gateway.NewBucket(t, "modstore-")
	ctx := t.Context()
	s, err := NewS3(ctx, S3Config{Bucket: bucket, Prefix: "/proxy/store/", Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
	if want := "s3 bucket " + bucket + "/proxy/store at " + endpoint; s.String() != want {
		t.Errorf("String() = %q, want %q", s.String(), want)
	}

	// The objects are under the prefix in the bucket, where a store
	// without a prefix finds them.
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("proxy/store/create/a")}); err != nil {
		t.Errorf("object under the prefix: %v", err)
	}
	whole, err := NewS3(ctx, S3Config{Bucket: bucket, Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	checkContent(t, whole, "proxy/store/create/a", "first create/a")
	if names, err := whole.List(ctx, ""); err != nil || len(names) != 0 {
		t.Errorf("List(\"\") of the bucket with objects under proxy/ only = %q, %v", names, err)
	}
	if want := "s3 bucket " + bucket + " at " + endpoint; whole.String() != want {
		t.Errorf("String() = %q, want %q", whole.String(), want)
	}

	// List leaves out what a directory store copied into the bucket would
	// bring (its temporary files) and directory markers, and the store
	// sees nothing outside its prefix.
	for _, key := range []string{"proxy/store/hidden/.v1.0.0.zip.tmp-123", "proxy/store/hidden/v1.0.0.zip", "proxy/store/hidden/sub/", "proxy/storeX/hidden/v2.0.0.zip", "proxy/store/top"} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("")}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	if names, err := s.List(ctx, "hidden/"); err != nil || !slices.Equal(names, []string{"v1.0.0.zip"}) {
		t.Errorf("List with a temporary file and a directory marker = %q, %v, want [v1.0.0.zip]", names, err)
	}
	if names, err := s.List(ctx, ""); err != nil || !slices.Equal(names, []string{"top"}) {
		t.Errorf("List(\"\") = %q, %v, want [top]", names, err)
	}
}

// TestS3LargeObjects writes objects larger than the store keeps in memory,
// which go through a temporary file that must not outlive the write.
func TestS3LargeObjects(t *testing.T) {
	endpoint := startVersityGW(t)
	bucket := gateway.NewBucket(t, "modstore-")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx := t.Context()
	s, err := NewS3(ctx, S3Config{Bucket: bucket, Endpoint: endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{maxMemorySpool, maxMemorySpool + 1, 3*maxMemorySpool + 12345} {
		data := make([]byte, size)
		rand.Read(data)
		key := fmt.Sprintf("large/%d", size)
		// io.MultiReader hides the bytes.Reader, so the store can not
		// take its length or seek it.
		if err := s.Create(ctx, key, io.MultiReader(bytes.NewReader(data))); err != nil {
			t.Fatalf("Create of %d bytes: %v", size, err)
		}
		checkDigest(t, s, key, data)
		if err := s.Create(ctx, key, io.MultiReader(bytes.NewReader(data[:10]))); !errors.Is(err, ErrExist) {
			t.Errorf("Create of %d bytes again: %v, want ErrExist", size, err)
		}
		data[0] ^= 0xff
		if err := s.Replace(ctx, key, io.MultiReader(bytes.NewReader(data))); err != nil {
			t.Fatalf("Replace of %d bytes: %v", size, err)
		}
		checkDigest(t, s, key, data)
	}

	// Cancelled while spooling to the temporary file.
	cctx, cancel := context.WithCancel(ctx)
	r := &cancellingReader{r: bytes.NewReader(make([]byte, 2*maxMemorySpool)), after: maxMemorySpool + 1<<20, cancel: cancel}
	if err := s.Create(cctx, "large/cancelled", r); !errors.Is(err, context.Canceled) {
		t.Errorf("Create cancelled while spooling: %v, want context.Canceled", err)
	}
	if _, err := s.Open(ctx, "large/cancelled"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Open after a cancelled Create: %v, want ErrNotExist", err)
	}

	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("temporary file left behind: %s", e.Name())
	}
}

// checkDigest checks that key holds data, comparing digests rather than
// printing megabytes.
func checkDigest(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	obj, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer obj.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	if want := sha256.Sum256(data); n != int64(len(data)) || obj.Size() != n || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("%q holds %d bytes (size %d) that differ from the %d written", key, n, obj.Size(), len(data))
	}
}

func TestNewS3Errors(t *testing.T) {
	endpoint := startVersityGW(t)
	bucket := gateway.NewBucket(t, "modstore-")
	ok := S3Config{Bucket: bucket, Endpoint: endpoint, PathStyle: true}
	for _, tc := range []struct {
		name   string
		edit   func(*S3Config)
		env    map[string]string
		wantIn string
	}{
		{"no bucket", func(c *S3Config) { c.Bucket = "" }, nil, "bucket is not set"},
		{"missing bucket", func(c *S3Config) { c.Bucket = "no-such-bucket" }, nil, "s3 bucket no-such-bucket at " + endpoint},
		{"bad prefix", func(c *S3Config) { c.Prefix = "a/../b" }, nil, `prefix "a/../b" is not valid`},
		{"bad endpoint", func(c *S3Config) { c.Endpoint = "ftp://" + strings.TrimPrefix(endpoint, "http://") }, nil, "not an http or https URL"},
		{"no credentials", func(*S3Config) {}, map[string]string{"AWS_SECRET_ACCESS_KEY": ""}, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{"wrong secret", func(*S3Config) {}, map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong"}, "s3 bucket " + bucket + " at " + endpoint},
		{"profile missing", func(*S3Config) {}, map[string]string{"AWS_PROFILE": "no-such-profile"}, "load the AWS configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg := ok
			tc.edit(&cfg)
			_, err := NewS3(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("NewS3: %v, want an error saying %q", err, tc.wantIn)
			}
		})
	}
	t.Run("bucket removed", func(t *testing.T) {
		s := &S3{client: gateway.Client(), bucket: "no-such-bucket", endpoint: endpoint}
		if _, err := s.Open(t.Context(), "a"); err == nil || errors.Is(err, ErrNotExist) {
			t.Errorf("Open in a missing bucket: %v, want an error other than ErrNotExist", err)
		}
	})
}

// TestS3CreateConflict checks what Create makes of a 409
// ConditionalRequestConflict, which AWS S3 answers when another write of
// the key is in progress and versitygw, which serialises conditional
// writes, never does; a stand-in for S3 answers it here.
func TestS3CreateConflict(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []int // to the successive PUTs; the last one repeats
		want    error // nil, ErrExist, or errConflict
	}{
		{"other write failed", []int{http.StatusConflict, http.StatusOK}, nil},
		{"other write succeeded", []int{http.StatusConflict, http.StatusPreconditionFailed}, ErrExist},
		{"conflicts persist", []int{http.StatusConflict}, errConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var puts atomic.Int32
			var bodies sync.Map
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPut || r.Header.Get("If-None-Match") != "*" {
					http.Error(w, "unexpected "+r.Method+" without If-None-Match: *", http.StatusBadRequest)
					return
				}
				body, _ := io.ReadAll(r.Body)
				n := int(puts.Add(1))
				bodies.Store(string(body), true)
				switch status := tc.answers[min(n, len(tc.answers))-1]; status {
				case http.StatusOK:
					w.Header().Set("ETag", `"etag"`)
				case http.StatusConflict:
					s3ErrorResponse(w, status, conditionalConflict)
				case http.StatusPreconditionFailed:
					s3ErrorResponse(w, status, "PreconditionFailed")
				}
			}))
			defer srv.Close()
			s := &S3{client: s3.New(s3.Options{
				Region:       defaultS3Region,
				BaseEndpoint: aws.String(srv.URL),
				UsePathStyle: true,
				Credentials:  credentials.NewStaticCredentialsProvider("a", "b", ""),
			}), bucket: "b", endpoint: srv.URL}

			err := s.Create(t.Context(), "k", strings.NewReader("content"))
			switch {
			case tc.want == errConflict:
				if err == nil || errors.Is(err, ErrExist) || !strings.Contains(err.Error(), "try again") {
					t.Errorf("Create: %v, want a conflict to try again", err)
				}
			case !errors.Is(err, tc.want):
				t.Errorf("Create: %v, want %v", err, tc.want)
			}
			if n := puts.Load(); n < 2 {
				t.Errorf("%d PUT, want the conflicting write retried", n)
			}
			bodies.Range(func(k, _ any) bool {
				if k != "content" {
					t.Errorf("a retry sent %q", k)
				}
				return true
			})
		})
	}
}

// errConflict stands for the error of a conditional write that kept
// conflicting.
var errConflict = errors.New("conflict")

func s3ErrorResponse(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}
