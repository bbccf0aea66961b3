package tlscheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ReportSchema names the document `hegui tlscheck --json` writes: a probe's
// result, the profile it was held to and the findings. `hegui report
// --evidence` reads it back as the operator's evidence.
const ReportSchema = "hegui.dev/tlscheck/v1"

// Report is `hegui tlscheck --json`'s document.
type Report struct {
	Schema string `json:"schema"`
	*Result
	Profile  string    `json:"profile"`
	Findings []Finding `json:"findings"`
	Passed   bool      `json:"passed"`
}

// NewReport is the document of a result judged by p.
func NewReport(r *Result, p Profile, findings []Finding) Report {
	return Report{Schema: ReportSchema, Result: r, Profile: p.Name, Findings: findings, Passed: !Failed(findings)}
}

// ParseReport reads a document `hegui tlscheck --json` wrote. It checks
// what judging the result again needs (the schema, the target, the time,
// each version known to this hegui and probed once) and nothing of the
// verdict the document carries: callers judge the result themselves.
func ParseReport(data []byte) (*Report, error) {
	var head struct {
		Schema *string `json:"schema"`
	}
	// json.Unmarshal also refuses data after the value.
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a hegui tlscheck --json document: %v", err)
	}
	if head.Schema == nil {
		return nil, fmt.Errorf("not a hegui tlscheck --json document: no \"schema\" (want %q)", ReportSchema)
	}
	if *head.Schema != ReportSchema {
		return nil, fmt.Errorf("schema %q: this hegui reads %q", *head.Schema, ReportSchema)
	}
	var r Report
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("hegui tlscheck document: %v", err)
	}
	if r.Result == nil || r.Target == "" || r.Time.IsZero() {
		return nil, errors.New("hegui tlscheck document: no target or time")
	}
	seen := map[string]bool{}
	for i := range r.Versions {
		v := &r.Versions[i]
		for _, known := range versions {
			if known.name == v.Name {
				v.id = known.id
			}
		}
		if v.id == 0 {
			return nil, fmt.Errorf("hegui tlscheck document: protocol version %q: this hegui knows TLS 1.0 to 1.3", v.Name)
		}
		if seen[v.Name] {
			return nil, fmt.Errorf("hegui tlscheck document: %s probed twice", v.Name)
		}
		seen[v.Name] = true
	}
	if r.Reachable && len(r.Versions) == 0 {
		return nil, errors.New("hegui tlscheck document: reachable, but no protocol version was probed")
	}
	return &r, nil
}
