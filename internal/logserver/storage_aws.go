package logserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	taws "github.com/transparency-dev/tessera/storage/aws"
)

// The environment variables holding the S3 credentials for a service set
// with storage.endpoint, named as every S3 tool names them. On AWS itself
// (no endpoint) the SDK's usual chain applies instead: these variables,
// the shared configuration files, then the instance or task role.
const (
	S3AccessKeyEnv    = "AWS_ACCESS_KEY_ID"
	S3SecretKeyEnv    = "AWS_SECRET_ACCESS_KEY"
	s3SessionTokenEnv = "AWS_SESSION_TOKEN"
)

// defaultS3Region is the region signed for when an S3-compatible service
// is configured without one; most of them accept any region.
const defaultS3Region = "us-east-1"

var awsFields = []string{"dsn", "bucket", "bucket-prefix", "endpoint", "region", "path-style"}

func checkAWS(cfg StorageConfig) error {
	if err := onlyFields(cfg, awsFields...); err != nil {
		return err
	}
	if cfg.Bucket == "" {
		return errors.New("storage.bucket is missing")
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("storage.endpoint %q is not an http or https URL", cfg.Endpoint)
		}
	}
	_, err := parseDSN(cfg.DSN)
	return err
}

func openAWS(ctx context.Context, _ string, cfg StorageConfig) (tessera.Driver, error) {
	if err := checkAWS(cfg); err != nil {
		return nil, err
	}
	mc, err := mysqlConfig(cfg.DSN)
	if err != nil {
		return nil, err
	}
	sdk, s3Options, err := s3Settings(ctx, cfg)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(sdk, s3Options)
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, fmt.Errorf("bucket %q%s: %w", cfg.Bucket, endpointNote(cfg), err)
	}
	reader := &s3Reader{client: client, bucket: cfg.Bucket, prefix: cfg.BucketPrefix}
	if err := checkAWSState(ctx, mc, reader); err != nil {
		return nil, err
	}
	tc := taws.Config{
		Bucket:       cfg.Bucket,
		BucketPrefix: cfg.BucketPrefix,
		DSN:          mc.FormatDSN(),
	}
	// Tessera loads the default AWS configuration itself when given none,
	// which is its supported setup; anything else it logs as "non-AWS
	// mode".
	if cfg.Endpoint != "" || cfg.Region != "" || cfg.PathStyle {
		tc.SDKConfig, tc.S3Options = &sdk, s3Options
	}
	d, err := taws.New(ctx, tc)
	if err != nil {
		return nil, err
	}
	lc, ok := d.(appendLifecycle)
	if !ok {
		return nil, fmt.Errorf("tessera's aws driver %T cannot append", d)
	}
	return readerOverride{driver: lc, reader: func(r tessera.LogReader) tessera.LogReader {
		reader.LogReader = r
		// A partial tile the reader's checkpoint names may have been
		// replaced by the full one; serve its prefix, as the path promises.
		return exactPartials{reader}
	}}, nil
}

// checkAWSState refuses to start when the database and the bucket do not
// hold the same log. Given an empty database for a bucket that holds a log,
// Tessera would start a new tree and publish its checkpoint over the old
// one, a rollback every client detects; given a database with entries and
// a bucket without them (a wrong bucket or prefix), it would sign
// checkpoints whose tiles nobody can read.
func checkAWSState(ctx context.Context, mc *mysql.Config, r *s3Reader) error {
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return fmt.Errorf("storage.dsn: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to the database of storage.dsn (password from %s): %w", MySQLPasswordEnv, err)
	}
	var tables int
	if err := db.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'IntCoord'", mc.DBName).Scan(&tables); err != nil {
		return fmt.Errorf("database %s: %w", mc.DBName, err)
	}
	var size uint64
	inDB := false
	if tables > 0 {
		switch err := db.QueryRowContext(ctx, "SELECT seq FROM IntCoord WHERE id = 0").Scan(&size); {
		case err == nil:
			inDB = true
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("database %s: %w", mc.DBName, err)
		}
	}
	_, err = r.ReadCheckpoint(ctx)
	inBucket := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	switch {
	case inBucket && !inDB:
		return fmt.Errorf("s3://%s/%s holds a log but database %s has no state for it: restore the log's database, or point storage.dsn at it",
			r.bucket, path.Join(r.prefix, layout.CheckpointPath), mc.DBName)
	case !inBucket && inDB && size > 0:
		return fmt.Errorf("database %s holds a log of %d entries but s3://%s/%s does not exist: check storage.bucket and storage.bucket-prefix",
			mc.DBName, size, r.bucket, path.Join(r.prefix, layout.CheckpointPath))
	}
	return nil
}

func endpointNote(cfg StorageConfig) string {
	if cfg.Endpoint == "" {
		return ""
	}
	return " at " + cfg.Endpoint
}

// s3Settings returns the AWS SDK configuration and S3 options for cfg.
func s3Settings(ctx context.Context, cfg StorageConfig) (aws.Config, func(*s3.Options), error) {
	if cfg.Endpoint == "" {
		var load []func(*config.LoadOptions) error
		if cfg.Region != "" {
			load = append(load, config.WithRegion(cfg.Region))
		}
		sdk, err := config.LoadDefaultConfig(ctx, load...)
		if err != nil {
			return aws.Config{}, nil, fmt.Errorf("load the AWS configuration: %w", err)
		}
		return sdk, func(o *s3.Options) { o.UsePathStyle = cfg.PathStyle }, nil
	}
	key, secret := os.Getenv(S3AccessKeyEnv), os.Getenv(S3SecretKeyEnv)
	if key == "" || secret == "" {
		return aws.Config{}, nil, fmt.Errorf("storage.endpoint is set: put the S3 access key in %s and the secret key in %s", S3AccessKeyEnv, S3SecretKeyEnv)
	}
	region := cfg.Region
	if region == "" {
		region = defaultS3Region
	}
	sdk := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, os.Getenv(s3SessionTokenEnv)),
		// The SDK's default CRC checksums on every upload are not
		// understood by all S3-compatible services; the Merkle tree
		// already proves every tile and bundle read back.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return sdk, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
		o.UsePathStyle = cfg.PathStyle
	}, nil
}

// s3Reader answers the read API from the bucket. Tessera's own AWS reader
// reports a missing tile with an error that no longer matches
// fs.ErrNotExist, so the server would answer 500 where tlog-tiles clients
// need 404, and would not fall back from a garbage-collected partial tile to
// the full one.
type s3Reader struct {
	tessera.LogReader // NextIndex and IntegratedSize, from the database
	client            *s3.Client
	bucket, prefix    string
}

func (r *s3Reader) get(ctx context.Context, name string) ([]byte, error) {
	key := name
	if r.prefix != "" {
		key = path.Join(r.prefix, name)
	}
	out, err := r.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(key)})
	if err != nil {
		var missing *types.NoSuchKey
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("s3://%s/%s: %w", r.bucket, key, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("s3://%s/%s: %w", r.bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", r.bucket, key, err)
	}
	return b, nil
}

func (r *s3Reader) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return r.get(ctx, layout.CheckpointPath)
}

func (r *s3Reader) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	return partialOrFull(ctx, p, func(ctx context.Context, p uint8) ([]byte, error) {
		return r.get(ctx, layout.TilePath(level, index, p))
	})
}

func (r *s3Reader) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	return partialOrFull(ctx, p, func(ctx context.Context, p uint8) ([]byte, error) {
		return r.get(ctx, layout.EntriesPath(index, p))
	})
}
