// Package schematest validates the documents hegui writes against the
// official JSON schemas: SPDX 2.3 (kept in internal/deliver/sbom/testdata),
// CycloneDX 1.6 (read from the cyclonedx-go module, which ships it) and
// SARIF 2.1.0 (the OASIS schema, read from the gosec module, which ships
// it as test data), OSCAL 1.1.3 (NIST's complete schema, as the go-oscal
// module embeds it, through its validation package); and report.json
// against the schema hegui publishes in schemas/. It is for tests only.
package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/defenseunicorns/go-oscal/src/pkg/validation"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"hegui.dev/hegui/schemas"
)

var (
	once      sync.Once
	spdx, cdx *jsonschema.Schema
	sarif     *jsonschema.Schema
	report    *jsonschema.Schema
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
	dir := filepath.Join(moduleDir("github.com/CycloneDX/cyclonedx-go"), "schema")
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
	if cdx, loadErr = c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json"); loadErr != nil {
		return
	}
	const sarifURL = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifPath := filepath.Join(moduleDir("github.com/securego/gosec/v2"), "report", "sarif", "testdata", "sarif-schema-2.1.0.json")
	if loadErr = add(sarifURL, sarifPath); loadErr != nil {
		return
	}
	if sarif, loadErr = c.Compile(sarifURL); loadErr != nil {
		return
	}
	if loadErr = add(schemas.ReportID, filepath.Join(moduleRoot(), "schemas", "report-v2.schema.json")); loadErr != nil {
		return
	}
	report, loadErr = c.Compile(schemas.ReportID)
}

// moduleDir is the module cache directory of a module hegui requires.
func moduleDir(path string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		return filepath.Join("missing-module", path)
	}
	return string(bytes.TrimSpace(out))
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

// ValidateSARIF fails the test unless data is a valid SARIF 2.1.0 log.
func ValidateSARIF(t testing.TB, data []byte) {
	t.Helper()
	if err := validate(func() *jsonschema.Schema { return sarif }, data); err != nil {
		t.Errorf("the SARIF log does not validate against the SARIF 2.1.0 schema: %v", err)
	}
}

// ValidateReport checks data against the report.json schema.
func ValidateReport(data []byte) error {
	return validate(func() *jsonschema.Schema { return report }, data)
}

// Report fails the test unless data is a valid report.json.
func Report(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := ValidateReport(data); err != nil {
		t.Errorf("%s does not validate against schemas/report-v2.schema.json: %v", name, err)
	}
}

// ValidateOSCAL checks data against NIST's OSCAL JSON schema of version
// (such as "1.1.3"): the complete schema, so any OSCAL model validates.
func ValidateOSCAL(data []byte, version string) error {
	v, err := validation.NewValidatorDesiredVersion(data, version)
	if err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		res, _ := v.GetValidationResult()
		var msgs []string
		for i, e := range res.Errors {
			if i == 5 {
				msgs = append(msgs, fmt.Sprintf("and %d more", len(res.Errors)-i))
				break
			}
			msgs = append(msgs, fmt.Sprintf("%s: %s", e.InstanceLocation, e.Error))
		}
		return fmt.Errorf("%w (%s)", err, strings.Join(msgs, "; "))
	}
	return nil
}

// OSCAL fails the test unless data is a valid OSCAL document of version.
func OSCAL(t testing.TB, name string, data []byte, version string) {
	t.Helper()
	if err := ValidateOSCAL(data, version); err != nil {
		t.Errorf("%s does not validate against the OSCAL %s schema: %v", name, version, err)
	}
}
