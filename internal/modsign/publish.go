package modsign

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
	modzip "golang.org/x/mod/zip"

	"hegui.dev/hegui/internal/deliver/transparency"
	"hegui.dev/hegui/internal/envelope"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/modstore"
	"hegui.dev/hegui/keys"
)

// VerifiedBySignature is the VerifiedBy of an internal module file's
// record.
const VerifiedBySignature = "signature"

// PublishOptions say what to publish, signed by whom, logged where.
type PublishOptions struct {
	// Store receives the publication.
	Store modstore.Store
	// Dir is the module's directory (holding its go.mod).
	Dir string
	// Version is the canonical semantic version to publish.
	Version string
	// Git takes the module's files from the git revision Rev (default: the
	// version's tag, "SUBDIR/VERSION" for a module below the repository's
	// root) instead of the working tree, as the go command would.
	Git bool
	Rev string
	// Internal are the internal module patterns (GOPRIVATE syntax); the
	// module's path must match one.
	Internal string
	// Signer is the publisher's key.
	Signer crypto.Signer
	// LogURL, LogToken and LogKeys name the audit log the publication is
	// recorded in, the writer's token and the log's verifier keys.
	LogURL   string
	LogToken string
	LogKeys  []note.Verifier
	// TempDir holds the zip while it is made; empty means os.TempDir().
	TempDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Progress, if set, is told each step.
	Progress func(format string, args ...any)
}

// Published is the outcome of Publish.
type Published struct {
	Verified
	// Existing is true when the same content was already published: nothing
	// was signed, logged or stored again.
	Existing bool
}

// ImmutableError is a version that is already published with other
// content.
type ImmutableError struct {
	Module, Version string
	Stored, New     string // the zip hashes
}

func (e *ImmutableError) Error() string {
	return fmt.Sprintf("%s@%s is already published with %s (this content is %s): published versions are immutable; publish a new version", e.Module, e.Version, e.Stored, e.New)
}

// Publish makes the module zip of Dir at Version with x/mod/zip, signs its
// go.sum lines, records the publication in the audit log and stores the
// version's .info, .mod, .zip, .sig and .tlog. The .tlog is written last:
// a version without it is not published (a crash part way leaves nothing
// the proxy serves, and publishing again completes it).
func Publish(ctx context.Context, o PublishOptions) (*Published, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if o.Signer == nil {
		return nil, errors.New("no publisher key")
	}
	if o.LogURL == "" || len(o.LogKeys) == 0 {
		return nil, errors.New("no audit log: an internal module is served only with its publication proven in the log (internal.audit-log in proxy.yaml)")
	}
	modPath, err := readModulePath(o.Dir)
	if err != nil {
		return nil, err
	}
	if o.Internal == "" || !module.MatchPrefixPatterns(o.Internal, modPath) {
		return nil, fmt.Errorf("%s is not an internal module of this proxy (internal.modules: %q): the proxy would fetch it from the upstream; add its pattern to internal.modules in proxy.yaml", modPath, o.Internal)
	}
	m := module.Version{Path: modPath, Version: o.Version}
	if err := module.Check(m.Path, m.Version); err != nil {
		return nil, err
	}
	if module.CanonicalVersion(m.Version) != m.Version {
		return nil, fmt.Errorf("%s is not a canonical version (want vMAJOR.MINOR.PATCH)", m.Version)
	}

	tmp, err := os.CreateTemp(o.TempDir, "publish-*.zip")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	info := struct {
		Version string
		Time    time.Time
	}{m.Version, now().UTC().Truncate(time.Second)}
	if o.Git {
		root, sub, rev, err := gitSource(ctx, o.Dir, m.Version, o.Rev)
		if err != nil {
			return nil, err
		}
		progress("zipping %s at git revision %s", m, rev)
		if err := modzip.CreateFromVCS(tmp, m, root, rev, sub); err != nil {
			return nil, fmt.Errorf("zip %s from git %s: %w", m, rev, err)
		}
		if info.Time, err = gitCommitTime(ctx, root, rev); err != nil {
			return nil, err
		}
	} else {
		progress("zipping %s from %s", m, o.Dir)
		if err := modzip.CreateFromDir(tmp, m, o.Dir); err != nil {
			return nil, fmt.Errorf("zip %s: %w", m, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	st, goMod, err := hashZip(tmp.Name(), m)
	if err != nil {
		return nil, err
	}

	if done, err := existing(ctx, o.Store, st); done != nil || err != nil {
		return done, err
	}

	progress("signing %s %s", m, st.ZipHash)
	env, err := envelope.Sign(ctx, PayloadType, st.GoSum(), o.Signer)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sig, err := envelope.Marshal(env)
	if err != nil {
		return nil, err
	}
	keyID, err := keys.ID(o.Signer.Public())
	if err != nil {
		return nil, err
	}
	ev := publishEvent(st, keyID)
	ev.Time = now().UTC()
	ev.Host, _ = os.Hostname()
	progress("recording %s in the audit log %s", PublishAction, o.LogURL)
	rec, err := transparency.Record(ctx, o.LogURL, o.LogToken, o.LogKeys, ev)
	if err != nil {
		return nil, err
	}
	tlog, err := LogProof{Entry: string(rec.Entry), Proof: string(rec.Proof.Marshal())}.Marshal()
	if err != nil {
		return nil, err
	}
	// Check what is about to be stored exactly as a verifier will.
	v, err := Verify(sig, tlog, Trust{Publishers: []crypto.PublicKey{o.Signer.Public()}, Log: o.LogKeys})
	if err != nil {
		return nil, fmt.Errorf("the publication does not verify: %w", err)
	}

	infoJSON, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	at := now().UTC()
	for _, f := range []struct {
		kind, hash string
		content    io.ReadSeeker
	}{
		{modstore.Zip, st.ZipHash, tmp},
		{modstore.Mod, st.ModHash, bytes.NewReader(goMod)},
		{modstore.Info, "", bytes.NewReader(infoJSON)},
	} {
		if err := putFile(ctx, o.Store, m, f.kind, f.hash, f.content, at); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		kind string
		data []byte
	}{{modstore.SignatureExt, sig}, {modstore.LogProofExt, tlog}} {
		key, err := modstore.ModuleKey(m.Path, m.Version, f.kind)
		if err != nil {
			return nil, err
		}
		if err := o.Store.Replace(ctx, key, bytes.NewReader(f.data)); err != nil {
			return nil, fmt.Errorf("store %s: %w", key, err)
		}
	}
	progress("published %s: entry %d of %s", m, v.Index, v.Checkpoint.Origin)
	return &Published{Verified: *v}, nil
}

// existing looks for a complete publication of the statement's version: the
// same content is Published{Existing: true}, other content an
// ImmutableError. A partial publication (no .tlog) is nil, nil: it is
// completed.
func existing(ctx context.Context, s modstore.Store, st Statement) (*Published, error) {
	key, err := modstore.ModuleKey(st.Module, st.Version, modstore.LogProofExt)
	if err != nil {
		return nil, err
	}
	obj, err := s.Open(ctx, key)
	if errors.Is(err, modstore.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	obj.Close() // opened only to learn that it exists
	sigKey, _ := modstore.ModuleKey(st.Module, st.Version, modstore.SignatureExt)
	sig, err := modstore.ReadAll(ctx, s, sigKey, MaxSignatureSize)
	if err != nil {
		return nil, fmt.Errorf("%s@%s is published but its signature cannot be read: %w", st.Module, st.Version, err)
	}
	_, payload, err := envelope.Parse(sig, PayloadType)
	if err != nil {
		return nil, fmt.Errorf("%s@%s is published but its signature is damaged: %w", st.Module, st.Version, err)
	}
	old, err := ParseStatement(payload)
	if err != nil {
		return nil, err
	}
	if old != st {
		return nil, &ImmutableError{Module: st.Module, Version: st.Version, Stored: old.ZipHash, New: st.ZipHash}
	}
	return &Published{Verified: Verified{Statement: st}, Existing: true}, nil
}

// putFile stores an internal module file and its record.
func putFile(ctx context.Context, s modstore.Store, m module.Version, kind, hash string, content io.ReadSeeker, at time.Time) error {
	key, err := modstore.ModuleKey(m.Path, m.Version, kind)
	if err != nil {
		return err
	}
	sum := sha256.New()
	size, err := io.Copy(sum, content)
	if err != nil {
		return err
	}
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := s.Replace(ctx, key, content); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	rec := &modstore.Record{
		Module: m.Path, Version: m.Version, Kind: kind, Size: size, SHA256: hex.EncodeToString(sum.Sum(nil)),
		Hash: hash, Source: modstore.SourceInternal, VerifiedBy: VerifiedBySignature, Stored: at,
	}
	data, err := rec.Marshal()
	if err != nil {
		return err
	}
	if err := s.Replace(ctx, key+modstore.RecordSuffix, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("store %s: %w", key+modstore.RecordSuffix, err)
	}
	return nil
}

// hashZip checks a module zip against the module zip rules and returns its
// statement and its go.mod.
func hashZip(file string, m module.Version) (Statement, []byte, error) {
	if _, err := modzip.CheckZip(m, file); err != nil {
		return Statement{}, nil, fmt.Errorf("%s: not a valid module zip: %w", m, err)
	}
	zh, err := dirhash.HashZip(file, dirhash.Hash1)
	if err != nil {
		return Statement{}, nil, err
	}
	goMod, err := readZipGoMod(file, m)
	if err != nil {
		return Statement{}, nil, err
	}
	mh, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(goMod)), nil
	})
	if err != nil {
		return Statement{}, nil, err
	}
	return Statement{Module: m.Path, Version: m.Version, ZipHash: zh, ModHash: mh}, goMod, nil
}

// readZipGoMod reads the go.mod inside a module zip.
func readZipGoMod(file string, m module.Version) ([]byte, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	want := m.Path + "@" + m.Version + "/go.mod"
	for _, f := range zr.File {
		if f.Name != want {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(io.LimitReader(r, modzip.MaxGoMod))
	}
	return nil, fmt.Errorf("%s: the module zip holds no go.mod", m)
}

// readModulePath reads the module path from dir/go.mod.
func readModulePath(dir string) (string, error) {
	file := filepath.Join(dir, "go.mod")
	// A regular file, bounded: a FIFO in its place is refused, not waited on.
	data, err := inputfile.Read(context.Background(), file, modzip.MaxGoMod)
	if err != nil {
		return "", fmt.Errorf("%s is not a module directory: %w", dir, err)
	}
	p := modfile.ModulePath(data)
	if p == "" {
		return "", fmt.Errorf("%s has no module line", file)
	}
	return p, nil
}

// gitSource finds the repository holding dir, dir's place in it and the
// revision to zip: rev, or the version's tag.
func gitSource(ctx context.Context, dir, version, rev string) (root, sub, revision string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", "", err
	}
	out, err := git(ctx, abs, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", "", "", fmt.Errorf("%s is not in a git work tree: %w", dir, err)
	}
	root = out
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	sub, err = filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(sub, "..") {
		return "", "", "", fmt.Errorf("%s is not inside the repository %s", dir, root)
	}
	sub = filepath.ToSlash(sub)
	if sub == "." {
		sub = ""
	}
	if rev == "" {
		rev = version
		if sub != "" {
			rev = sub + "/" + version
		}
		if _, err := git(ctx, root, "rev-parse", "--verify", "--quiet", "refs/tags/"+rev); err != nil {
			return "", "", "", fmt.Errorf("no git tag %s in %s: tag the release (git tag %s) or name a revision with --rev", rev, root, rev)
		}
	}
	return root, sub, rev, nil
}

// gitCommitTime is the commit time of rev, the time a .info gives.
func gitCommitTime(ctx context.Context, root, rev string) (time.Time, error) {
	out, err := git(ctx, root, "log", "-1", "--format=%cI", rev+"^{commit}", "--")
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, out)
	if err != nil {
		return time.Time{}, fmt.Errorf("git commit time %q: %v", out, err)
	}
	return t.UTC(), nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
