package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Rollback switches current back to version to, or, when to is empty, to
// the version an interrupted install was switching from, else to previous;
// restarts the service and checks it. previous then names the version
// rolled back from, so a second rollback undoes the first.
func (m *Manager) Rollback(ctx context.Context, to string) (*Outcome, error) {
	unlock, err := m.begin()
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := m.root.Current()
	if err != nil {
		return nil, err
	}
	if to == "" {
		if p, _ := m.root.ReadPending(); p != nil && p.To == cur && p.From != "" {
			to = p.From
		} else if to, err = m.root.Previous(); err != nil {
			return nil, err
		}
		if to == "" {
			return nil, errors.New("nothing to roll back to: no previous release (give --to VERSION; hegui release list shows what is installed)")
		}
	}
	if to == cur {
		return nil, fmt.Errorf("%s is already current", to)
	}
	rec, err := m.root.Check(to)
	if err != nil {
		return nil, fmt.Errorf("cannot roll back: %v", err)
	}
	object := rec.Project + "@" + to
	out := &Outcome{Operation: "rollback", Version: to, From: cur, Current: cur}
	if err := m.root.writePending(Pending{Operation: "rollback", From: cur, To: to, Started: time.Now().UTC(), PID: os.Getpid()}); err != nil {
		return nil, err
	}
	if err := m.switchTo(ctx, object, cur, to); err != nil {
		return out, err
	}
	out.Switched, out.Current = true, to
	health, err := m.restartAndCheck(ctx, to)
	out.Health = health
	if err != nil {
		err = fmt.Errorf("rolled back to %s, but it is not healthy: %v", to, err)
		m.audit.event(ctx, ActionHealth, object, err)
		m.audit.event(ctx, ActionRollback, object, err, "from", cur, "to", to, "trigger", "operator")
		return out, err
	}
	if cur != "" {
		if err := m.root.setLink(PreviousLink, cur); err != nil {
			return out, err
		}
	}
	if err := m.root.clearPending(); err != nil {
		return out, err
	}
	m.audit.event(ctx, ActionRollback, object, nil, "from", cur, "to", to, "trigger", "operator")
	m.progress("rolled back: current -> %s", to)
	return out, nil
}

// Entry is one installed release, as list shows it.
type Entry struct {
	*Record
	Current  bool `json:"current"`
	Previous bool `json:"previous"`
}

// List lists the installed releases, newest install first.
func (m *Manager) List() ([]Entry, error) {
	recs, err := m.root.Versions()
	if err != nil {
		return nil, err
	}
	cur, err := m.root.Current()
	if err != nil {
		return nil, err
	}
	prev, err := m.root.Previous()
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(recs))
	for i, r := range recs {
		entries[i] = Entry{Record: r, Current: r.Version == cur, Previous: r.Version == prev}
	}
	return entries, nil
}

// Status is what status reports of a root.
type Status struct {
	Root     string   `json:"root"`
	Current  *Record  `json:"current,omitempty"`
	Previous string   `json:"previous,omitempty"`
	Pending  *Pending `json:"pending,omitempty"`
	// Intact is whether every file of the current release is as installed;
	// Problem says what is not.
	Intact  bool   `json:"intact"`
	Problem string `json:"problem,omitempty"`
	// Healthy is the answer of one round of the health checks (nil when
	// none is configured or none was asked for); HealthError what failed.
	Healthy     *bool  `json:"healthy,omitempty"`
	HealthError string `json:"healthError,omitempty"`
	// Running is what the PID file's process runs, when one is configured.
	Running string `json:"running,omitempty"`
}

// Status reads the root without taking its lock (it changes nothing):
// which release is current and whether its files are as installed, an
// interrupted operation, and, with checkHealth, one round of the health
// checks.
func (m *Manager) Status(ctx context.Context, checkHealth bool) (*Status, error) {
	if _, err := os.Stat(m.root.path(ReleasesDir)); err != nil {
		return nil, fmt.Errorf("%s is not a release root (no %s/): install a delivery into it first", m.root.Dir, ReleasesDir)
	}
	st := &Status{Root: m.root.Dir}
	cur, err := m.root.Current()
	if err != nil {
		return nil, err
	}
	if st.Previous, err = m.root.Previous(); err != nil {
		return nil, err
	}
	if st.Pending, err = m.root.ReadPending(); err != nil {
		st.Problem = err.Error()
	}
	if cur == "" {
		st.Problem = "no current release"
		return st, nil
	}
	rec, err := m.root.Check(cur)
	st.Current = rec
	switch {
	case err != nil:
		st.Problem = err.Error()
	case st.Problem == "":
		st.Intact = true
	}
	if m.restart.pidFile != "" {
		if pid, err := readPID(m.restart.pidFile); err == nil {
			if exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err == nil {
				st.Running = fmt.Sprintf("process %d runs %s", pid, strings.TrimSuffix(exe, " (deleted)"))
			} else {
				st.Running = fmt.Sprintf("process %d (from %s) is not running", pid, m.restart.pidFile)
			}
		} else {
			st.Running = err.Error()
		}
	}
	if checkHealth {
		checks, closeChecks, err := m.cfg.Health.checks(releaseEnv(m.root.Dir, m.root.ReleaseDir(cur), cur))
		if err != nil {
			return nil, err
		}
		defer closeChecks()
		if len(checks) > 0 {
			err := checkAll(ctx, checks, time.Now().Add(m.timing.Timeout))
			ok := err == nil
			st.Healthy = &ok
			if err != nil {
				st.HealthError = err.Error()
			}
		}
	}
	return st, nil
}

// Prune removes all but the keep newest releases; current and previous
// are always kept. It returns the versions removed.
func (m *Manager) Prune(ctx context.Context, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("--keep %d: keep at least 1 release (current and previous are kept anyway)", keep)
	}
	unlock, err := m.begin()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return m.prune(ctx, keep)
}

func (m *Manager) prune(ctx context.Context, keep int) ([]string, error) {
	entries, err := m.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	for i, e := range entries {
		// A release whose record cannot be read is never removed: nobody
		// knows what it is.
		if i < keep || e.Current || e.Previous || e.Problem != "" {
			continue
		}
		if err := m.root.removeRelease(e.Version); err != nil {
			m.audit.event(ctx, ActionPrune, e.Project+"@"+e.Version, err)
			return removed, fmt.Errorf("remove %s: %v", e.Version, err)
		}
		removed = append(removed, e.Version)
		m.audit.event(ctx, ActionPrune, e.Project+"@"+e.Version, nil)
	}
	if len(removed) > 0 {
		m.progress("pruned %d releases: %s", len(removed), strings.Join(removed, ", "))
	}
	return removed, nil
}
