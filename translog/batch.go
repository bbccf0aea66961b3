package translog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoEvents is ParseEvents' error for a document that holds nothing but
// white space.
var ErrNoEvents = errors.New("no events")

// TooManyEventsError is ParseEvents' error for a document that holds more
// events than one batch may carry (MaxBatchEvents).
type TooManyEventsError struct {
	Events int // how many the document holds
}

func (e *TooManyEventsError) Error() string {
	return fmt.Sprintf("%d events, at most %d in one batch", e.Events, MaxBatchEvents)
}

// maxEventLine bounds one line of an NDJSON document, far above what an
// event may be (ParseEvent refuses more than 4 × MaxEventSize), so that a
// document that is no NDJSON fails early.
const maxEventLine = 1 << 20

// ParseEvents reads the events of a document for AppendBatch: NDJSON, one
// event per line, blank lines skipped; or a single JSON event, which may
// span several lines (pretty-printed). A document whose first non-blank
// line is not JSON on its own is read as that single event.
//
// It counts the events before parsing any: more than MaxBatchEvents is a
// *TooManyEventsError, none ErrNoEvents. An event that ParseEvent refuses
// fails the whole document with an error that numbers it among the events
// (from 1; blank lines do not count).
func ParseEvents(data []byte) ([]Event, error) {
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxEventLine)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			lines = append(lines, bytes.Clone(l))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, ErrNoEvents
	}
	if len(lines) > 1 && !json.Valid(lines[0]) {
		// One pretty-printed JSON object over several lines.
		lines = [][]byte{bytes.TrimSpace(data)}
	}
	if len(lines) > MaxBatchEvents {
		return nil, &TooManyEventsError{Events: len(lines)}
	}
	events := make([]Event, len(lines))
	for i, l := range lines {
		var err error
		if events[i], err = ParseEvent(l); err != nil {
			return nil, fmt.Errorf("event %d: %w", i+1, err)
		}
	}
	return events, nil
}
