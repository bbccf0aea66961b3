package format

import (
	"fmt"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"hegui.dev/hegui/internal/buildrecipe"
)

// The provenance is an in-toto Statement v1 with an SLSA Provenance v1
// predicate whose build definition is hegui's (docs/delivery-format.md).
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType identifies hegui's build definition. Version 2 records each
	// build as a recipe (package buildrecipe) rather than a command line.
	BuildType = "https://hegui.dev/buildtypes/go/v2"
	// BuilderID identifies hegui as the builder.
	BuilderID = "https://hegui.dev/builders/hegui-deliver"
)

// Provenance is what a verifier reads from the provenance statement: its
// subjects and its build definition.
type Provenance struct {
	// Subjects maps each subject's name to its digests (algorithm → hex).
	Subjects map[string]map[string]string
	// BuildType is the build definition's type; Recipes reads BuildType only.
	BuildType string
	builds    []jsontext.Value
	internal  provenanceInternal
}

type provenanceInternal struct {
	GoVersion       string `json:"goVersion"`
	SourceDateEpoch string `json:"sourceDateEpoch"`
	Dirty           bool   `json:"dirty"`
}

// ParseProvenance reads a provenance statement (the payload of its signed
// envelope), strictly: a member named twice or trailing data is refused,
// not read one way here and another way elsewhere. It must be an in-toto
// Statement v1 with SLSA Provenance v1, with unique subject names.
func ParseProvenance(statement []byte) (*Provenance, error) {
	stmt, err := ParseStatement(statement)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	if stmt.PredicateType != PredicateType {
		return nil, fmt.Errorf("provenance is %q / %q, want an in-toto Statement v1 with SLSA Provenance v1", StatementType, stmt.PredicateType)
	}
	var pred struct {
		BuildDefinition struct {
			BuildType          string `json:"buildType"`
			ExternalParameters struct {
				Builds []jsontext.Value `json:"builds"`
			} `json:"externalParameters"`
			InternalParameters provenanceInternal `json:"internalParameters"`
		} `json:"buildDefinition"`
	}
	if len(stmt.Predicate) > 0 {
		if err := jsonv2.Unmarshal(stmt.Predicate, &pred); err != nil {
			return nil, fmt.Errorf("provenance predicate: %w", err)
		}
	}
	p := &Provenance{Subjects: stmt.Subjects}
	def := pred.BuildDefinition
	p.BuildType, p.builds, p.internal = def.BuildType, def.ExternalParameters.Builds, def.InternalParameters
	return p, nil
}

// Recipes reads the build recipes and the toolchain of a BuildType
// provenance: each build strictly (a member this hegui does not know is
// refused, not ignored) and validated. dirty is the provenance's word that
// the binaries were built from a tree with uncommitted changes.
func (p *Provenance) Recipes() (recipes []buildrecipe.Recipe, tc buildrecipe.Toolchain, dirty bool, err error) {
	if p.BuildType != BuildType {
		return nil, tc, false, fmt.Errorf("the provenance's build type is %q; this hegui rebuilds %s only", p.BuildType, BuildType)
	}
	epoch, err := strconv.ParseInt(p.internal.SourceDateEpoch, 10, 64)
	if err != nil {
		return nil, tc, false, fmt.Errorf("provenance sourceDateEpoch %q is not a number of seconds", p.internal.SourceDateEpoch)
	}
	tc = buildrecipe.Toolchain{GoVersion: p.internal.GoVersion, SourceDateEpoch: epoch}
	if err := tc.Validate(); err != nil {
		return nil, tc, false, fmt.Errorf("provenance: %w", err)
	}
	for i, raw := range p.builds {
		var r buildrecipe.Recipe
		if err := jsonv2.Unmarshal(raw, &r, jsonv2.RejectUnknownMembers(true)); err != nil {
			return nil, tc, false, fmt.Errorf("provenance builds[%d]: %w", i, err)
		}
		if err := r.Validate(); err != nil {
			return nil, tc, false, fmt.Errorf("provenance builds[%d]: %w", i, err)
		}
		recipes = append(recipes, r)
	}
	return recipes, tc, p.internal.Dirty, nil
}
