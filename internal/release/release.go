// Package release installs verified deliveries on the machine that runs
// them and switches between them: `hegui release`.
//
// A release root holds one directory per installed version and two
// symbolic links, current and previous (layout.go). Install verifies the
// delivery as `hegui verify` does and refuses it unless every check holds;
// copies this platform's binaries (and the files release.yaml names),
// checking each against the verified manifest as it is copied; switches
// current by renaming a new link over it, so that current always names a
// whole release; restarts the service (a command, or a signal to a PID
// file's process); and waits for it to be healthy (HTTP, the gRPC health
// protocol, or a command). When the new version is not healthy it switches
// back, restarts and checks the old version again. A lock (flock) keeps
// two commands from working in a root at once; pending.json tells the next
// command that one was interrupted. Every install, switch, failure and
// rollback is an event in the transparency audit log when one is
// configured.
package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"hegui.dev/hegui/internal/atomicfile"
	"hegui.dev/hegui/internal/ctxio"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/human"
	"hegui.dev/hegui/internal/inputfile"
	"hegui.dev/hegui/internal/trust"
	"hegui.dev/hegui/internal/verify"
)

// Options open a release root.
type Options struct {
	// Root is the release root directory.
	Root string
	// Config is release.yaml merged with the command line.
	Config Config
	// Progress receives a line for each step; nil discards them.
	Progress io.Writer
	// HookOutput receives the output of the restart command; nil discards it.
	HookOutput io.Writer
	// Warn receives problems that do not stop the work (the audit log
	// unreachable); nil discards them.
	Warn func(error)
}

// Manager works in one release root.
type Manager struct {
	root    Root
	cfg     Config
	timing  healthTiming
	restart restarter
	out     io.Writer
	warn    func(error)
	audit   *auditor
}

// Open opens a release root. It does not lock it: each operation does.
func Open(o Options) (*Manager, error) {
	if o.Root == "" {
		return nil, errors.New("no release root: give --root DIR")
	}
	abs, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, err
	}
	if err := o.Config.Check(); err != nil {
		return nil, err
	}
	timing, _ := o.Config.Health.timing()
	m := &Manager{root: Root{abs}, cfg: o.Config, timing: timing, out: o.Progress}
	if m.out == nil {
		m.out = io.Discard
	}
	hookOut := o.HookOutput
	if hookOut == nil {
		hookOut = io.Discard
	}
	if m.restart, err = o.Config.restarter(abs, hookOut); err != nil {
		return nil, err
	}
	warn := o.Warn
	if warn == nil {
		warn = func(error) {}
	}
	m.warn = warn
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		if m.audit, err = newAuditor(abs, o.Config.AuditLog, warn); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Root is the release root.
func (m *Manager) Root() Root { return m.root }

// Close sends the audit events still held (or leaves them in the spool)
// and says how many were not sent.
func (m *Manager) Close() error {
	st, err := m.audit.close()
	if err != nil {
		return fmt.Errorf("audit log: %v", err)
	}
	if st.Spooled > 0 || st.Dropped > 0 || st.Rejected > 0 {
		return fmt.Errorf("audit log: %d events not sent (%d spooled in %s, sent by the next hegui release; %d lost)", st.Spooled+st.Dropped+st.Rejected, st.Spooled, m.root.path(SpoolFile), st.Dropped+st.Rejected)
	}
	return nil
}

func (m *Manager) progress(format string, args ...any) {
	fmt.Fprintf(m.out, format+"\n", args...)
}

// InstallOptions say what to install.
type InstallOptions struct {
	// Delivery is the delivery directory (hegui deliver's output).
	Delivery string
	// Anchors are what the delivery must be signed by.
	Anchors trust.Anchors
	// Platform is GOOS/GOARCH of the binaries to install; empty means this
	// machine's.
	Platform string
}

// Outcome is what an install or a rollback did.
type Outcome struct {
	Operation string `json:"operation"` // install or rollback
	Version   string `json:"version"`
	From      string `json:"from,omitempty"`
	// Copied is set when the release's files were copied (not when the
	// version was installed before).
	Copied bool `json:"copied"`
	// Switched is set when current was switched to Version; Current is
	// what current names at the end.
	Switched bool   `json:"switched"`
	Current  string `json:"current"`
	// Health is the new version's health check; nil when none is configured.
	Health *HealthResult `json:"health,omitempty"`
	// RolledBack is set when the new version failed and current was
	// switched back to From; RollbackHealth is From's check after that and
	// Recovered how long after the failure From passed it.
	RolledBack     bool          `json:"rolledBack,omitempty"`
	RollbackHealth *HealthResult `json:"rollbackHealth,omitempty"`
	Recovered      time.Duration `json:"recoveredNs,omitempty"`
	Pruned         []string      `json:"pruned,omitempty"`
}

// Install verifies, copies, switches, restarts and checks (see the
// package doc). The error is nil only when current ends on the delivery's
// version and it is healthy (or no health check is configured).
func (m *Manager) Install(ctx context.Context, o InstallOptions) (*Outcome, error) {
	if o.Anchors.Empty() {
		return nil, errors.New("nothing to verify the delivery against: give --trust-root or --pub (or trust-root:/pub: in release.yaml)")
	}
	goos, goarch, err := parsePlatform(o.Platform)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(m.root.Dir, 0o755); err != nil {
		return nil, err
	}
	if m.audit == nil && m.cfg.AuditLog.URL != "" {
		if m.audit, err = newAuditor(m.root.Dir, m.cfg.AuditLog, m.warn); err != nil {
			return nil, err
		}
	}
	unlock, err := m.begin()
	if err != nil {
		return nil, err
	}
	defer unlock()

	m.progress("verifying %s", o.Delivery)
	res, err := verify.Run(ctx, verify.Options{Dir: o.Delivery, Roots: o.Anchors.Roots, Keys: o.Anchors.Keys})
	if err != nil {
		m.audit.event(ctx, ActionInstall, o.Delivery, err)
		return nil, err
	}
	if !res.Passed || res.Manifest == nil {
		err := fmt.Errorf("%s does not verify (%s): nothing was installed; hegui verify says why", o.Delivery, strings.Join(res.Failed(), ", "))
		m.audit.event(ctx, ActionInstall, o.Delivery, err)
		return nil, err
	}
	man := res.Manifest
	v := man.Version
	if err := checkVersion(v); err != nil {
		return nil, err
	}
	object := man.Project + "@" + v
	m.progress("verified %s %s: %s", man.Project, v, signatureDetail(res))

	out := &Outcome{Operation: "install", Version: v}
	rec, copied, err := m.stage(ctx, o.Delivery, res, goos, goarch)
	if err != nil {
		m.audit.event(ctx, ActionInstall, object, err)
		return nil, err
	}
	out.Copied = copied
	from, err := m.root.Current()
	if err != nil {
		return nil, err
	}
	out.Current = from
	// An install or rollback was interrupted, and current is this version:
	// nobody saw it healthy since (the service may even run the other
	// version still), so this install takes over: restart and check, and
	// roll back to where the interrupted one came from if it was switching
	// to this version.
	resume := false
	if p, _ := m.root.ReadPending(); p != nil && from == v {
		from, resume = "", true
		if p.To == v && p.From != v {
			from = p.From
		}
		m.progress("resuming after the interrupted %s of %s: restarting %s and checking it", p.Operation, p.To, v)
	}
	out.From = from
	if from == v {
		m.progress("%s is already current: nothing switched", v)
		m.audit.event(ctx, ActionInstall, object, nil, "from", from, "to", v, "note", "already current")
		return out, nil
	}
	if !resume {
		if err := m.root.writePending(Pending{Operation: "install", From: from, To: v, Started: time.Now().UTC(), PID: os.Getpid()}); err != nil {
			return nil, err
		}
		if err := m.switchTo(ctx, object, from, v); err != nil {
			return out, err
		}
		out.Switched = true
	}
	out.Current = v
	health, err := m.restartAndCheck(ctx, v)
	out.Health = health
	if err == nil {
		if from != "" {
			if err := m.root.setLink(PreviousLink, from); err != nil {
				return out, err
			}
		}
		if err := m.root.clearPending(); err != nil {
			return out, err
		}
		m.audit.event(ctx, ActionInstall, object, nil, "from", from, "to", v, "manifest_sha256", rec.ManifestSHA256)
		m.progress("installed %s: current -> %s", v, filepath.Join(ReleasesDir, v))
		if m.cfg.Keep > 0 {
			pruned, err := m.prune(ctx, m.cfg.Keep)
			out.Pruned = pruned
			if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	failedAt := time.Now()
	failure := fmt.Errorf("%s is not healthy: %v", v, err)
	m.audit.event(ctx, ActionHealth, object, failure)
	m.audit.event(ctx, ActionInstall, object, failure, "from", from, "to", v)
	if from == "" {
		m.root.clearPending()
		return out, fmt.Errorf("%v; there is no earlier release to go back to, so %s stays current", failure, v)
	}
	// What runs after the rollback must still be what was installed.
	if _, err := m.root.Check(from); err != nil {
		return out, fmt.Errorf("%v; not rolled back: %v", failure, err)
	}
	m.progress("%v; rolling back to %s", failure, from)
	out.RolledBack = true
	if err := m.switchTo(ctx, man.Project+"@"+from, v, from); err != nil {
		return out, fmt.Errorf("%v; switching back to %s failed: %v", failure, from, err)
	}
	out.Current = from
	back, berr := m.restartAndCheck(ctx, from)
	out.RollbackHealth = back
	if back != nil && !back.passedAt.IsZero() {
		out.Recovered = back.passedAt.Sub(failedAt)
	}
	m.audit.event(ctx, ActionRollback, man.Project+"@"+from, berr, "from", v, "to", from, "trigger", "health check", "recovered", out.Recovered.String())
	if berr != nil {
		return out, fmt.Errorf("%v; rolled back to %s, which is not healthy either: %v", failure, from, berr)
	}
	m.root.clearPending()
	if out.Recovered > 0 {
		m.progress("rolled back to %s: healthy again %s after %s failed", from, human.Duration(out.Recovered), v)
	} else {
		m.progress("rolled back to %s", from)
	}
	return out, fmt.Errorf("%v; rolled back to %s, which is healthy", failure, from)
}

func signatureDetail(res *verify.Result) string {
	for _, it := range res.Items {
		if it.Name == "signature" {
			return it.Detail
		}
	}
	return "signature holds"
}

// begin takes the root's lock, cleans what an interrupted command left and
// says when one was interrupted.
func (m *Manager) begin() (unlock func(), err error) {
	if fi, err := os.Stat(m.root.Dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a release root: install a delivery into it first (hegui release install DELIVERY --root %s)", m.root.Dir, m.root.Dir)
	}
	unlock, err = m.root.lock()
	if err != nil {
		return nil, err
	}
	if err := m.root.removeLeftovers(); err != nil {
		unlock()
		return nil, err
	}
	if p, err := m.root.ReadPending(); err == nil && p != nil {
		cur, _ := m.root.Current()
		m.progress("note: the %s of %s started %s (process %d) did not finish; current is %s", p.Operation, p.To, p.Started.Local().Format("2006-01-02 15:04:05"), p.PID, cmpOr(cur, "none"))
	}
	return unlock, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// switchTo points current at v and records the switch.
func (m *Manager) switchTo(ctx context.Context, object, from, v string) error {
	err := m.root.setLink(CurrentLink, v)
	m.audit.event(ctx, ActionSwitch, object, err, "from", from, "to", v)
	if err != nil {
		return fmt.Errorf("switch current to %s: %v", v, err)
	}
	m.progress("switched current: %s -> %s", cmpOr(from, "none"), v)
	return nil
}

// restartAndCheck restarts the service on v and waits for it to be
// healthy. The result is nil when no health check is configured.
func (m *Manager) restartAndCheck(ctx context.Context, v string) (*HealthResult, error) {
	dir := m.root.ReleaseDir(v)
	if m.restart.configured() {
		m.progress("restarting: %s", m.restart)
		rctx, cancel := context.WithTimeout(ctx, m.timing.Timeout)
		err := m.restart.restart(rctx, m.root.Dir, dir, v)
		cancel()
		if err != nil {
			return nil, err
		}
	} else {
		m.progress("note: no restart configured (restart: or signal: in %s): the service runs %s when it next starts", ConfigFile, v)
	}
	checks, closeChecks, err := m.cfg.Health.checks(releaseEnv(m.root.Dir, dir, v))
	if err != nil {
		return nil, err
	}
	defer closeChecks()
	if len(checks) == 0 {
		m.progress("note: no health check configured (health: in %s): the switch is not checked", ConfigFile)
		return nil, nil
	}
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.String()
	}
	m.progress("checking health: %s (within %v, healthy for %v)", strings.Join(names, ", "), m.timing.Timeout, m.timing.HealthyFor)
	res := waitHealthy(ctx, checks, m.timing)
	if !res.Healthy {
		return &res, fmt.Errorf("%v (after %d checks in %s)", res.Err, res.Attempts, human.Duration(res.Elapsed))
	}
	m.progress("healthy: first answer after %s, held for %v", human.Duration(res.FirstPass), m.timing.HealthyFor)
	return &res, nil
}

// parsePlatform reads GOOS/GOARCH; empty is this machine's.
func parsePlatform(p string) (goos, goarch string, err error) {
	if p == "" {
		return runtime.GOOS, runtime.GOARCH, nil
	}
	goos, goarch, ok := strings.Cut(p, "/")
	if !ok || goos == "" || goarch == "" || strings.ContainsAny(goarch, "/_") || strings.Contains(goos, "_") {
		return "", "", fmt.Errorf("platform %q: give GOOS/GOARCH, such as linux/arm64", p)
	}
	return goos, goarch, nil
}

// stage makes releases/V from a verified delivery, or finds it already
// there from the same delivery. Every file is checked against the verified
// manifest while it is copied, so a delivery changed after verification
// is refused; the release appears whole (a renamed directory) or not at all.
func (m *Manager) stage(ctx context.Context, delivery string, res *verify.Result, goos, goarch string) (rec *Record, copied bool, err error) {
	man := res.Manifest
	v := man.Version
	sum := sha256.Sum256(res.ManifestJSON)
	manifestSum := hex.EncodeToString(sum[:])
	if old, err := m.root.ReadRecord(v); err == nil {
		if old.ManifestSHA256 != manifestSum {
			return nil, false, fmt.Errorf("%s is already installed from another delivery (manifest SHA-256 %s, this one %s): a version is never replaced; deliver a new version", v, short(old.ManifestSHA256), short(manifestSum))
		}
		if _, cerr := m.root.Check(v); cerr == nil {
			m.progress("%s is installed already (same delivery, files unchanged)", v)
			return old, false, nil
		} else if cur, _ := m.root.Current(); cur == v {
			return nil, false, fmt.Errorf("%v; it is current, so it is not replaced while the service may run it: roll back first", cerr)
		} else {
			m.progress("%v; installing it again", cerr)
			if err := m.root.removeRelease(v); err != nil {
				return nil, false, err
			}
		}
	} else if _, serr := os.Lstat(m.root.ReleaseDir(v)); serr == nil {
		return nil, false, fmt.Errorf("%s exists but is not a release hegui installed (%v): move it away", m.root.ReleaseDir(v), err)
	}

	plan, err := planFiles(man, m.cfg.Files, goos, goarch)
	if err != nil {
		return nil, false, err
	}
	src, err := inputfile.OpenDir(delivery)
	if err != nil {
		return nil, false, err
	}
	defer src.Close()
	if err := os.MkdirAll(m.root.path(ReleasesDir), 0o755); err != nil {
		return nil, false, err
	}
	tmp := m.root.path(ReleasesDir, ".incoming-"+v+"-"+randomSuffix())
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	rec = &Record{
		Schema: RecordSchema, Project: man.Project, Module: man.Module, Version: v, Commit: man.Commit,
		Platform: goos + "/" + goarch, Installed: time.Now().UTC().Truncate(time.Second),
		ManifestSHA256: manifestSum, Trust: signatureDetail(res),
	}
	var total int64
	for _, p := range plan {
		f, err := copyChecked(ctx, src, p, tmp)
		if err != nil {
			return nil, false, err
		}
		total += f.Size
		rec.Files = append(rec.Files, f)
	}
	for name, data := range map[string][]byte{format.ManifestFile: res.ManifestJSON, format.ManifestEnvelopeFile: res.ManifestDSSE} {
		f, err := writeNew(filepath.Join(tmp, DeliveryDir, name), data, 0o644)
		if err != nil {
			return nil, false, err
		}
		f.Path = DeliveryDir + "/" + name
		rec.Files = append(rec.Files, f)
	}
	sort.Slice(rec.Files, func(i, j int) bool { return rec.Files[i].Path < rec.Files[j].Path })
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, false, err
	}
	if _, err := writeNew(filepath.Join(tmp, RecordFile), append(data, '\n'), 0o644); err != nil {
		return nil, false, err
	}
	for _, d := range dirsOf(tmp, rec.Files) {
		if err := atomicfile.SyncDir(d); err != nil {
			return nil, false, err
		}
	}
	if err := os.Rename(tmp, m.root.ReleaseDir(v)); err != nil {
		return nil, false, err
	}
	if err := atomicfile.SyncDir(m.root.path(ReleasesDir)); err != nil {
		return nil, false, err
	}
	m.progress("copied %d files (%s) to %s", len(rec.Files), human.Bytes(total), filepath.Join(ReleasesDir, v))
	return rec, true, nil
}

// planned is one file to copy from the delivery.
type planned struct {
	entry format.FileEntry
	dest  string // path in the release, slashes
	mode  os.FileMode
}

// planFiles picks the platform's binaries (to bin/NAME) and the files
// release.yaml names (at their path) from the verified manifest.
func planFiles(man *format.Manifest, patterns []string, goos, goarch string) ([]planned, error) {
	prefix := "bin/" + goos + "_" + goarch + "/"
	var plan []planned
	platforms := map[string]bool{}
	for _, f := range man.Files {
		if rest, ok := strings.CutPrefix(f.Path, "bin/"); ok {
			if p, _, ok := strings.Cut(rest, "/"); ok {
				platforms[strings.Replace(p, "_", "/", 1)] = true
			}
		}
		if name, ok := strings.CutPrefix(f.Path, prefix); ok && name != "" && !strings.Contains(name, "/") {
			plan = append(plan, planned{entry: f, dest: "bin/" + name, mode: 0o755})
		}
	}
	if len(plan) == 0 {
		var have []string
		for p := range platforms {
			have = append(have, p)
		}
		sort.Strings(have)
		return nil, fmt.Errorf("the delivery has no binary for %s/%s (it has %s): give --platform, or deliver for this platform", goos, goarch, cmpOr(strings.Join(have, ", "), "none"))
	}
	for _, pat := range patterns {
		n := 0
		for _, f := range man.Files {
			if ok, _ := path.Match(pat, f.Path); ok && !strings.HasPrefix(f.Path, "bin/") {
				if f.Path == RecordFile || strings.HasPrefix(f.Path, DeliveryDir+"/") {
					return nil, fmt.Errorf("files: %s would overwrite the release's own %s", f.Path, f.Path)
				}
				plan = append(plan, planned{entry: f, dest: f.Path, mode: 0o644})
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("files: %q matches no file of the delivery (binaries are installed anyway)", pat)
		}
	}
	return plan, nil
}

// copyChecked copies one delivery file into dir, hashing it on the way,
// and refuses it unless it is the file the manifest lists.
func copyChecked(ctx context.Context, src *inputfile.Dir, p planned, dir string) (RecordedFile, error) {
	in, _, err := src.Open(p.entry.Path)
	if err != nil {
		return RecordedFile{}, fmt.Errorf("%s: %w", p.entry.Path, err)
	}
	defer in.Close()
	dest := filepath.Join(dir, filepath.FromSlash(p.dest))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return RecordedFile{}, err
	}
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, p.mode)
	if err != nil {
		return RecordedFile{}, err
	}
	defer out.Close()
	h := sha256.New()
	n, err := ctxio.Copy(ctx, io.MultiWriter(out, h), io.LimitReader(in, p.entry.Size+1))
	if err != nil {
		return RecordedFile{}, fmt.Errorf("copy %s: %w", p.entry.Path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if n != p.entry.Size || sum != p.entry.SHA256 {
		return RecordedFile{}, fmt.Errorf("%s changed after the delivery was verified (SHA-256 %s, signed %s): nothing was installed", p.entry.Path, short(sum), short(p.entry.SHA256))
	}
	if err := out.Chmod(p.mode); err != nil {
		return RecordedFile{}, err
	}
	if err := out.Sync(); err != nil {
		return RecordedFile{}, err
	}
	return RecordedFile{Path: p.dest, From: p.entry.Path, Size: n, SHA256: sum, Mode: p.mode}, out.Close()
}

// writeNew writes a new file and syncs it.
func writeNew(name string, data []byte, mode os.FileMode) (RecordedFile, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return RecordedFile{}, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return RecordedFile{}, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return RecordedFile{}, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return RecordedFile{}, err
	}
	sum := sha256.Sum256(data)
	return RecordedFile{Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Mode: mode}, f.Close()
}

// dirsOf lists dir and every directory under it that holds a file, deepest first.
func dirsOf(dir string, files []RecordedFile) []string {
	seen := map[string]bool{dir: true}
	for _, f := range files {
		for d := filepath.Dir(filepath.Join(dir, filepath.FromSlash(f.Path))); len(d) > len(dir); d = filepath.Dir(d) {
			seen[d] = true
		}
	}
	var dirs []string
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	return dirs
}
