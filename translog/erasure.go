package translog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErasureAction is the action of the events an ErasureAuditor records.
const ErasureAction = "subject.erase"

// ErasureAuditor records in a log that a data subject was erased by
// crypto-shredding (package hegui.dev/hegui/shred): its Destroyed method is
// the one shred.Auditor asks for, so an ErasureAuditor can be a
// shred.Shredder's Auditor without this package importing shred. Each
// erasure is one event:
//
//	{"action":"subject.erase","actor":"service:crm","attributes":{"key_id":"9f2c41d07ab35e68"},
//	 "object":"subject:<the subject's shred.SubjectName>","outcome":"success",
//	 "schema":"hegui.dev/audit-event/v1","time":"2026-11-21T08:00:00Z"}
//
// Destroyed returns once a signed checkpoint covers the event
// (AppendAndWait), so an erasure it reports recorded is in the log's tree,
// not only queued for it.
type ErasureAuditor struct {
	// Appender writes to the log; its writer must be allowed the action
	// subject.erase (hegui log writer add DIR NAME --actions 'subject.*').
	Appender *HTTPAppender
	// Actor is who erases, as the event's actor: the service
	// ("service:crm").
	Actor string
}

// Destroyed records that the subject's key keyID was destroyed at at.
// subject must be a shred.SubjectName (64 lowercase hex digits): anything
// else, such as a user ID or an e-mail address, is refused before it is
// sent, since a log keeps what it is given for good.
func (a ErasureAuditor) Destroyed(ctx context.Context, subject, keyID string, at time.Time) error {
	if a.Appender == nil {
		return errors.New("the ErasureAuditor has no Appender: set it to the log's NewHTTPAppender")
	}
	if !isSubjectName(subject) {
		return errors.New("the erased subject is not named by shred.SubjectName (64 lowercase hex digits): a log keeps what it is given for good, so it takes no user ID or e-mail address")
	}
	if keyID == "" {
		return errors.New("the erased subject's key ID is empty")
	}
	e := Event{
		Time:       at.UTC(),
		Actor:      a.Actor,
		Action:     ErasureAction,
		Object:     "subject:" + subject,
		Outcome:    OutcomeSuccess,
		Attributes: map[string]string{"key_id": keyID},
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("the %s event: %w", ErasureAction, err)
	}
	if _, err := a.Appender.AppendAndWait(ctx, e); err != nil {
		return fmt.Errorf("record %s of subject %s in the log: %w", ErasureAction, subject, err)
	}
	return nil
}

// isSubjectName reports whether s has the form of a shred.SubjectName: the
// lowercase hex of an HMAC-SM3.
func isSubjectName(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
