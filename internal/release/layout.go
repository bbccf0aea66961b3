package release

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/inputfile"
)

// The release root's entries:
//
//	ROOT/release.yaml             the configuration (optional)
//	ROOT/current -> releases/V    the running version (a relative symbolic link)
//	ROOT/previous -> releases/V   the version before it: rollback's default
//	ROOT/releases/V/              one installed release (RecordFile lists its files)
//	ROOT/pending.json             an install or rollback under way (or interrupted)
//	ROOT/.lock                    held (flock) by the hegui working in the root
//	ROOT/audit.spool              audit events waiting for the log to be reachable
const (
	CurrentLink  = "current"
	PreviousLink = "previous"
	ReleasesDir  = "releases"
	PendingFile  = "pending.json"
	LockFile     = ".lock"
	SpoolFile    = "audit.spool"
	// RecordFile, in each release's directory, says what was installed.
	RecordFile = "release.json"
	// DeliveryDir, in each release's directory, keeps the delivery's
	// signed manifest and its signatures.
	DeliveryDir = "delivery"
)

// RecordSchema identifies release.json.
const RecordSchema = "hegui.dev/release/v1"

// Record is release.json: what one installed release holds and where it
// came from.
type Record struct {
	Schema   string `json:"schema"`
	Project  string `json:"project"`
	Module   string `json:"module"`
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Platform string `json:"platform"`
	// Installed is when the release was installed.
	Installed time.Time `json:"installed"`
	// ManifestSHA256 is the digest of the delivery's manifest.json, which
	// verified against Trust when the release was installed.
	ManifestSHA256 string         `json:"manifestSha256"`
	Trust          string         `json:"trust"`
	Files          []RecordedFile `json:"files"`
	// Problem, never in release.json, says why a listed release's record
	// could not be read (Versions).
	Problem string `json:"problem,omitempty"`
}

// RecordedFile is one installed file.
type RecordedFile struct {
	// Path is the file's path in the release's directory; From its path in
	// the delivery (empty for the delivery's manifest files).
	Path   string      `json:"path"`
	From   string      `json:"from,omitempty"`
	Size   int64       `json:"size"`
	SHA256 string      `json:"sha256"`
	Mode   fs.FileMode `json:"mode"`
}

// versionPattern is what may name a release's directory: a delivery's
// version (v1.2.3, v0.0.0-20261201-abcdef, 2026.12.1+build) and nothing
// that leaves the directory.
var versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$`)

// checkVersion refuses a version that cannot name a directory.
func checkVersion(v string) error {
	if !versionPattern.MatchString(v) || strings.Contains(v, "..") {
		return fmt.Errorf("version %q cannot name a release: letters, digits and . _ + - only, starting with a letter or digit", v)
	}
	return nil
}

// Root is a release root directory.
type Root struct {
	Dir string
}

func (r Root) path(elem ...string) string {
	return filepath.Join(append([]string{r.Dir}, elem...)...)
}

// ReleaseDir is the directory of version v.
func (r Root) ReleaseDir(v string) string { return r.path(ReleasesDir, v) }

// link reads the version a link (current, previous) points to; "" when
// there is no link.
func (r Root) link(name string) (string, error) {
	target, err := os.Readlink(r.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.path(name), err)
	}
	dir, v := filepath.Split(filepath.Clean(target))
	if filepath.Clean(dir) != ReleasesDir || checkVersion(v) != nil {
		return "", fmt.Errorf("%s points to %s, not to a release in %s/: it was not made by hegui release", r.path(name), target, ReleasesDir)
	}
	return v, nil
}

// Current is the current version; "" before the first install.
func (r Root) Current() (string, error) { return r.link(CurrentLink) }

// Previous is the version current was switched from; "" when none.
func (r Root) Previous() (string, error) { return r.link(PreviousLink) }

// setLink points the link name at version v, atomically: a new symbolic
// link renamed over the old one, so the name is never missing. The root
// directory is synced so the switch survives a power cut.
func (r Root) setLink(name, v string) error {
	tmp := r.path("." + name + "." + randomSuffix())
	if err := os.Symlink(filepath.Join(ReleasesDir, v), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, r.path(name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return atomicfile.SyncDir(r.Dir)
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ReadRecord reads the release.json of version v.
func (r Root) ReadRecord(v string) (*Record, error) {
	if err := checkVersion(v); err != nil {
		return nil, err
	}
	data, err := inputfile.Read(context.Background(), filepath.Join(r.ReleaseDir(v), RecordFile), inputfile.DocumentLimit)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Lstat(r.ReleaseDir(v)); serr != nil {
				return nil, fmt.Errorf("%s is not installed in %s", v, r.Dir)
			}
		}
		return nil, fmt.Errorf("release %s: %w", v, err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("release %s: %s: %v", v, RecordFile, err)
	}
	if rec.Schema != RecordSchema || rec.Version != v {
		return nil, fmt.Errorf("release %s: %s is not a release record for %s", v, RecordFile, v)
	}
	return &rec, nil
}

// Check reads release v's record and checks every file it lists has its
// size and SHA-256 (and its mode's executable bits): an installed release
// changed since is named with the file that differs.
func (r Root) Check(v string) (*Record, error) {
	rec, err := r.ReadRecord(v)
	if err != nil {
		return nil, err
	}
	dir := r.ReleaseDir(v)
	for _, f := range rec.Files {
		if err := inputfile.CheckName(f.Path); err != nil {
			return rec, fmt.Errorf("release %s: %s lists %q: %v", v, RecordFile, f.Path, err)
		}
		sum, size, mode, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case err != nil:
			return rec, fmt.Errorf("release %s: %v", v, err)
		case size != f.Size || sum != f.SHA256:
			return rec, fmt.Errorf("release %s: %s was changed after it was installed (SHA-256 %s, installed %s)", v, f.Path, short(sum), short(f.SHA256))
		case mode.Perm()&0o111 != f.Mode.Perm()&0o111:
			return rec, fmt.Errorf("release %s: %s has mode %v, installed %v", v, f.Path, mode.Perm(), f.Mode.Perm())
		}
	}
	return rec, nil
}

func short(hex string) string {
	if len(hex) > 16 {
		return hex[:16] + "…"
	}
	return hex
}

// hashFile hashes a regular file (not through a symbolic link).
func hashFile(name string) (sum string, size int64, mode fs.FileMode, err error) {
	f, fi, err := inputfile.Open(name)
	if err != nil {
		return "", 0, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, 0, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, fi.Mode(), nil
}

// Versions lists the installed releases, newest install first; a release
// whose release.json cannot be read comes last, as a Record holding only
// its Version and the Problem. Directories an interrupted install or prune
// left (hidden names) are not releases.
func (r Root) Versions() ([]*Record, error) {
	entries, err := os.ReadDir(r.path(ReleasesDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []*Record
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.IsDir() {
			continue
		}
		rec, err := r.ReadRecord(e.Name())
		if err != nil {
			rec = &Record{Version: e.Name(), Problem: err.Error()}
		}
		recs = append(recs, rec)
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if (recs[i].Problem == "") != (recs[j].Problem == "") {
			return recs[i].Problem == ""
		}
		return recs[i].Installed.After(recs[j].Installed)
	})
	return recs, nil
}

// Pending is pending.json: an operation that switches versions, written
// before the first switch and removed when the operation ends. Found at
// the start of another, it says the last one was interrupted.
type Pending struct {
	Operation string    `json:"operation"` // install or rollback
	From      string    `json:"from,omitempty"`
	To        string    `json:"to"`
	Started   time.Time `json:"started"`
	PID       int       `json:"pid"`
}

// ReadPending reads pending.json; nil when there is none.
func (r Root) ReadPending() (*Pending, error) {
	data, err := inputfile.Read(context.Background(), r.path(PendingFile), inputfile.DocumentLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Pending
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %v", r.path(PendingFile), err)
	}
	return &p, nil
}

func (r Root) writePending(p Pending) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(r.path(PendingFile), append(data, '\n'), 0o644)
}

func (r Root) clearPending() error {
	if err := os.Remove(r.path(PendingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(r.Dir)
}

// lock takes the root's lock, or says who holds it. The lock is an flock:
// the kernel releases it when the holder exits, however it exits.
func (r Root) lock() (unlock func(), err error) {
	f, err := os.OpenFile(r.path(LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if b, _ := io.ReadAll(io.LimitReader(f, 32)); len(b) > 0 {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					holder = fmt.Sprintf("process %d", pid)
				}
			}
			return nil, fmt.Errorf("%s is in use: %s (another hegui release) is working in it; wait for it to finish", r.Dir, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", r.path(LockFile), err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		f.Truncate(0)
		f.Close()
	}, nil
}

// removeLeftovers removes what an interrupted install or prune left in
// releases/ (hidden directories) and stray link files. It runs under the
// lock, when no other hegui works in the root.
func (r Root) removeLeftovers() error {
	entries, err := os.ReadDir(r.path(ReleasesDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".incoming-") || strings.HasPrefix(e.Name(), ".trash-") {
			if err := os.RemoveAll(r.path(ReleasesDir, e.Name())); err != nil {
				return err
			}
		}
	}
	root, err := os.ReadDir(r.Dir)
	if err != nil {
		return err
	}
	for _, e := range root {
		n := e.Name()
		if strings.HasPrefix(n, "."+CurrentLink+".") || strings.HasPrefix(n, "."+PreviousLink+".") {
			os.Remove(r.path(n))
		}
	}
	return nil
}

// removeRelease removes release v: renamed away first, so that a crash
// leaves either the whole release or a hidden leftover, never half of one.
func (r Root) removeRelease(v string) error {
	trash := r.path(ReleasesDir, ".trash-"+v+"-"+randomSuffix())
	if err := os.Rename(r.ReleaseDir(v), trash); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(r.path(ReleasesDir)); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}
