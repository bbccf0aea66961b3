package translog_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hegui.dev/hegui/translog"
)

// TestErasureAuditorRefusesBeforeSending: what would put a person's own
// name in the log, or an event the log refuses, is an error before
// anything is sent. (shred/translog_test.go records erasures in a running
// log.)
func TestErasureAuditorRefusesBeforeSending(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "not expected", http.StatusTeapot)
	}))
	defer srv.Close()
	app, err := translog.NewHTTPAppender(srv.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("0123456789abcdef", 4)
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		auditor   translog.ErasureAuditor
		subject   string
		keyID     string
		errSubstr string
	}{
		{"raw subject", translog.ErasureAuditor{Appender: app, Actor: "service:crm"}, "user:alice@example.cn", "9f2c41d07ab35e68", "shred.SubjectName"},
		{"upper-case hex", translog.ErasureAuditor{Appender: app, Actor: "service:crm"}, strings.ToUpper(name), "9f2c41d07ab35e68", "shred.SubjectName"},
		{"short hex", translog.ErasureAuditor{Appender: app, Actor: "service:crm"}, name[:40], "9f2c41d07ab35e68", "shred.SubjectName"},
		{"no key ID", translog.ErasureAuditor{Appender: app, Actor: "service:crm"}, name, "", "key ID is empty"},
		{"key ID with a newline", translog.ErasureAuditor{Appender: app, Actor: "service:crm"}, name, "9f2c\n", "attributes.key_id"},
		{"no actor", translog.ErasureAuditor{Appender: app}, name, "9f2c41d07ab35e68", "actor: missing"},
		{"no appender", translog.ErasureAuditor{Actor: "service:crm"}, name, "9f2c41d07ab35e68", "no Appender"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.auditor.Destroyed(t.Context(), tt.subject, tt.keyID, at)
			if err == nil || !strings.Contains(err.Error(), tt.errSubstr) {
				t.Fatalf("Destroyed = %v, want an error containing %q", err, tt.errSubstr)
			}
			if strings.Contains(err.Error(), "alice") {
				t.Fatalf("the error repeats the raw subject: %v", err)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d requests reached the log", n)
	}
}
