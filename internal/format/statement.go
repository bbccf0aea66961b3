package format

import (
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Statement is an in-toto Statement v1 as the verifier reads it: its
// subjects by name, the predicate's type, and the predicate undecoded.
type Statement struct {
	PredicateType string
	Subjects      map[string]map[string]string
	Predicate     jsontext.Value
}

// ParseStatement reads an in-toto Statement v1 strictly: a subject named
// twice is refused.
func ParseStatement(data []byte) (*Statement, error) {
	var stmt struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate jsontext.Value `json:"predicate"`
	}
	if err := jsonv2.Unmarshal(data, &stmt); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	if stmt.Type != StatementType {
		return nil, fmt.Errorf("statement type %q: want an in-toto Statement v1 (%s)", stmt.Type, StatementType)
	}
	s := &Statement{PredicateType: stmt.PredicateType, Subjects: map[string]map[string]string{}, Predicate: stmt.Predicate}
	for _, sub := range stmt.Subject {
		if _, dup := s.Subjects[sub.Name]; dup {
			return nil, fmt.Errorf("the statement names the subject %q twice", sub.Name)
		}
		s.Subjects[sub.Name] = sub.Digest
	}
	return s, nil
}

// CompliancePredicate is the predicate of the compliance matrix
// attestation: the matrix as report.json holds it.
type CompliancePredicate struct {
	Report     string      `json:"report"` // "report.json"
	Frameworks []Framework `json:"frameworks"`
}
