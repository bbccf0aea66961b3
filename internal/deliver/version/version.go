// Package version is the first stage: it names the delivery after the git
// tag at HEAD, or after a Go pseudo-version for --snapshot work, and fixes
// the commit time every later stage uses as SOURCE_DATE_EPOCH.
package version

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/vcs"
)

// Stage determines d.Version.
type Stage struct{}

// Name implements delivery.Stage.
func (Stage) Name() string { return "version" }

// Run implements delivery.Stage.
func (Stage) Run(ctx context.Context, d *delivery.Delivery) error {
	info, err := vcs.Read(ctx, d.ModuleDir)
	if errors.Is(err, vcs.ErrNotRepository) {
		return noRepository(d)
	}
	if err != nil {
		return err
	}
	v := &d.Version
	v.VCS, v.Commit, v.CommitTime, v.Dirty, v.RemoteURL = true, info.Commit, info.CommitTime, info.Dirty, info.RemoteURL
	v.ShortCommit = info.Commit[:12]
	switch {
	case info.Tag != "" && !info.Dirty:
		v.Version, v.Tag = info.Tag, info.TagPrefix+info.Tag
		if d.Options.Snapshot {
			v.Snapshot = true
			d.Log.Stepf("HEAD is tagged %s; --snapshot marks the delivery as a snapshot anyway", v.Tag)
		}
	case d.Options.Snapshot:
		v.Version, v.Snapshot = info.PseudoVersion(), true
	case info.Dirty:
		return fmt.Errorf("the work tree has uncommitted changes (%s): commit them, or pass --snapshot to deliver a snapshot of the work in progress", vcs.ChangesText(info.Changes, 5))
	default:
		return fmt.Errorf("HEAD (%s) has no release tag: tag it (git tag %sv1.2.3) or pass --snapshot", v.ShortCommit, info.TagPrefix)
	}
	d.Log.Stepf("%s at %s, committed %s", v.Version, v.ShortCommit, v.CommitTime.Format(time.RFC3339))
	return name(d)
}

// name sets where the delivery will go, and refuses to overwrite an earlier
// delivery of the same version unless asked.
func name(d *delivery.Delivery) error {
	d.FinalDir = filepath.Join(d.OutputDir, d.Name+"_"+d.Version.Version)
	if _, err := os.Stat(d.FinalDir); err == nil && !d.Options.Force {
		return fmt.Errorf("%s already exists: a delivery of %s was made before (use --force to replace it)", d.FinalDir, d.Version.Version)
	}
	return nil
}

// noRepository versions a module outside git: only as a snapshot, with
// SOURCE_DATE_EPOCH from the environment if set.
func noRepository(d *delivery.Delivery) error {
	if !d.Options.Snapshot {
		return errors.New("the module is not in a git repository, so it has no commit or tag to deliver: pass --snapshot to deliver it anyway")
	}
	t := time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a Unix time", s)
		}
		t = time.Unix(secs, 0).UTC()
	}
	d.Version = format.Version{Version: "v0.0.0-snapshot", CommitTime: t, Snapshot: true}
	d.Warn("the module is not in a git repository: the delivery records no commit, and its date comes from SOURCE_DATE_EPOCH (else 1970-01-01)")
	return name(d)
}
