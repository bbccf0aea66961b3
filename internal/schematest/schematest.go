// Package schematest validates the documents hegui writes against the
// official JSON schemas: SPDX 2.3 (kept in internal/deliver/sbom/testdata)
// and CycloneDX 1.6 (read from the cyclonedx-go module, which ships it).
// It is for tests only.
package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	once      sync.Once
	spdx, cdx *jsonschema.Schema
	loadErr   error
)

// moduleRoot is the hegui repository root, found from this file's path.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func load() {
	c := jsonschema.NewCompiler()
	add := func(url, path string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return err
		}
		return c.AddResource(url, doc)
	}
	spdxPath := filepath.Join(moduleRoot(), "internal", "deliver", "sbom", "testdata", "spdx-2.3.schema.json")
	if loadErr = add("https://hegui.dev/schema/spdx-2.3.json", spdxPath); loadErr != nil {
		return
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
	if err != nil {
		loadErr = err
		return
	}
	dir := filepath.Join(string(bytes.TrimSpace(out)), "schema")
	for url, file := range map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schemax.json",
	} {
		if loadErr = add(url, filepath.Join(dir, file)); loadErr != nil {
			return
		}
	}
	if spdx, loadErr = c.Compile("https://hegui.dev/schema/spdx-2.3.json"); loadErr != nil {
		return
	}
	cdx, loadErr = c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
}

func validate(schema func() *jsonschema.Schema, data []byte) error {
	once.Do(load)
	if loadErr != nil {
		return fmt.Errorf("load the JSON schemas: %w", loadErr)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return schema().Validate(doc)
}

// ValidateSPDX checks data against the SPDX 2.3 JSON schema.
func ValidateSPDX(data []byte) error {
	return validate(func() *jsonschema.Schema { return spdx }, data)
}

// ValidateCycloneDX checks data against the CycloneDX 1.6 JSON schema.
func ValidateCycloneDX(data []byte) error {
	return validate(func() *jsonschema.Schema { return cdx }, data)
}

// SPDX fails the test unless data is a valid SPDX 2.3 JSON document.
func SPDX(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := ValidateSPDX(data); err != nil {
		t.Errorf("%s does not validate against the SPDX 2.3 schema: %v", name, err)
	}
}

// CycloneDX fails the test unless data is a valid CycloneDX 1.6 JSON BOM.
func CycloneDX(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := ValidateCycloneDX(data); err != nil {
		t.Errorf("%s does not validate against the CycloneDX 1.6 schema: %v", name, err)
	}
}
