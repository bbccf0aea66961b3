package cli

import (
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"

	"hegui.dev/hegui/internal/pii"
)

// TestPIIScan runs `hegui pii scan` over fixtures as a repository holds
// them: personal data in a fixture and a log, a synthetic value marked to
// be passed over, an author's address, a binary file and a FIFO.
func TestPIIScan(t *testing.T) {
	r := newRunner(t)
	os.MkdirAll(r.path("repo/testdata"), 0o755)
	os.MkdirAll(r.path("repo/.git"), 0o755)
	r.write("repo/testdata/users.csv", []byte("name,id,phone\n张三,11010519491231002X,13812345678\n李四,44030419900307123X,13912345678\n"))
	r.write("repo/app.log", []byte("2026-12-07 user paid with card 6222021001123456789 from 203.0.113.7\n"))
	r.write("repo/sample_test.go", []byte("var id = \"310115198506152423\" // pii:ignore: a synthetic number\n"))
	r.write("repo/AUTHORS", []byte("Zhang San <zhang.san@hegui.dev>\n"))
	r.write("repo/logo.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR 13812345678"))
	r.write("repo/.git/config", []byte("13812345678\n"))
	if err := syscall.Mkfifo(r.path("repo/pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := r.fails(1, []string{"5 finding(s) of personal information (idcard, mobile, bankcard)"}, "pii", "scan", r.path("repo"))
	res := r.run("pii", "scan", r.path("repo"))
	for _, want := range []string{
		"idcard    2      1      110***********002X  440***********123X",
		"testdata/users.csv:2:8: idcard 110***********002X",
		"testdata/users.csv:3:27: mobile 139****5678",
		"app.log:1:32: bankcard 622202*********6789 (unionpay)",
		"AUTHORS:1:12: email z********@hegui.dev",
		"app.log:1:57: ip 203.0.113.* (public)",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("pii scan lacks %q:\n%s", want, res.stdout)
		}
	}
	for _, leak := range []string{"11010519491231002X", "13812345678", "6222021001123456789", "310115", "zhang.san"} {
		if strings.Contains(res.stdout+res.stderr, leak) {
			t.Errorf("pii scan printed %s as found:\n%s%s", leak, res.stdout, res.stderr)
		}
	}
	if !strings.Contains(stderr, "skipped 1 binary file(s)") || !strings.Contains(stderr, "pipe: not a regular file") {
		t.Errorf("skips not reported:\n%s", stderr)
	}

	// --out and --json: the inventory, masked; --no-fail exits 0.
	res = r.ok("pii", "scan", r.path("repo"), "--json", "--out", r.path("inventory.json"), "--no-fail")
	var inv pii.Inventory
	if err := json.Unmarshal(r.read("inventory.json"), &inv); err != nil || inv.Schema != pii.Schema || inv.Total != 7 || inv.Files != 4 {
		t.Fatalf("inventory: %v %+v", err, inv)
	}
	if !strings.Contains(res.stdout, `"masked": "138****5678"`) || strings.Contains(res.stdout, "13812345678") {
		t.Fatalf("--json:\n%s", res.stdout)
	}
	// Only e-mail and IP addresses: listed, not failed, unless asked.
	r.ok("pii", "scan", r.path("repo/AUTHORS"), r.path("repo/app.log"), "--kinds", "email,ip")
	r.fails(1, []string{"(email)"}, "pii", "scan", r.path("repo/AUTHORS"), "--fail-on", "all")
	r.fails(2, []string{`no kind "ssn"`}, "pii", "scan", "--kinds", "ssn")
	r.fails(2, []string{"--threshold"}, "pii", "scan", "--threshold", "1.5")
	r.fails(1, []string{"no such file"}, "pii", "scan", r.path("missing"))
	// A path named on its own that is not a file is an error, not a pass
	// over nothing.
	r.fails(1, []string{"pipe: not a regular file or a directory", "nothing to scan"}, "pii", "scan", r.path("repo/pipe"))
	r.fails(1, []string{"not a regular file or a directory"}, "pii", "scan", "/dev/zero")
	// Excluded paths are not read.
	r.ok("pii", "scan", r.path("repo"), "--exclude", "testdata", "--exclude", "*.log")
}
