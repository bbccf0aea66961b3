package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"hegui.dev/hegui/schemas"
)

var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.Report))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemas.ReportID, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemas.ReportID)
})

// ReadReport decodes a report.json, which must match the published schema
// (schemas/report-v2.schema.json): a report from another hegui version,
// or one edited by hand, is refused with the first place it differs.
func ReadReport(data []byte) (*Report, error) {
	s, err := schema()
	if err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s is not JSON: %v", ReportJSONFile, err)
	}
	if m, ok := doc.(map[string]any); ok && m["schema"] == "hegui.dev/report/v1" {
		return nil, fmt.Errorf("%s is %s, written by an earlier hegui whose compliance matrix did not keep the vendor's part of a control apart from the operator's; this hegui reads %s: deliver again (hegui verify still checks the delivery's files and signatures)",
			ReportJSONFile, "hegui.dev/report/v1", ReportSchema)
	}
	if err := s.Validate(doc); err != nil {
		return nil, fmt.Errorf("%s does not match schema %s: %s", ReportJSONFile, ReportSchema, firstSchemaError(err))
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", ReportJSONFile, err)
	}
	return &r, nil
}

// firstSchemaError is the innermost cause of a validation error, on one line.
func firstSchemaError(err error) string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err.Error()
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	loc := "/" + strings.Join(ve.InstanceLocation, "/")
	return fmt.Sprintf("at %s: %s", loc, strings.ReplaceAll(ve.ErrorKind.LocalizedString(message.NewPrinter(language.English)), "\n", " "))
}
