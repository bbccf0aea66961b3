package logserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/tessera"
	tmysql "github.com/transparency-dev/tessera/storage/mysql"
)

// MySQLPasswordEnv names the environment variable holding the password of
// the database user in storage.dsn, for the mysql and aws drivers. The DSN
// in log.yaml must not carry one: log.yaml is copied to every front end and
// into backups, and is readable by all.
const MySQLPasswordEnv = "HEGUI_LOG_MYSQL_PASSWORD"

// mysqlSchemaTables are the tables of Tessera's storage/mysql/schema.sql,
// which the operator applies before the first start: Tessera's MySQL
// driver does not create them.
var mysqlSchemaTables = []string{"Tessera", "Checkpoint", "TreeState", "Subtree", "TiledLeaves"}

// connMaxLifetime recycles database connections before a server or a
// proxy between closes them for being idle (go-sql-driver/mysql's advice).
const connMaxLifetime = 3 * time.Minute

func checkMySQL(cfg StorageConfig) error {
	if err := onlyFields(cfg, "dsn"); err != nil {
		return err
	}
	_, err := parseDSN(cfg.DSN)
	return err
}

// parseDSN parses storage.dsn, which must name a database and carry no
// password.
func parseDSN(dsn string) (*mysql.Config, error) {
	if dsn == "" {
		return nil, errors.New("storage.dsn is missing: name the database as user@tcp(host:3306)/dbname")
	}
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("storage.dsn: %w", err)
	}
	if c.Passwd != "" {
		return nil, fmt.Errorf("storage.dsn carries a password: remove it from %s and set %s instead", ConfigFile, MySQLPasswordEnv)
	}
	if c.DBName == "" {
		return nil, errors.New("storage.dsn names no database: end it with /dbname (each log needs a database of its own)")
	}
	return c, nil
}

// mysqlConfig is storage.dsn with the password from the environment.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	c, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	c.Passwd = os.Getenv(MySQLPasswordEnv)
	return c, nil
}

func openMySQL(ctx context.Context, _ string, cfg StorageConfig) (tessera.Driver, error) {
	if err := checkMySQL(cfg); err != nil {
		return nil, err
	}
	mc, err := mysqlConfig(cfg.DSN)
	if err != nil {
		return nil, err
	}
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("storage.dsn: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetConnMaxLifetime(connMaxLifetime)
	if err := checkMySQLSchema(ctx, db, mc.DBName); err != nil {
		db.Close()
		return nil, err
	}
	d, err := tmysql.New(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	// The driver's background work ends with ctx; the connections go with it.
	context.AfterFunc(ctx, func() { db.Close() })
	return readerOverride{driver: d, reader: func(r tessera.LogReader) tessera.LogReader { return exactPartials{r} }}, nil
}

// checkMySQLSchema connects and checks that the database holds Tessera's
// MySQL schema, so that a missing schema step is reported as one.
func checkMySQLSchema(ctx context.Context, db *sql.DB, dbName string) error {
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to the database of storage.dsn (password from %s): %w", MySQLPasswordEnv, err)
	}
	var n int
	err := db.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?, ?, ?, ?)",
		dbName, mysqlSchemaTables[0], mysqlSchemaTables[1], mysqlSchemaTables[2], mysqlSchemaTables[3], mysqlSchemaTables[4]).Scan(&n)
	if err != nil {
		return fmt.Errorf("database %s: %w", dbName, err)
	}
	if n != len(mysqlSchemaTables) {
		return fmt.Errorf("database %s does not hold Tessera's MySQL schema: apply storage/mysql/schema.sql of github.com/transparency-dev/tessera %s to it first (see docs/audit-log-storage.md)",
			dbName, tesseraVersion())
	}
	return nil
}

// tesseraVersion is the version of Tessera this program is built with,
// whose schema.sql an operator must apply.
func tesseraVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/transparency-dev/tessera" {
				return m.Version
			}
		}
	}
	return "(the version in hegui's go.mod)"
}
