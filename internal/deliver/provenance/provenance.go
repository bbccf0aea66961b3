// Package provenance is the stage that records how the binaries were made:
// an in-toto Statement v1 with an SLSA Provenance v1 predicate, signed in a
// DSSE envelope by every signer and written to provenance.intoto.jsonl (one
// envelope on one line, as SLSA tooling expects).
//
// The build type is https://hegui.dev/buildtypes/go/v2 (docs/delivery-format.md):
// external parameters name the source (repository and commit), the module,
// the version, the targets and each build's recipe; resolved dependencies list the
// source commit and every linked module with its go.sum dirhash.
package provenance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"hegui.dev/hegui/internal/buildrecipe"
	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/statement"
	"hegui.dev/hegui/internal/format"
)

// Stage writes and signs the provenance.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "provenance" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	stmt, err := Statement(d)
	if err != nil {
		return err
	}
	sigs, err := statement.Write(ctx, d, format.ProvenanceFile, stmt)
	if err != nil {
		return err
	}
	d.Provenance = format.ProvenanceFile
	d.Log.Stepf("%d subjects, %d signature(s)", len(stmt.Subject), sigs)
	return nil
}

// Statement builds the in-toto statement of the delivery.
func Statement(d *delivery.Delivery) (*intoto.Statement, error) {
	subjects := statement.Subjects(d)
	params, err := externalParameters(d)
	if err != nil {
		return nil, err
	}
	external, err := structpb.NewStruct(params)
	if err != nil {
		return nil, err
	}
	internal, err := structpb.NewStruct(map[string]any{
		"goVersion":            goVersion(d),
		"snapshot":             d.Version.Snapshot,
		"dirty":                d.Version.Dirty,
		"sourceDateEpoch":      fmt.Sprint(d.Version.CommitTime.Unix()),
		"reproducibilityCheck": d.Config.Reproducibility.Enabled() && !d.Options.SkipReproduce,
	})
	if err != nil {
		return nil, err
	}
	var byproducts []*intoto.ResourceDescriptor
	for _, b := range d.Binaries {
		for _, s := range b.SBOMs {
			data, err := os.ReadFile(d.Path(s))
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(data)
			byproducts = append(byproducts, &intoto.ResourceDescriptor{Name: s, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}})
		}
	}
	pred := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:            format.BuildType,
			ExternalParameters:   external,
			InternalParameters:   internal,
			ResolvedDependencies: predicateDeps(d),
		},
		RunDetails: &slsa.RunDetails{
			Builder: &slsa.Builder{
				Id:      format.BuilderID,
				Version: map[string]string{"hegui": d.HeguiVersion, "go": goVersion(d)},
			},
			Metadata: &slsa.BuildMetadata{
				InvocationId: invocationID(),
				StartedOn:    timestamppb.New(d.Started.UTC()),
				FinishedOn:   timestamppb.New(time.Now().UTC()),
			},
			Byproducts: byproducts,
		},
	}
	predJSON, err := protojson.Marshal(pred)
	if err != nil {
		return nil, err
	}
	predStruct := &structpb.Struct{}
	if err := protojson.Unmarshal(predJSON, predStruct); err != nil {
		return nil, err
	}
	return &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       subjects,
		PredicateType: format.PredicateType,
		Predicate:     predStruct,
	}, nil
}

func goVersion(d *delivery.Delivery) string {
	if len(d.Binaries) > 0 {
		return d.Binaries[0].GoVersion
	}
	return ""
}

func externalParameters(d *delivery.Delivery) (map[string]any, error) {
	source := map[string]any{"module": d.Module.Path}
	if d.Version.VCS {
		source["digest"] = map[string]any{"gitCommit": d.Version.Commit}
		if d.Version.RemoteURL != "" {
			source["uri"] = "git+" + d.Version.RemoteURL
		}
	}
	var builds []any
	seen := map[string]bool{}
	var targets []any
	for _, b := range d.Binaries {
		if !seen[b.Target.String()] {
			seen[b.Target.String()] = true
			targets = append(targets, b.Target.String())
		}
		r, err := recipeParameter(b.Recipe)
		if err != nil {
			return nil, err
		}
		builds = append(builds, r)
	}
	params := map[string]any{
		"source":  source,
		"version": d.Version.Version,
		"targets": targets,
		"builds":  builds,
	}
	if d.ConfigFile != "" {
		if data, err := os.ReadFile(d.ConfigFile); err == nil {
			sum := sha256.Sum256(data)
			params["config"] = map[string]any{"path": "hegui.yaml", "digest": map[string]any{"sha256": hex.EncodeToString(sum[:])}}
		}
	}
	return params, nil
}

// recipeParameter is a recipe as a structpb value: its JSON form.
func recipeParameter(r buildrecipe.Recipe) (any, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var v any
	err = json.Unmarshal(data, &v)
	return v, err
}

// predicateDeps lists the source commit and every module linked into any
// binary, with the module's go.sum hash as an in-toto dirHash.
func predicateDeps(d *delivery.Delivery) []*intoto.ResourceDescriptor {
	var deps []*intoto.ResourceDescriptor
	if d.Version.VCS {
		src := &intoto.ResourceDescriptor{Name: d.Module.Path, Digest: map[string]string{"gitCommit": d.Version.Commit}}
		if d.Version.RemoteURL != "" {
			src.Uri = "git+" + d.Version.RemoteURL + "@" + d.Version.Commit
		}
		deps = append(deps, src)
	}
	sums := map[string]string{}
	for _, b := range d.Binaries {
		info, err := buildinfo.ReadFile(d.Path(b.Path))
		if err != nil {
			continue
		}
		for _, dep := range info.Deps {
			m := dep
			if dep.Replace != nil {
				m = dep.Replace
			}
			if m.Version == "" || m.Version == "(devel)" {
				continue // a local directory: part of the source
			}
			sums["pkg:golang/"+m.Path+"@"+m.Version] = m.Sum
		}
	}
	uris := make([]string, 0, len(sums))
	for u := range sums {
		uris = append(uris, u)
	}
	sort.Strings(uris)
	for _, u := range uris {
		rd := &intoto.ResourceDescriptor{Uri: u}
		if h, ok := dirHash(sums[u]); ok {
			rd.Digest = map[string]string{"dirHash": h}
		}
		deps = append(deps, rd)
	}
	return deps
}

// dirHash turns a go.sum "h1:<base64>" hash into the hex form in-toto's
// dirHash digest uses.
func dirHash(sum string) (string, bool) {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", false
	}
	return hex.EncodeToString(raw), true
}

func invocationID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
