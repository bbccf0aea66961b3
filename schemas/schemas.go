// Package schemas holds the JSON Schemas of the documents hegui defines,
// published with its source:
//
//	report-v1.schema.json  report.json (hegui.dev/report/v1)
//
// hegui checks what it reads back against them (hegui report), and its
// tests check what it writes.
package schemas

import _ "embed"

// ReportV1 is the JSON Schema (draft 2020-12) of report.json.
//
//go:embed report-v1.schema.json
var ReportV1 []byte

// ReportV1ID is the schema's $id.
const ReportV1ID = "https://hegui.dev/schema/report/v1"
