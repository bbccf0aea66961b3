package vet

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/format"
)

// TestVet analyses a module with one gosec finding and writes sast.json
// and sast.sarif; with the analyzers off the stage skips with a warning.
func TestVet(t *testing.T) {
	d := deliverytest.New(t)
	deliverytest.WriteFiles(t, d.ModuleDir, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.22\n",
		"main.go": "package main\n\nimport (\n\t\"crypto/md5\"\n\t\"fmt\"\n)\n\nfunc main() { fmt.Println(md5.Sum(nil)) }\n",
	})
	if err := (Stage{}).Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if d.SAST == nil || d.SAST.Summary.Total == 0 {
		t.Fatalf("no findings: %+v", d.SAST)
	}
	data, err := os.ReadFile(d.Path(format.SASTJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"rule": "G401"`) {
		t.Errorf("sast.json does not report G401 (weak hash):\n%s", data)
	}
	if _, err := os.Stat(d.Path(format.SASTSARIFFile)); err != nil {
		t.Error(err)
	}

	d = deliverytest.New(t)
	d.Config.StaticAnalysis.Analyzers = config.Off
	var skip *delivery.SkipError
	if err := (Stage{}).Run(context.Background(), d); !errors.As(err, &skip) || skip.Warning == "" {
		t.Errorf("analyzers off: %v, want a skip with a warning", err)
	}
}
