package modstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Config says where an S3 store keeps its objects. Credentials are found
// the way every AWS tool finds them: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), then the shared
// configuration files (AWS_PROFILE); on AWS itself, then the instance or
// task role.
type S3Config struct {
	// Bucket is the bucket's name. It must exist.
	Bucket string
	// Prefix, if set, is a key prefix inside the bucket ("proxy/prod"):
	// the store's key K is the object PREFIX/K.
	Prefix string
	// Endpoint is the URL of an S3-compatible service (versitygw, MinIO,
	// Ceph); empty for AWS S3.
	Endpoint string
	// Region is the region requests are signed for. Empty means the AWS
	// configuration's region, or us-east-1 for an Endpoint, which most
	// S3-compatible services accept whatever it is.
	Region string
	// PathStyle puts the bucket in the URL's path rather than its host
	// name, as most S3-compatible services need.
	PathStyle bool
}

// defaultS3Region is the region signed for when an S3-compatible service
// is configured without one.
const defaultS3Region = "us-east-1"

// responseHeaderTimeout bounds the wait for a response once a request has
// been sent, so that a service that accepts a connection and never answers
// does not hold a call whose context has no deadline forever. It starts
// after the request body is sent, so a large upload is not cut short; the
// SDK's retryer then tries again.
const responseHeaderTimeout = time.Minute

// maxMemorySpool is the largest body written to S3 from memory; a larger
// one is spooled to a temporary file, since PutObject needs a body it can
// rewind (to sign it and to retry) and whose length it knows.
const maxMemorySpool = 8 << 20

// conditionalConflict is the error code of a 409 response to a conditional
// write: another write of the key was in progress. It says nothing about
// whether the key holds an object, and S3's documentation says to retry.
const conditionalConflict = "ConditionalRequestConflict"

// S3 is a Store in an S3 bucket, on AWS or on an S3-compatible service.
// Every write is one PutObject, which S3 makes visible whole or not at
// all. Create relies on the service honouring the conditional write
// (If-None-Match: *) to refuse, atomically, a key that holds an object: AWS
// S3 does, and so does versitygw, which the tests run against. A service
// that ignored the header would let Create overwrite an object.
type S3 struct {
	client         *s3.Client
	bucket, prefix string
	endpoint       string
}

// NewS3 returns the store cfg describes, after checking that the
// credentials are found and the bucket exists.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("S3 store: the bucket is not set")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return nil, fmt.Errorf("S3 store: bucket prefix %q is not valid", cfg.Prefix)
		}
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("S3 store: endpoint %q is not an http or https URL", cfg.Endpoint)
		}
	}
	sdk, err := loadS3Config(ctx, cfg)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(sdk, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	s := &S3{
		client:   client,
		bucket:   cfg.Bucket,
		prefix:   prefix,
		endpoint: cfg.Endpoint,
	}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return s, nil
}

// loadS3Config loads the AWS SDK configuration for cfg and checks that it
// has a region and credentials.
func loadS3Config(ctx context.Context, cfg S3Config) (aws.Config, error) {
	load := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = responseHeaderTimeout
		})),
	}
	if cfg.Region != "" {
		load = append(load, config.WithRegion(cfg.Region))
	}
	if cfg.Endpoint != "" {
		load = append(load,
			// The keys of an S3-compatible service never come from an EC2
			// instance role; asking the instance metadata service for them
			// only makes missing credentials slow to report.
			config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
			// The SDK's default CRC checksums on every upload are not
			// understood by all S3-compatible services, and every stored
			// module file is checked against its record's SHA-256 when read.
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		)
	}
	sdk, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("S3 store: load the AWS configuration: %w", err)
	}
	if sdk.Region == "" {
		if cfg.Endpoint == "" {
			return aws.Config{}, errors.New("S3 store: no AWS region: set the store's region, or AWS_REGION")
		}
		sdk.Region = defaultS3Region
	}
	if sdk.Credentials == nil {
		return aws.Config{}, errors.New("S3 store: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
	}
	if _, err := sdk.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("S3 store: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE: %w", err)
	}
	return sdk, nil
}

// String implements Store.
func (s *S3) String() string {
	name := "s3 bucket " + s.bucket
	if s.prefix != "" {
		name += "/" + s.prefix
	}
	if s.endpoint != "" {
		name += " at " + s.endpoint
	}
	return name
}

// objectKey maps a store key to its object's key in the bucket, refusing
// the keys Dir refuses, so that a key is valid for every Store or for none.
func (s *S3) objectKey(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if s.prefix == "" {
		return key, nil
	}
	return s.prefix + "/" + key, nil
}

// s3URL names an object in messages.
func (s *S3) s3URL(objectKey string) string {
	return "s3://" + s.bucket + "/" + objectKey
}

type s3Object struct {
	io.ReadCloser
	size int64
}

func (o s3Object) Size() int64 { return o.size }

// Open implements Store. Reading the object is bounded by ctx, which must
// last until the object is closed.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if isNotFound(err) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", s.s3URL(k), err)
	}
	return s3Object{out.Body, aws.ToInt64(out.ContentLength)}, nil
}

// Create implements Store. The write is conditional (If-None-Match: *), so
// the service refuses it, atomically, when the key holds an object.
func (s *S3) Create(ctx context.Context, key string, r io.Reader) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	err = s.put(ctx, k, r, true)
	switch {
	case err == nil:
		return nil
	case isPreconditionFailed(err):
		return fmt.Errorf("%s: %w", key, ErrExist)
	case hasErrorCode(err, conditionalConflict):
		return fmt.Errorf("put %s: other writes of the object kept conflicting with this one; try again: %w", s.s3URL(k), err)
	}
	return fmt.Errorf("put %s: %w", s.s3URL(k), err)
}

// Replace implements Store.
func (s *S3) Replace(ctx context.Context, key string, r io.Reader) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	if err := s.put(ctx, k, r, false); err != nil {
		return fmt.Errorf("put %s: %w", s.s3URL(k), err)
	}
	return nil
}

// put stores the content of r as the object k, only if k holds no object
// when exclusive is set. The SDK retries a conditional write that
// conflicted with another one (409), as S3's documentation says to: the
// other write may fail, and only a retry tells whether k holds an object.
func (s *S3) put(ctx context.Context, k string, r io.Reader, exclusive bool) error {
	body, size, cleanup, err := spool(ctx, r)
	if err != nil {
		return err
	}
	defer cleanup()
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(k),
		Body:          body,
		ContentLength: aws.Int64(size),
	}
	var opts []func(*s3.Options)
	if exclusive {
		in.IfNoneMatch = aws.String("*")
		opts = append(opts, retryConflicts)
	}
	_, err = s.client.PutObject(ctx, in, opts...)
	return err
}

// retryConflicts makes the SDK's retryer retry a conditional write that
// conflicted with another one.
func retryConflicts(o *s3.Options) {
	o.Retryer = retry.AddWithErrorCodes(o.Retryer, conditionalConflict)
}

// spool reads r whole, stopping when ctx ends, into a body PutObject can
// rewind: memory for up to maxMemorySpool bytes, a temporary file beyond.
// cleanup removes the file.
func spool(ctx context.Context, r io.Reader) (body io.ReadSeeker, size int64, cleanup func(), err error) {
	r = ctxReader{ctx, r}
	head, err := io.ReadAll(io.LimitReader(r, maxMemorySpool+1))
	if err != nil {
		return nil, 0, nil, err
	}
	if len(head) <= maxMemorySpool {
		return bytes.NewReader(head), int64(len(head)), func() {}, nil
	}
	f, err := os.CreateTemp("", "hegui-modstore-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("spool an object to upload: %w", err)
	}
	cleanup = func() {
		f.Close()
		os.Remove(f.Name())
	}
	n, err := io.Copy(f, io.MultiReader(bytes.NewReader(head), r))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return f, n, cleanup, nil
}

// List implements Store. Keys ending in "/" (the markers some tools create
// for directories) and hidden names are left out, as Dir leaves them out:
// a directory store copied into a bucket may hold Dir's temporary files.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("store prefix %q does not end in /", prefix)
	}
	full := ""
	if prefix != "" {
		k, err := s.objectKey(strings.TrimSuffix(prefix, "/"))
		if err != nil {
			return nil, err
		}
		full = k + "/"
	} else if s.prefix != "" {
		full = s.prefix + "/"
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:    aws.String(s.bucket),
		Prefix:    aws.String(full),
		Delimiter: aws.String("/"),
	})
	var names []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.s3URL(full), err)
		}
		for _, obj := range page.Contents {
			name, ok := strings.CutPrefix(aws.ToString(obj.Key), full)
			if ok && name != "" && !strings.Contains(name, "/") && !strings.HasPrefix(name, ".") {
				names = append(names, name)
			}
		}
	}
	return names, nil
}

// ListAll implements Store.
func (s *S3) ListAll(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" || !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("store prefix %q does not end in /", prefix)
	}
	k, err := s.objectKey(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return nil, err
	}
	full := k + "/"
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(full),
	})
	var keys []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.s3URL(full), err)
		}
		for _, obj := range page.Contents {
			name, ok := strings.CutPrefix(aws.ToString(obj.Key), full)
			if ok && name != "" && checkKey(name) == nil {
				keys = append(keys, name)
			}
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete implements Store. S3 deletes whether or not the key holds an
// object, so Delete asks first to report ErrNotExist; a concurrent Delete
// of the same key between the two requests makes both succeed.
func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	_, err = s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if isNotFound(err) {
		return fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("head %s: %w", s.s3URL(k), err)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)}); err != nil {
		return fmt.Errorf("delete %s: %w", s.s3URL(k), err)
	}
	return nil
}

// apiError and httpStatusError are the methods of the SDK's smithy.APIError
// and ResponseError that tell S3's answers apart.
type (
	apiError        interface{ ErrorCode() string }
	httpStatusError interface{ HTTPStatusCode() int }
)

func hasErrorCode(err error, code string) bool {
	var api apiError
	return errors.As(err, &api) && api.ErrorCode() == code
}

func hasStatus(err error, status int) bool {
	var resp httpStatusError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == status
}

// isNotFound reports a missing object: NoSuchKey from GetObject, a bare 404
// from HeadObject, which has no body to hold a code. A missing bucket is a
// configuration error, not a missing object, but only GetObject's answer
// tells them apart; NewS3 checked that the bucket exists.
func isNotFound(err error) bool {
	if err == nil || hasErrorCode(err, "NoSuchBucket") {
		return false
	}
	return hasErrorCode(err, "NoSuchKey") || hasStatus(err, http.StatusNotFound)
}

// isPreconditionFailed reports a conditional write refused because the key
// holds an object.
func isPreconditionFailed(err error) bool {
	return hasErrorCode(err, "PreconditionFailed") || hasStatus(err, http.StatusPreconditionFailed)
}
