package keycmd

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"time"

	"hegui.dev/hegui/internal/cli/cmdutil"
	"hegui.dev/hegui/keys"
	"hegui.dev/hegui/translog"
)

// envAuditLog names the log server that key lifecycle events are appended
// to; the writer's token is $HEGUI_LOG_TOKEN.
const envAuditLog = "HEGUI_AUDIT_LOG"

// logKeyEvent appends a key lifecycle event (key.generate, key.import,
// key.rotate, key.deactivate, key.destroy) to the audit log named by
// $HEGUI_AUDIT_LOG, if any. The key operation has already happened, so a
// failure says so: the operator must record it another way.
func logKeyEvent(ctx context.Context, e *cmdutil.Env, action, keyID string, attrs map[string]string) error {
	url := e.Getenv(envAuditLog)
	if url == "" {
		return nil
	}
	actor := e.Getenv("USER")
	if u, err := user.Current(); err == nil && actor == "" {
		actor = u.Username
	}
	if actor == "" {
		actor = "unknown"
	}
	for k, v := range attrs {
		if v == "" {
			delete(attrs, k)
		}
	}
	host, _ := os.Hostname()
	ev := translog.Event{
		Time: time.Now().UTC(), Actor: actor, Action: action, Object: "key:" + keyID,
		Outcome: translog.OutcomeSuccess, Host: host, Application: "hegui", Attributes: attrs,
	}
	app, err := translog.NewHTTPAppender(url, e.Getenv(cmdutil.EnvLogToken), nil)
	if err != nil {
		return fmt.Errorf("$%s: %w", envAuditLog, err)
	}
	idx, err := app.Append(ctx, ev)
	if err != nil {
		return fmt.Errorf("%s of key %s succeeded but was not recorded in the audit log %s: %w", action, keys.ShortID(keyID), url, err)
	}
	e.Infof("recorded as entry %d of the audit log", idx)
	return nil
}
