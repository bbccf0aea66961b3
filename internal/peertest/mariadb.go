package peertest

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the MariaDB client the storage drivers use
)

// MariaDBSocket is where .ci/run's MariaDB listens; root connects over it
// without a password.
const MariaDBSocket = "/run/mysqld/mysqld.sock"

// MariaDB creates a database of the test's own on the local MariaDB,
// dropped when the test ends, and returns its DSN (root over the socket).
// Where MariaDB is missing or not running the test fails under
// HEGUI_REQUIRE_PEERS=1 (as in CI) and is skipped otherwise.
func MariaDB(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("mariadbd"); err != nil {
		if _, err := os.Stat("/usr/sbin/mariadbd"); err != nil {
			skipOrFail(t, "MariaDB is not installed (no mariadbd): apt-get install mariadb-server and start it as .ci/run does")
		}
	}
	if c, err := net.DialTimeout("unix", MariaDBSocket, time.Second); err != nil {
		skipOrFail(t, fmt.Sprintf("MariaDB is installed but not running (%v): start it as .ci/run does", err))
	} else {
		c.Close()
	}
	admin, err := sql.Open("mysql", "root@unix("+MariaDBSocket+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "hegui_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database as root over %s: %v", MariaDBSocket, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", "root@unix("+MariaDBSocket+")/")
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return "root@unix(" + MariaDBSocket + ")/" + name
}

// skipOrFail skips a test whose peer is missing on a developer's machine
// and fails it where the peers are required.
func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("HEGUI_REQUIRE_PEERS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}
