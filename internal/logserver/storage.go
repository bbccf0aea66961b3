package logserver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
)

// StorageConfig selects and configures a storage driver in log.yaml.
// Fields a driver does not use must stay empty: a log that names a bucket
// but runs on another driver is refused rather than silently ignored.
// Credentials never go here; see docs/audit-log-storage.md.
type StorageConfig struct {
	// Driver is one of Drivers().
	Driver string `yaml:"driver"`
	// Path is the posix driver's directory, relative to the log home.
	Path string `yaml:"path,omitempty"`
	// DSN names the MySQL or MariaDB database of the mysql and aws drivers,
	// in the go-sql-driver/mysql form
	// "user@tcp(db.example.com:3306)/hegui_log?tls=true", without a
	// password: that comes from the HEGUI_LOG_MYSQL_PASSWORD environment
	// variable.
	DSN string `yaml:"dsn,omitempty"`
	// Bucket is the S3 bucket of the aws driver, which holds the tiles,
	// entry bundles and checkpoint.
	Bucket string `yaml:"bucket,omitempty"`
	// BucketPrefix puts the log's objects under a prefix, so that several
	// logs can share a bucket.
	BucketPrefix string `yaml:"bucket-prefix,omitempty"`
	// Endpoint is the URL of an S3-compatible service other than AWS
	// ("https://s3.example.internal:7070"). Empty means AWS itself.
	Endpoint string `yaml:"endpoint,omitempty"`
	// Region is the S3 region; for AWS it overrides AWS_REGION and the
	// shared configuration, for other services it defaults to us-east-1.
	Region string `yaml:"region,omitempty"`
	// PathStyle addresses the bucket as ENDPOINT/BUCKET/KEY instead of
	// BUCKET.ENDPOINT/KEY, as most S3-compatible services need.
	PathStyle bool `yaml:"path-style,omitempty"`
}

// setFields returns the log.yaml names of the fields of c that are set,
// other than driver.
func (c StorageConfig) setFields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"path", c.Path != ""},
		{"dsn", c.DSN != ""},
		{"bucket", c.Bucket != ""},
		{"bucket-prefix", c.BucketPrefix != ""},
		{"endpoint", c.Endpoint != ""},
		{"region", c.Region != ""},
		{"path-style", c.PathStyle},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// onlyFields checks that cfg sets no field outside used, the log.yaml names
// of the fields its driver reads.
func onlyFields(cfg StorageConfig, used ...string) error {
	for _, f := range cfg.setFields() {
		if !slices.Contains(used, f) {
			return fmt.Errorf("storage.%s is not used by the %s driver, which reads only storage.%s: remove it from %s",
				f, cfg.Driver, strings.Join(used, ", storage."), ConfigFile)
		}
	}
	return nil
}

// A backend opens one kind of Tessera storage. To add a storage backend,
// write its check and open functions and add it to backends: nothing else
// changes.
type backend struct {
	// describe says what the driver stores where, for --help and errors.
	describe string
	// check reports what is wrong with cfg without connecting anywhere.
	check func(cfg StorageConfig) error
	// open checks cfg and connects. Resources it holds are released when
	// ctx is cancelled.
	open func(ctx context.Context, home string, cfg StorageConfig) (tessera.Driver, error)
	// staticDir is the directory that holds the tlog-tiles files, when the
	// driver writes them to local disk, so they can be served or read
	// directly; "" when reads go through the driver.
	staticDir func(home string, cfg StorageConfig) string
	// oneServer says that only one server may write the storage at a time:
	// New locks the log home for as long as the server runs.
	oneServer bool
	// pushesBack says that Tessera's driver refuses appends while more
	// than the configured pushback wait for integration, so no request may
	// carry more events than that.
	pushesBack bool
}

var backends = map[string]backend{
	"posix": {
		describe: "entries and tiles as files in a local directory (Tessera POSIX driver)",
		check:    checkPOSIX,
		open: func(ctx context.Context, home string, cfg StorageConfig) (tessera.Driver, error) {
			if err := checkPOSIX(cfg); err != nil {
				return nil, err
			}
			return posix.New(ctx, posix.Config{Path: posixDir(home, cfg)})
		},
		staticDir: posixDir,
		oneServer: true,
	},
	"mysql": {
		describe: "entries and tiles in a MySQL or MariaDB database that several front ends share (Tessera MySQL driver)",
		check:    checkMySQL,
		open:     openMySQL,
	},
	"aws": {
		describe:   "tiles in an S3 bucket, sequencing in a MySQL or MariaDB database (Tessera AWS driver; any S3-compatible service)",
		check:      checkAWS,
		open:       openAWS,
		pushesBack: true,
	},
}

func checkPOSIX(cfg StorageConfig) error {
	if err := onlyFields(cfg, "path"); err != nil {
		return err
	}
	if cfg.Path == "" {
		return fmt.Errorf("storage.path is missing")
	}
	return nil
}

func posixDir(home string, cfg StorageConfig) string {
	if filepath.IsAbs(cfg.Path) {
		return cfg.Path
	}
	return filepath.Join(home, cfg.Path)
}

// Drivers lists the storage drivers this hegui has.
func Drivers() []string {
	var out []string
	for name := range backends {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// DescribeDriver says in one line what a storage driver keeps where, or ""
// for an unknown driver.
func DescribeDriver(name string) string {
	return backends[name].describe
}

func lookupBackend(name string) (backend, error) {
	b, ok := backends[name]
	if !ok {
		return backend{}, fmt.Errorf("storage driver %q is not one of %s", name, strings.Join(Drivers(), ", "))
	}
	return b, nil
}

// Check reports the first problem of a storage section that can be found
// without connecting to anything: an unknown driver, a missing field, a
// field the driver does not use, or a password written into the DSN.
func (c StorageConfig) Check() error {
	b, err := lookupBackend(c.Driver)
	if err != nil {
		return err
	}
	return b.check(c)
}

// StaticDir returns the directory holding the log's tlog-tiles files, or ""
// when the storage driver keeps them elsewhere.
func (h *Home) StaticDir() string {
	b, err := lookupBackend(h.Config.Storage.Driver)
	if err != nil || b.staticDir == nil {
		return ""
	}
	return b.staticDir(h.Dir, h.Config.Storage)
}

// appendLifecycle is what tessera.NewAppender asks of a driver.
type appendLifecycle interface {
	Appender(ctx context.Context, opts *tessera.AppendOptions) (*tessera.Appender, tessera.LogReader, error)
}

// readerOverride is a driver whose reads the server answers through
// another LogReader than the one Tessera returns, where Tessera's does not
// answer the tlog-tiles read API exactly.
type readerOverride struct {
	driver appendLifecycle
	reader func(tessera.LogReader) tessera.LogReader
}

func (d readerOverride) Appender(ctx context.Context, opts *tessera.AppendOptions) (*tessera.Appender, tessera.LogReader, error) {
	a, r, err := d.driver.Appender(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	return a, d.reader(r), nil
}

// exactPartials trims partial tiles and entry bundles to the width asked
// for. A driver that keeps one growing record per tile (Tessera's MySQL
// driver) answers a request for tile/0/000.p/5 with all the hashes it has;
// tlog-tiles promises exactly 5 at that path, strict clients check it, and
// the read API lets caches keep the answer forever.
type exactPartials struct {
	tessera.LogReader
}

func (r exactPartials) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	b, err := r.LogReader.ReadTile(ctx, level, index, p)
	if err != nil || p == 0 {
		return b, err
	}
	n := int(p) * sha256.Size
	if len(b) < n {
		return nil, fmt.Errorf("tile %d/%d holds %d hashes, not %d: %w", level, index, len(b)/sha256.Size, p, fs.ErrNotExist)
	}
	return b[:n], nil
}

func (r exactPartials) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	b, err := r.LogReader.ReadEntryBundle(ctx, index, p)
	if err != nil || p == 0 {
		return b, err
	}
	n, err := bundlePrefix(b, int(p))
	if err != nil {
		return nil, fmt.Errorf("entry bundle %d: %w", index, err)
	}
	return b[:n], nil
}

// bundlePrefix returns the length of the first n entries of a tlog-tiles
// entry bundle: entries of up to 64 KiB, each after its big-endian uint16
// length.
func bundlePrefix(b []byte, n int) (int, error) {
	off := 0
	for i := range n {
		if len(b)-off < 2 {
			return 0, fmt.Errorf("holds %d entries, not %d: %w", i, n, fs.ErrNotExist)
		}
		size := int(binary.BigEndian.Uint16(b[off:]))
		if len(b)-off-2 < size {
			return 0, fmt.Errorf("entry %d is cut short", i)
		}
		off += 2 + size
	}
	return off, nil
}

// partialOrFull reads a partial tile or bundle, and the full one when the
// partial one is gone: a log that completed the tile may have deleted the
// partial copy since the reader's checkpoint was signed.
func partialOrFull(ctx context.Context, p uint8, read func(ctx context.Context, p uint8) ([]byte, error)) ([]byte, error) {
	b, err := read(ctx, p)
	if p > 0 && errors.Is(err, fs.ErrNotExist) {
		return read(ctx, 0)
	}
	return b, err
}
