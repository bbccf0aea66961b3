// Package schemas holds the JSON Schemas of the documents hegui defines,
// published with its source:
//
//	report-v2.schema.json  report.json (hegui.dev/report/v2)
//
// hegui checks what it reads back against them (hegui report), and its
// tests check what it writes. v1, whose compliance matrix did not keep the
// vendor's part of a control apart from the operator's, is no longer read.
package schemas

import _ "embed"

// Report is the JSON Schema (draft 2020-12) of report.json.
//
//go:embed report-v2.schema.json
var Report []byte

// ReportID is the schema's $id.
const ReportID = "https://hegui.dev/schema/report/v2"
