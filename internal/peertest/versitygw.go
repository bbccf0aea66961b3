package peertest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
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
)

// VersityGWInstall is how versitygw, the S3-compatible server the S3 tests
// run against, is installed (.ci/run installs this version).
const VersityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// versityGWRegion is the region the tests' requests are signed for;
// versitygw accepts any.
const versityGWRegion = "us-east-1"

// VersityGW is a versitygw server with its POSIX backend in a temporary
// directory, shared by the tests of one package: the first test that calls
// Start starts it, and the package's TestMain calls Stop after the tests.
// Each test makes a bucket of its own (NewBucket).
//
// Unlike the other peers here, a missing versitygw skips the test, saying
// how to install it, on a developer's machine; where HEGUI_REQUIRE_PEERS=1
// (.ci/run) it fails the test, so CI can never pass by skipping.
type VersityGW struct {
	// Access and Secret are the gateway's root credentials, set by Start.
	Access, Secret string

	once     sync.Once
	skip     string // why there is no gateway: versitygw is not installed
	err      error  // it did not start
	endpoint string
	dir      string
	cmd      *exec.Cmd
	exited   chan error
}

// Start returns the URL of the gateway, starting it on first use, and sets
// the S3 credentials in the environment for the test as an operator would,
// with no AWS configuration of the machine to leak in. The test must not
// run in parallel (it sets environment variables).
func (g *VersityGW) Start(t testing.TB) string {
	t.Helper()
	g.once.Do(g.start)
	if g.skip != "" {
		skipWithoutPeer(t, g.skip)
	}
	if g.err != nil {
		t.Fatal(g.err)
	}
	noAWSConfig(t)
	t.Setenv("AWS_ACCESS_KEY_ID", g.Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", g.Secret)
	return g.endpoint
}

// Client is an S3 client of the started gateway with its root credentials,
// to make buckets and look at them behind a store's back.
func (g *VersityGW) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       versityGWRegion,
		BaseEndpoint: aws.String(g.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(g.Access, g.Secret, ""),
	})
}

// NewBucket creates a bucket of the test's own on the started gateway and
// returns its name, which begins with prefix.
func (g *VersityGW) NewBucket(t testing.TB, prefix string) string {
	t.Helper()
	bucket := prefix + strings.ToLower(rand.Text())
	if _, err := g.Client().CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	return bucket
}

// Stop ends the gateway, if it was started, and removes its directory.
func (g *VersityGW) Stop() {
	if g.cmd != nil && g.cmd.Process != nil {
		g.cmd.Process.Kill()
		<-g.exited
	}
	if g.dir != "" {
		os.RemoveAll(g.dir)
	}
}

// noAWSConfig hides the AWS settings of the machine running the tests.
func noAWSConfig(t testing.TB) {
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE"} {
		t.Setenv(name, "")
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
}

// start runs versitygw and waits until it listens.
func (g *VersityGW) start() {
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		g.skip = "versitygw is not installed: " + VersityGWInstall
		return
	}
	g.err = g.run(bin)
}

func (g *VersityGW) run(bin string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	g.dir, err = os.MkdirTemp("", "versitygw-")
	if err != nil {
		return err
	}
	g.Access, g.Secret = "hegui-test", rand.Text()
	out := new(lockedBuffer)
	g.cmd = exec.Command(bin, "--port", addr, "--access", g.Access, "--secret", g.Secret, "--quiet", "posix", g.dir)
	g.cmd.Stdout, g.cmd.Stderr = out, out
	if err := g.cmd.Start(); err != nil {
		return err
	}
	g.exited = make(chan error, 1)
	go func() { g.exited <- g.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			g.endpoint = "http://" + addr
			return nil
		}
		select {
		case err := <-g.exited:
			g.exited <- err
			return fmt.Errorf("versitygw exited (%v):\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw is not listening on %s after 30 s:\n%s", addr, out)
		}
	}
}

// skipWithoutPeer skips a test whose real peer is missing on a developer's
// machine, and fails it where the peers are required: .ci/run sets
// HEGUI_REQUIRE_PEERS=1, so CI can never pass by skipping.
func skipWithoutPeer(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// lockedBuffer collects the gateway's output, written by the exec package's
// copying goroutine and read when the gateway fails to start.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
