package verify

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"sort"
	"strings"

	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/ociimage"
)

// maxWalk bounds the directory entries checkFiles looks at, so that a
// delivery padded with millions of files costs a bounded walk.
const maxWalk = 2 * format.MaxManifestFiles

// checkFiles compares every file with the manifest, and the directory with
// the list: nothing missing, nothing added, nothing but regular files.
// Sizes are compared first, from the directory entry: only a file the
// manifest lists with that size is read and hashed, so a large file added
// to a delivery costs a stat, not a read.
func (s *state) checkFiles(ctx context.Context) (string, error) {
	var problems, toHash []string
	found := map[string]bool{}
	walked := 0
	err := filepath.WalkDir(s.opts.Dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if walked++; walked > maxWalk {
			return fmt.Errorf("the delivery holds more than %d entries", maxWalk)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(s.opts.Dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			return nil
		}
		if !e.Type().IsRegular() {
			problems = append(problems, fmt.Sprintf("%s is %s; a delivery holds regular files only", rel, inputfile.Describe(e.Type())))
			return nil
		}
		if format.OutsideManifest(rel) {
			return nil
		}
		want, listed := s.entries[rel]
		if !listed {
			problems = append(problems, rel+" is not in the manifest (added after signing)")
			return nil
		}
		found[rel] = true
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if fi.Size() != want.Size {
			problems = append(problems, fmt.Sprintf("%s: size %d, the manifest says %d (changed after signing)", rel, fi.Size(), want.Size))
			return nil
		}
		toHash = append(toHash, rel)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("list the delivery's files: %w", err)
	}
	for _, want := range s.manifest.Files {
		if !found[want.Path] && !format.OutsideManifest(want.Path) {
			problems = append(problems, want.Path+" is missing")
		}
	}
	hashed, err := format.HashPaths(ctx, toHash, func(rel string) (format.Opened, error) {
		f, _, err := s.dir.Open(rel)
		return f, err
	})
	if err != nil {
		return "", err
	}
	for _, got := range hashed {
		want := s.entries[got.Path]
		switch {
		case got.Size != want.Size:
			problems = append(problems, fmt.Sprintf("%s: size %d, the manifest says %d (changed after signing)", got.Path, got.Size, want.Size))
		case got.SHA256 != want.SHA256:
			problems = append(problems, got.Path+": SHA-256 differs from the manifest (changed after signing)")
		case got.SM3 != want.SM3:
			problems = append(problems, got.Path+": SM3 differs from the manifest (changed after signing)")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("%d files: sizes, SHA-256 and SM3 match; none missing, none added", len(s.manifest.Files)), nil
}

// binaries are the manifest entries under bin/.
func (s *state) binaries() []format.FileEntry {
	var bins []format.FileEntry
	for _, f := range s.manifest.Files {
		if format.IsBinary(f.Path) {
			bins = append(bins, f)
		}
	}
	return bins
}

// checkProvenance verifies the provenance signature by a trusted key and
// matches its subjects with the binaries (format.ParseProvenance reads it
// strictly).
func (s *state) checkProvenance(ctx context.Context) (string, error) {
	data, err := s.read(ctx, format.ProvenanceFile, envelopeLimit)
	if err != nil {
		return "", err
	}
	env, payload, err := envelope.Parse(data, envelope.InTotoPayloadType)
	if err != nil {
		return "", fmt.Errorf("%s: %w", format.ProvenanceFile, err)
	}
	signed := false
	for _, pub := range s.trusted {
		if envelope.VerifyKey(env, pub) == nil {
			signed = true
		}
	}
	if !signed {
		return "", errors.New("the provenance is not signed by a trusted key (changed, or signed by another key)")
	}
	prov, err := format.ParseProvenance(payload)
	if err != nil {
		return "", err
	}
	if err := s.checkSubjects("the provenance", prov.Subjects); err != nil {
		return "", err
	}
	s.provenance = prov
	return fmt.Sprintf("in-toto Statement v1 / SLSA Provenance v1, signed by a trusted key; its %d subjects are the binaries", len(s.binaries())), nil
}

// checkSubjects matches a statement's subjects with the binaries.
func (s *state) checkSubjects(what string, subjects map[string]map[string]string) error {
	subjects = maps.Clone(subjects)
	var problems []string
	for _, b := range s.binaries() {
		d, ok := subjects[b.Path]
		switch {
		case !ok:
			problems = append(problems, b.Path+" is not a subject of "+what)
		case d["sha256"] != b.SHA256 || d["sm3"] != b.SM3:
			problems = append(problems, b.Path+": "+what+" records other digests")
		}
		delete(subjects, b.Path)
	}
	for name := range subjects {
		problems = append(problems, what+" names "+name+", which the delivery does not hold")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkStatements verifies the delivery's other signed statements: the
// compliance matrix and the vendor's statements. Each must be signed by a
// trusted key, be about the binaries, and have the predicate its name
// promises.
func (s *state) checkStatements(ctx context.Context) (string, error) {
	var files []string
	for _, f := range s.manifest.Files {
		if f.Path == format.ComplianceFile || strings.HasPrefix(f.Path, format.AttestationsDir+"/") {
			files = append(files, f.Path)
		}
	}
	if len(files) == 0 {
		return "none in this delivery", nil
	}
	var problems []string
	for _, file := range files {
		want := format.VendorStatementType
		if file == format.ComplianceFile {
			want = format.CompliancePredicateType
		}
		if err := s.checkStatement(ctx, file, want); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
		}
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("%d signed by a trusted key, about the binaries (%s)", len(files), strings.Join(files, ", ")), nil
}

func (s *state) checkStatement(ctx context.Context, file, predicateType string) error {
	data, err := s.read(ctx, file, envelopeLimit)
	if err != nil {
		return err
	}
	env, payload, err := envelope.Parse(data, envelope.InTotoPayloadType)
	if err != nil {
		return err
	}
	signed := false
	for _, pub := range s.trusted {
		if envelope.VerifyKey(env, pub) == nil {
			signed = true
		}
	}
	if !signed {
		return errors.New("not signed by a trusted key (changed, or signed by another key)")
	}
	stmt, err := format.ParseStatement(payload)
	if err != nil {
		return err
	}
	if stmt.PredicateType != predicateType {
		return fmt.Errorf("predicate %q, want %s", stmt.PredicateType, predicateType)
	}
	return s.checkSubjects("the statement", stmt.Subjects)
}

// checkSBOMs compares every SBOM with the build information of the binary
// it describes.
func (s *state) checkSBOMs(ctx context.Context) (string, error) {
	var docs []string
	for _, f := range s.manifest.Files {
		if ok, _ := format.IsSBOM(f.Path); ok {
			docs = append(docs, f.Path)
		}
	}
	bins := s.binaries()
	if len(docs) != 2*len(bins) {
		return "", fmt.Errorf("%d SBOM documents for %d binaries, want an SPDX and a CycloneDX document each", len(docs), len(bins))
	}
	described := map[string]int{}
	for _, doc := range docs {
		data, err := s.read(ctx, doc, inputfile.DocumentLimit)
		if err != nil {
			return "", err
		}
		var got format.SBOMContent
		if _, spdx := format.IsSBOM(doc); spdx {
			got, err = format.ReadSPDX(data)
		} else {
			got, err = format.ReadCycloneDX(data)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", doc, err)
		}
		entry, ok := s.entries[got.File]
		if !ok || !format.IsBinary(got.File) {
			return "", fmt.Errorf("%s describes %q, which is not a binary of the delivery", doc, got.File)
		}
		if got.SHA256 != entry.SHA256 {
			return "", fmt.Errorf("%s records another SHA-256 for %s", doc, got.File)
		}
		if got.SM3 != entry.SM3 {
			return "", fmt.Errorf("%s records another SM3 for %s", doc, got.File)
		}
		info, err := s.buildInfo(got.File)
		if err != nil {
			return "", err
		}
		if diff := diffModules(format.ModuleVersions(info), got.Modules); diff != "" {
			return "", fmt.Errorf("%s does not match the build information of %s: %s", doc, got.File, diff)
		}
		described[got.File]++
	}
	for _, b := range bins {
		if described[b.Path] != 2 {
			return "", fmt.Errorf("%s is described by %d SBOM documents, want 2", b.Path, described[b.Path])
		}
	}
	return fmt.Sprintf("%d documents agree with the build information of %d binaries", len(docs), len(bins)), nil
}

// buildInfo reads the Go build information of a binary of the delivery.
func (s *state) buildInfo(rel string) (*buildinfo.BuildInfo, error) {
	f, _, err := s.dir.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	defer f.Close()
	info, err := buildinfo.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: read build information: %w", rel, err)
	}
	return info, nil
}

func diffModules(want, got map[string]string) string {
	var diffs []string
	for p, v := range want {
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, p+" missing")
		case g != v:
			diffs = append(diffs, fmt.Sprintf("%s is %s, the binary has %s", p, g, v))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, p+" is not in the binary")
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, ", ")
}

// checkSums compares SHA256SUMS and SM3SUMS with the manifest.
func (s *state) checkSums(ctx context.Context) (string, error) {
	for _, sf := range []struct {
		file string
		pick func(format.FileEntry) string
	}{
		{format.SHA256SumsFile, func(f format.FileEntry) string { return f.SHA256 }},
		{format.SM3SumsFile, func(f format.FileEntry) string { return f.SM3 }},
	} {
		data, err := s.read(ctx, sf.file, manifestLimit)
		if err != nil {
			return "", err
		}
		listed := 0
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<10)
		for sc.Scan() {
			sum, name, ok := strings.Cut(sc.Text(), "  ")
			entry, known := s.entries[name]
			if !ok || !known || sf.pick(entry) != sum {
				return "", fmt.Errorf("%s disagrees with the manifest at %q", sf.file, name)
			}
			listed++
		}
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("%s: %w", sf.file, err)
		}
		if want := len(s.manifest.Files) - 2; listed != want {
			return "", fmt.Errorf("%s lists %d files, the manifest %d", sf.file, listed, want)
		}
	}
	return "SHA256SUMS and SM3SUMS agree with the manifest", nil
}

// checkTransparency checks the delivery's audit-log proof offline and,
// with a log URL, that the log has only grown since that checkpoint.
func (s *state) checkTransparency(ctx context.Context) (string, error) {
	if !s.present(format.TransparencyProofFile) {
		return "", errors.New("the delivery carries no audit-log proof (transparency/), but --log was given")
	}
	read := func(rel string) ([]byte, error) { return s.read(ctx, rel, inputfile.DocumentLimit) }
	ev, err := format.CheckTransparency(read, s.opts.LogKeys)
	if err != nil {
		return "", err
	}
	keys := "the delivery's copy of log.pub"
	if s.opts.LogKeys != nil {
		keys = "the given log keys"
	}
	detail := fmt.Sprintf("entry %d of %s, included in its signed checkpoint of %d entries (keys: %s)", ev.Index, ev.Checkpoint.Origin, ev.Checkpoint.Size, keys)
	if s.opts.LogURL == "" {
		return detail, nil
	}
	if s.opts.CheckLog == nil {
		return "", errors.New("no way to reach the log was given (verify.Options.CheckLog)")
	}
	latest, err := s.opts.CheckLog(ctx, s.opts.LogURL, ev.Checkpoint, ev.Verifiers)
	if err != nil {
		return "", err
	}
	return detail + fmt.Sprintf("; the log at %s (now %d entries) is consistent with it", s.opts.LogURL, latest.Size), nil
}

// imageDir is where a delivery keeps its OCI image (the image stage).
const imageDir = "image"

// checkImage checks the delivery's OCI image layout: every blob has its
// digest, each platform's image runs the delivery's binary for that
// platform as a non-root user, and each attached SBOM or provenance is the
// delivery's file (ociimage.Verify). The files check has already held the
// layout's bytes to the manifest; this checks what they mean.
func (s *state) checkImage() (string, error) {
	if !s.filesHold {
		return "", errors.New("not checked: the delivery's files do not match the manifest")
	}
	files := map[string]string{}
	for p, e := range s.entries {
		files[p] = e.SHA256
	}
	c, err := ociimage.Verify(filepath.Join(s.opts.Dir, imageDir), ociimage.Expect{Version: s.manifest.Version, Files: files})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/: index %.19s… runs the delivery's binary on %s as user %s; %d attachments are the delivery's files", imageDir, c.Index, strings.Join(c.Platforms, ", "), c.User, c.Attached), nil
}
