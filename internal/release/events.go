package release

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"time"

	"hegui.dev/hegui/translog"
)

// The audit events of a release root (actions in the audit log):
//
//	release.install   a delivery installed and switched to (or refused, or failed)
//	release.switch    current switched from one version to another
//	release.health    a version failed its health check
//	release.rollback  switched back, automatically after a failed health check or by the operator
//	release.prune     old releases removed
const (
	ActionInstall  = "release.install"
	ActionSwitch   = "release.switch"
	ActionHealth   = "release.health"
	ActionRollback = "release.rollback"
	ActionPrune    = "release.prune"
)

// auditor records events in the audit log through translog's handler: it
// waits for the log (the events of one command are few), and keeps what
// the log could not take in the root's spool file, sent by the next
// command that runs.
type auditor struct {
	h     *translog.Handler
	log   *slog.Logger
	actor string
	errs  func(error)
}

func newAuditor(root string, c AuditLogConfig, warn func(error)) (*auditor, error) {
	if c.URL == "" {
		return nil, nil
	}
	env := cmp.Or(c.TokenEnv, "HEGUI_LOG_TOKEN")
	token := os.Getenv(env)
	if token == "" {
		return nil, fmt.Errorf("audit-log: no writer token in $%s (hegui log writer add LOGDIR release --actions 'release.*')", env)
	}
	app, err := translog.NewHTTPAppender(c.URL, token, nil)
	if err != nil {
		return nil, fmt.Errorf("audit-log: %v", err)
	}
	h, err := translog.NewHandler(app, translog.HandlerOptions{
		Application: "hegui-release", SpoolPath: Root{root}.path(SpoolFile),
		Backpressure: translog.Block, ErrorHandler: warn,
		RetryInterval: 200 * time.Millisecond, MaxRetryInterval: time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("audit-log: %v", err)
	}
	actor := "unknown"
	if u, err := user.Current(); err == nil {
		actor = "user:" + u.Username
	}
	return &auditor{h: h, log: slog.New(h), actor: actor, errs: warn}, nil
}

// event records one event; attrs are further key, value pairs.
func (a *auditor) event(ctx context.Context, action, object string, err error, attrs ...any) {
	if a == nil {
		return
	}
	outcome, level, msg := translog.OutcomeSuccess, slog.LevelInfo, action
	if err != nil {
		outcome, level, msg = translog.OutcomeFailure, slog.LevelWarn, err.Error()
	}
	args := append([]any{"action", action, "actor", a.actor, "object", object, "outcome", outcome}, attrs...)
	a.log.Log(ctx, level, msg, args...)
}

// close sends what is left, or spools it, within a few seconds.
func (a *auditor) close() (translog.HandlerStats, error) {
	if a == nil {
		return translog.HandlerStats{}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := a.h.Close(ctx)
	return a.h.Stats(), err
}
