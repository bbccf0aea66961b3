// Package rescan is `hegui rescan`: after a release, the delivered
// binaries are scanned again for known vulnerabilities against a newer
// database, and the result is written as a signed OpenVEX update — an
// in-toto statement about the same binaries, with the OpenVEX document as
// its predicate — optionally recorded in the transparency audit log. A
// series of rescans is the evidence that shipped versions are watched.
//
// The delivery itself is never changed (its manifest is signed); the
// update goes to a directory of its own:
//
//	vulns.json                 the scan (hegui.dev/vulns/v1)
//	vex.openvex.json           the OpenVEX 0.2.0 document
//	vex.intoto.jsonl           the same, signed: in-toto statement, DSSE envelope
//	rescan.json                what was rescanned, when, against which database, what is new
//	transparency/entry.json, entry.tlog-proof   when recorded in an audit log
package rescan

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/vulndb"
	"hegui.dev/hegui/internal/vulnscan"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// The files of a rescan.
const (
	SummaryFile   = "rescan.json"
	StatementFile = "vex.intoto.jsonl"
	// Action is the audit event's action.
	Action = "delivery.rescan"
	// OpenVEXPredicateType is the predicate type of an OpenVEX document
	// in an in-toto statement.
	OpenVEXPredicateType = "https://openvex.dev/ns/v0.2.0"
)

// Options say what to rescan and how.
type Options struct {
	Delivery string        // the delivery directory
	Out      string        // the rescan's directory (must not exist)
	DB       *vulndb.Info  // the newer database
	Key      crypto.Signer // signs the OpenVEX update
	Author   string        // who makes the statements; default: the module's maintainers
	Now      time.Time
	// MemoryBudget bounds the scan's memory in bytes; 0: no bound.
	MemoryBudget int64
	// Log, when set, records the rescan in a transparency audit log.
	Log *Log
	// Progress, if set, receives one line per step.
	Progress func(format string, args ...any)
}

// Log is a transparency audit log to record the rescan in.
type Log struct {
	URL       string
	Token     string
	Verifiers []note.Verifier
	// Record appends an event and proves it (transparency.Record).
	Record func(ctx context.Context, url, token string, verifiers []note.Verifier, ev translog.Event) (entry, proof []byte, index uint64, err error)
}

// Summary is rescan.json.
type Summary struct {
	Schema   string    `json:"schema"` // hegui.dev/rescan/v1
	Delivery string    `json:"delivery"`
	Module   string    `json:"module"`
	Version  string    `json:"version"`
	Scanned  time.Time `json:"scanned"`
	// Manifest is the delivery's manifest.json digest ("sha256:HEX"):
	// which delivery, exactly, was rescanned.
	Manifest string                `json:"manifest"`
	Database format.VulnDatabase   `json:"database"`
	Binaries []string              `json:"binaries"`
	KeyID    string                `json:"keyId"`
	Findings int                   `json:"findings"`
	Linked   int                   `json:"linked"` // findings whose vulnerable code the binaries link
	New      []string              `json:"new"`    // ids not in the delivery's own vulns.json
	Logged   *format.LogCoordinate `json:"logged,omitempty"`
}

// SummarySchema identifies rescan.json.
const SummarySchema = "hegui.dev/rescan/v1"

// Run rescans the delivery and writes the update to o.Out, all or nothing.
func Run(ctx context.Context, o Options) (*Summary, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	if _, err := os.Lstat(o.Out); err == nil {
		return nil, fmt.Errorf("%s exists: a rescan writes a new directory", o.Out)
	}
	r, err := format.OpenDelivery(ctx, o.Delivery)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m := r.Manifest
	stage, err := os.MkdirTemp(filepath.Dir(filepath.Clean(o.Out)), ".rescan-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)

	// The binaries, copied out and checked against the manifest, so that
	// what is scanned is what was delivered.
	bins := filepath.Join(stage, ".bin")
	var paths, names []string
	var subjects []vexSubject
	for _, f := range m.Files {
		if !format.IsBinary(f.Path) {
			continue
		}
		dst := filepath.Join(bins, filepath.FromSlash(f.Path))
		if err := copyChecked(ctx, r, f.Path, dst); err != nil {
			return nil, err
		}
		paths, names = append(paths, dst), append(names, f.Path)
		subjects = append(subjects, vexSubject{Name: f.Path, Digest: map[string]string{"sha256": f.SHA256, "sm3": f.SM3}})
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s delivers no binaries: there is nothing to rescan", o.Delivery)
	}
	progress("scanning %d binaries against the database of %s (%d entries)", len(paths), DatabaseDate(o.DB.Modified), o.DB.Entries)
	res, err := vulnscan.Scan(ctx, &vulnscan.Request{Binaries: paths, DB: o.DB, MemoryBudget: o.MemoryBudget, Progress: progress})
	if err != nil {
		return nil, err
	}
	// The scan names the copies; name the delivery's files instead.
	for _, f := range res.Findings {
		for i, s := range f.Subjects {
			if j := slices.Index(paths, s); j >= 0 {
				f.Subjects[i] = names[j]
			}
		}
	}
	if err := os.RemoveAll(bins); err != nil {
		return nil, err
	}
	subject := m.Module + "@" + m.Version
	doc := vulnscan.NewDocument(subject, o.DB, res, o.Now)
	author := o.Author
	if author == "" {
		author = "the maintainers of " + m.Module
	}
	vexOpts := vulnscan.VEXOptions{Author: author, Product: "pkg:golang/" + subject, Time: o.Now}
	for _, s := range subjects {
		vexOpts.Binaries = append(vexOpts.Binaries, vulnscan.VEXBinary{Name: s.Name, SHA256: s.Digest["sha256"]})
	}
	vexDoc, err := vulnscan.OpenVEX(doc, vexOpts)
	if err != nil {
		return nil, err
	}
	keyID, err := keys.ID(o.Key.Public())
	if err != nil {
		return nil, err
	}
	sum := &Summary{Schema: SummarySchema, Delivery: m.Project + "_" + m.Version, Module: m.Module, Version: m.Version,
		Scanned: o.Now.UTC(), Manifest: "sha256:" + r.ManifestEntry.SHA256, Database: doc.Database, Binaries: names, KeyID: keyID,
		Findings: len(doc.Findings), New: []string{}}
	old := releasedFindings(ctx, r)
	for _, f := range doc.Findings {
		if f.Reachable {
			sum.Linked++
		}
		if !old[f.ID] && !slices.Contains(sum.New, f.ID) {
			sum.New = append(sum.New, f.ID)
		}
	}
	stmt, err := signedVEX(ctx, subjects, vexDoc, o.Key)
	if err != nil {
		return nil, err
	}
	vulnsJSON, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{format.VulnsJSONFile: append(vulnsJSON, '\n'), format.OpenVEXFile: vexDoc, StatementFile: stmt}
	if o.Log != nil {
		ev := event(m, sum, stmt)
		entry, proof, index, err := o.Log.Record(ctx, o.Log.URL, o.Log.Token, o.Log.Verifiers, ev)
		if err != nil {
			return nil, err
		}
		files[format.TransparencyEntryFile], files[format.TransparencyProofFile] = entry, proof
		sum.Logged = &format.LogCoordinate{URL: o.Log.URL, Index: index}
		progress("recorded as entry %d of %s", index, o.Log.URL)
	}
	summary, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return nil, err
	}
	files[SummaryFile] = append(summary, '\n')
	for name, data := range files {
		p := filepath.Join(stage, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.Rename(stage, o.Out); err != nil {
		return nil, err
	}
	return sum, nil
}

func copyChecked(ctx context.Context, r *format.DeliveryReader, name, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if err := r.CopyTo(ctx, name, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// releasedFindings are the ids the delivery's own scan found (none when
// it has no vulns.json).
func releasedFindings(ctx context.Context, r *format.DeliveryReader) map[string]bool {
	out := map[string]bool{}
	data, err := r.Read(ctx, format.VulnsJSONFile)
	if err != nil {
		return out
	}
	var doc format.VulnDocument
	if json.Unmarshal(data, &doc) == nil {
		for _, f := range doc.Findings {
			out[f.ID] = true
		}
	}
	return out
}

type vexSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// signedVEX is the OpenVEX document as an in-toto statement about the
// binaries, signed in a DSSE envelope, on one line.
func signedVEX(ctx context.Context, subjects []vexSubject, vexDoc []byte, key crypto.Signer) ([]byte, error) {
	stmt := struct {
		Type          string          `json:"_type"`
		Subject       []vexSubject    `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}{format.StatementType, subjects, OpenVEXPredicateType, vexDoc}
	payload, err := json.Marshal(stmt)
	if err != nil {
		return nil, err
	}
	env, err := envelope.Sign(ctx, envelope.InTotoPayloadType, payload, key)
	if err != nil {
		return nil, err
	}
	line, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

// event is the audit event of a rescan: the delivery by its manifest's
// digest, the signed update by its own.
func event(m *format.Manifest, sum *Summary, stmt []byte) translog.Event {
	return translog.Event{
		Time: sum.Scanned, Action: Action, Actor: "key:" + sum.KeyID, Object: sum.Delivery,
		Outcome: translog.OutcomeSuccess, Application: "hegui",
		Message: fmt.Sprintf("hegui rescan %s: %d known vulnerabilities (%d new since release) against the database of %s",
			sum.Delivery, sum.Findings, len(sum.New), DatabaseDate(sum.Database.Modified)),
		Digests: []translog.Digest{
			{Name: format.ManifestFile, Algorithm: "sha256", Value: strings.TrimPrefix(sum.Manifest, "sha256:")},
			{Name: StatementFile, Algorithm: "sha256", Value: strings.TrimPrefix(format.DigestOf(stmt), "sha256:")},
		},
		Attributes: map[string]string{"module": m.Module, "version": m.Version, "database": sum.Database.Digest},
	}
}

// DatabaseDate names a database by its modification date, or says it has
// none (a database imported from entries without dates).
func DatabaseDate(t time.Time) string {
	if t.IsZero() {
		return "unknown date"
	}
	return t.Format("2006-01-02")
}
