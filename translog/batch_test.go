package translog_test

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"hegui.dev/hegui/translog"
)

// TestParseEvents reads the documents `hegui log append --event` sends:
// NDJSON with blank lines, one event on a line or pretty-printed, and
// refuses empty documents, too many events (counted before any is parsed),
// a bad event (numbered among the events) and an overlong line.
func TestParseEvents(t *testing.T) {
	const (
		alice = `{"time":"2026-11-21T08:00:00Z","actor":"alice","action":"user.login","outcome":"success"}`
		bob   = `{"time":"2026-11-21T08:00:01Z","actor":"bob","action":"user.logout","outcome":"failure"}`
		bad   = `{"time":"2026-11-21T08:00:02Z","actor":"carol","action":"User Logout","outcome":"success"}`
	)
	batch := func(n int, line string) string { return strings.Repeat(line+"\n", n) }
	tests := []struct {
		name   string
		doc    string
		actors []string // the events read, by actor
		err    string   // a substring of the error
		is     error
		many   int // the count a *TooManyEventsError reports
	}{
		{name: "ndjson", doc: "\n" + alice + "\r\n\n  " + bob + "  \n", actors: []string{"alice", "bob"}},
		{name: "one line", doc: alice, actors: []string{"alice"}},
		{name: "pretty-printed", doc: "{\n  \"time\": \"2026-11-21T08:00:00Z\",\n  \"actor\": \"alice\",\n  \"action\": \"user.login\",\n  \"outcome\": \"success\"\n}\n", actors: []string{"alice"}},
		{name: "full batch", doc: batch(translog.MaxBatchEvents, alice), actors: strings.Fields(batch(translog.MaxBatchEvents, "alice"))},
		{name: "empty", doc: "", is: translog.ErrNoEvents},
		{name: "blank", doc: " \n\t\r\n", is: translog.ErrNoEvents},
		{name: "too many", doc: batch(translog.MaxBatchEvents, alice) + "{", many: translog.MaxBatchEvents + 1},
		{name: "bad second event", doc: alice + "\n\n" + bad + "\n", err: `event 2: event: action: "User Logout"`},
		{name: "not json", doc: "alice logged in\n", err: "event 1: event:"},
		{name: "long line", doc: alice + "\n" + strings.Repeat(" ", 1<<20) + "x\n", is: bufio.ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := translog.ParseEvents([]byte(tt.doc))
			var many *translog.TooManyEventsError
			switch {
			case tt.is != nil:
				if !errors.Is(err, tt.is) {
					t.Fatalf("error %v, want %v", err, tt.is)
				}
			case tt.many != 0:
				if !errors.As(err, &many) || many.Events != tt.many {
					t.Fatalf("error %v, want a *TooManyEventsError of %d events", err, tt.many)
				}
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				var actors []string
				for _, e := range events {
					actors = append(actors, e.Actor)
				}
				if strings.Join(actors, ",") != strings.Join(tt.actors, ",") {
					t.Fatalf("events by %v, want %v", actors, tt.actors)
				}
				return
			}
			if events != nil {
				t.Errorf("events %v with the error", events)
			}
		})
	}
}
