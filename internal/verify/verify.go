// Package verify checks a delivery offline, as `hegui verify` does: the
// signatures on the manifest (against trusted roots or public keys), every
// file against the manifest, nothing missing and nothing extra, the signed
// provenance against the binaries, the SBOMs against each binary's build
// information, the checksum files, and optionally a rebuild from source.
//
// Every check yields an Item; the delivery verifies when all of them pass.
// An error from Run means the checks could not run at all.
package verify

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/smx509"

	"golang.org/x/mod/sumdb/note"

	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/ociimage"
	"hegui.dev/hegui/internal/trust"
	"hegui.dev/hegui/translog"
)

// Options say what to verify against.
type Options struct {
	// Dir is the delivery directory.
	Dir string
	// Roots are trusted CA certificates; a signer's certificate chain must
	// lead to one of them.
	Roots []*smx509.Certificate
	// Keys are trusted public keys.
	Keys []crypto.PublicKey
	// Source and Rebuild ask to rebuild the binaries from the source
	// directory and compare digests.
	Source  string
	Rebuild bool
	// Progress receives a line before long steps (the rebuild).
	Progress func(string)
	// LogKeys are the trusted verifier keys of the transparency log the
	// delivery was recorded in; nil uses the copy in the delivery.
	LogKeys []note.Verifier
	// LogURL, when set, asks to check online with CheckLog that the log's
	// current state is consistent with the checkpoint in the delivery.
	LogURL   string
	CheckLog LogChecker
}

// LogChecker reads the current checkpoint of the log at url, verified with
// verifiers, and checks that it extends cp (logclient.CheckConsistent).
// It lives outside this package so that verifying a delivery offline does
// not compile a log client.
type LogChecker func(ctx context.Context, url string, cp translog.Checkpoint, verifiers []note.Verifier) (translog.Checkpoint, error)

// Item is one check.
type Item struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// Result is the outcome of verifying a delivery.
type Result struct {
	Delivery    string `json:"delivery"`
	Project     string `json:"project,omitempty"`
	Version     string `json:"version,omitempty"`
	Passed      bool   `json:"passed"`
	Development bool   `json:"developmentKey"`
	// Untrusted is set when the manifest's signature does not hold: then
	// no other check ran, since nothing in the delivery can be believed.
	Untrusted bool   `json:"untrusted,omitempty"`
	Items     []Item `json:"checks"`
	// Manifest is the manifest whose signature held, with its bytes and
	// its signatures' envelope as read: what a caller that goes on to use
	// the delivery's files (hegui release) checks them against, so that a
	// delivery changed after Run is caught. Nil when the signature did not
	// hold.
	Manifest     *format.Manifest `json:"-"`
	ManifestJSON []byte           `json:"-"`
	ManifestDSSE []byte           `json:"-"`
}

func (r *Result) add(name string, err error, detail string) {
	it := Item{Name: name, Passed: err == nil, Detail: detail}
	if err != nil {
		it.Detail = human.OneLine(err.Error())
	}
	r.Items = append(r.Items, it)
}

// Failed lists the names of the checks that failed.
func (r *Result) Failed() []string {
	var names []string
	for _, it := range r.Items {
		if !it.Passed {
			names = append(names, it.Name)
		}
	}
	return names
}

// state is what the checks share.
type state struct {
	opts     Options
	dir      *inputfile.Dir
	manifest *format.Manifest
	data     []byte // manifest.json
	envData  []byte // manifest.dsse.json
	env      *envelope.Envelope
	trusted  []crypto.PublicKey // keys whose signatures on the manifest verified and are trusted
	entries  map[string]format.FileEntry
	// filesHold and provenance are set by the checks that earn them: every
	// file is the one the manifest lists, and the provenance statement is
	// signed by a trusted key. A rebuild needs both.
	filesHold  bool
	provenance *format.Provenance
	// builtDirty is the provenance's word that the delivery was built from
	// a work tree with uncommitted changes.
	builtDirty bool
}

// Run verifies a delivery. Nothing the delivery says is believed before
// the manifest's signature holds: when it does not, no other check runs.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.Roots) == 0 && len(opts.Keys) == 0 {
		return nil, errors.New("nothing to verify against: give a trust root or a public key")
	}
	dir, err := inputfile.OpenDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a delivery directory: %w", opts.Dir, err)
	}
	defer dir.Close()
	r := &Result{Delivery: opts.Dir}
	s := &state{opts: opts, dir: dir}

	if err := s.readManifest(ctx); err != nil {
		r.add("manifest", err, "")
		return r, nil
	}
	detail, err := s.checkSignatures(ctx)
	if err != nil {
		r.add("signature", fmt.Errorf("%s: %w", format.ManifestEnvelopeFile, err), "")
		r.Untrusted = true
		return r, nil
	}
	r.Project, r.Version = s.manifest.Project, s.manifest.Version
	r.Manifest, r.ManifestJSON, r.ManifestDSSE = s.manifest, s.data, s.envData
	for _, sg := range s.manifest.Signers {
		r.Development = r.Development || sg.Development
	}
	r.add("manifest", nil, s.manifestDetail())
	r.add("signature", nil, detail)
	detail, err = s.checkFiles(ctx)
	s.filesHold = err == nil
	r.add("files", err, detail)
	detail, err = s.checkProvenance(ctx)
	r.add("provenance", err, detail)
	detail, err = s.checkSBOMs(ctx)
	r.add("sbom", err, detail)
	detail, err = s.checkStatements(ctx)
	r.add("attestations", err, detail)
	detail, err = s.checkSums(ctx)
	r.add("checksums", err, detail)
	if _, ok := s.entries[ociimage.IndexFile(imageDir)]; ok {
		detail, err = s.checkImage()
		r.add("image", err, detail)
	}
	if s.present(format.TransparencyProofFile) || opts.LogURL != "" {
		detail, err = s.checkTransparency(ctx)
		r.add("transparency", err, detail)
	}
	if opts.Rebuild {
		detail, err = s.rebuild(ctx)
		r.add("rebuild", err, detail)
	}
	r.Passed = len(r.Failed()) == 0
	return r, nil
}

// Limits on a delivery's own files, read whole.
const (
	manifestLimit = 32 << 20
	envelopeLimit = 48 << 20
)

// present reports whether the delivery has an entry at rel, of any kind.
func (s *state) present(rel string) bool {
	_, err := s.dir.Lstat(rel)
	return err == nil
}

// read reads a file of the delivery: a regular file, not through a
// symbolic link, at most limit bytes.
func (s *state) read(ctx context.Context, rel string, limit int64) ([]byte, error) {
	data, err := s.dir.Read(ctx, rel, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	return data, nil
}

func (s *state) readManifest(ctx context.Context) error {
	data, err := s.read(ctx, format.ManifestFile, manifestLimit)
	if err != nil {
		return err
	}
	envData, err := s.read(ctx, format.ManifestEnvelopeFile, envelopeLimit)
	if err != nil {
		return err
	}
	env, payload, err := envelope.Parse(envData, envelope.ManifestPayloadType)
	if err != nil {
		return fmt.Errorf("%s: %w", format.ManifestEnvelopeFile, err)
	}
	if !bytes.Equal(payload, data) {
		return fmt.Errorf("%s differs from the document signed in %s: it was changed after signing", format.ManifestFile, format.ManifestEnvelopeFile)
	}
	m, err := format.ParseManifest(data)
	if err != nil {
		return fmt.Errorf("%s: %w", format.ManifestFile, err)
	}
	s.manifest, s.data, s.env, s.envData = m, data, env, envData
	s.entries = map[string]format.FileEntry{}
	for _, f := range m.Files {
		s.entries[f.Path] = f
	}
	return nil
}

func (s *state) manifestDetail() string {
	return fmt.Sprintf("%s is the signed document (%s %s, %d files)", format.ManifestFile, s.manifest.Project, s.manifest.Version, len(s.manifest.Files))
}

// checkSignatures verifies the manifest signatures (trust.Check).
func (s *state) checkSignatures(ctx context.Context) (string, error) {
	r, err := trust.Check(ctx, trust.Anchors{Roots: s.opts.Roots, Keys: s.opts.Keys}, trust.Signed{
		Envelope: s.env, Signers: s.manifest.Signers, Time: s.manifest.Signed,
		Read: func(ctx context.Context, rel string) ([]byte, error) {
			return s.dir.Read(ctx, rel, inputfile.KeyLimit)
		},
	})
	if err != nil {
		return "", err
	}
	s.trusted = r.Trusted
	return r.Detail, nil
}
