package pii

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/deliver/policy"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/golden"
	"hegui.dev/hegui/mask"
)

// id is a resident ID number with a valid check digit (GB 11643): synthetic,
// made for this test.
const id = "110105199003071239"

// module writes a module whose fixtures hold an ID number, whose README
// names an author's e-mail address, and whose other places hold what the
// stage must not read or must pass over.
func module(t *testing.T, d *delivery.Delivery) {
	d.OutputDir = filepath.Join(d.ModuleDir, "dist")
	t.Setenv("GOPATH", filepath.Join(d.ModuleDir, ".go"))
	deliverytest.WriteFiles(t, d.ModuleDir, map[string]string{
		"go.mod":                 "module example.com/app\n\ngo 1.22\n",
		"main.go":                "package main\n\nfunc main() {}\n",
		"README.md":              "# app\n\nWritten by Li Lei <lilei@example.cn>.\n",
		"testdata/users.json":    `{"name": "张三", "身份证": "` + id + `"}` + "\n",
		"testdata/synthetic.txt": "身份证 " + id + " // pii:ignore\n",
		"vendor/x/y.txt":         "身份证 " + id + "\n",
		"dist/app_v1/report.txt": "身份证 " + id + "\n",
		"web/dist/x.js":          "// 身份证 " + id + "\n", // not the output directory
		"web/vendor/x.js":        "// 身份证 " + id + "\n", // vendored, anywhere
		"web/node_modules/y.js":  "// 身份证 " + id + "\n",
		".go/pkg/mod/m@v1/z.txt": "身份证 " + id + "\n", // a GOPATH in the work tree
	})
}

// TestStage scans the module's files, writes pii.json naming places
// relative to the module, passes over vendor/, the output directory and
// lines marked pii:ignore, and the policy gates on the ID number only.
func TestStage(t *testing.T) {
	d := deliverytest.New(t)
	module(t, d)
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if d.PII == nil || d.PII.Total != 3 {
		t.Fatalf("inventory: %+v", d.PII)
	}
	data, err := os.ReadFile(d.Path(format.PIIJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), d.ModuleDir) || strings.Contains(string(data), id) || strings.Contains(string(data), "lilei@") {
		t.Errorf("pii.json names the machine's directory or holds a value unmasked:\n%s", data)
	}
	golden.Check(t, "pii.json.golden", data)

	vs := policy.PII(d, d.Config.Policy.PII)
	if len(vs) != 2 || vs[0].Rule != "policy.pii" || vs[0].Subject != "testdata/users.json" || vs[1].Subject != "web/dist/x.js" ||
		!strings.Contains(vs[0].Message, "1 idcard (line 1;") || strings.Contains(vs[0].Message, id) || !strings.Contains(vs[0].Remedy, "pii:ignore") {
		t.Errorf("violations: %+v", vs)
	}

	// Warn: a warning, no violation; off: nothing; fail-on all: the
	// e-mail address too.
	d.Config.Policy.PII.Gate = config.Warn
	if vs := policy.PII(d, d.Config.Policy.PII); len(vs) != 0 {
		t.Errorf("warn gate: %v", vs)
	}
	if w := deliverytest.LogOf(d).Warnings; len(w) != 1 || !strings.Contains(w[0], "testdata/users.json") {
		t.Errorf("warn gate warnings: %q", w)
	}
	d.Config.Policy.PII.Gate = config.Off
	if vs := policy.PII(d, d.Config.Policy.PII); len(vs) != 0 {
		t.Errorf("gate off: %v", vs)
	}
	d.Config.Policy.PII = config.PIIPolicy{Gate: config.Fail, FailOn: []string{string(mask.Email), string(mask.IDCard)}}
	if vs := policy.PII(d, d.Config.Policy.PII); len(vs) != 3 || vs[0].Subject != "README.md" {
		t.Errorf("fail-on email,idcard: %+v", vs)
	}
}

// TestExclude: configured patterns are passed over; with the scan off the
// stage skips with a warning.
func TestExclude(t *testing.T) {
	d := deliverytest.New(t)
	module(t, d)
	d.Config.PII.Exclude = []string{"testdata", "web"}
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if d.PII.Total != 1 || d.PII.Findings[0].Kind != mask.Email {
		t.Errorf("with testdata excluded: %+v", d.PII.Findings)
	}

	d = deliverytest.New(t)
	d.Config.PII.Scan = config.Off
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) || skip.Warning == "" {
		t.Errorf("scan off: %v, want a skip with a warning", err)
	}
}
