package translog

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"hegui.dev/hegui/internal/jsonstr"
)

// EventSchema names version 1 of the audit event format.
const EventSchema = "hegui.dev/audit-event/v1"

// MaxEventSize is the largest canonical event a log accepts, in bytes. It
// stays well under Tessera's 64 KiB entry limit so a log never has to split
// or truncate an event.
const MaxEventSize = 16 << 10

// Outcomes an event may report, as RFC 5424 style audit records and GB/T
// 22239 8.1.4.3 b) ("whether the event succeeded") expect.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeUnknown = "unknown"
)

// Event is one audit record. Its JSON form is the log entry: the server
// stores the canonical encoding (see Canonical), so an entry's bytes, and its
// leaf hash, follow from its content alone.
type Event struct {
	// Schema is always EventSchema; Canonical fills it in when empty.
	Schema string `json:"schema"`
	// Time is when the event happened, in UTC with at most nanosecond
	// precision (RFC 3339).
	Time time.Time `json:"time"`
	// Actor is who acted: a user name, a service account or a key ID.
	Actor string `json:"actor"`
	// Action is what was done, as dotted lower-case words
	// ("delivery.publish", "key.rotate", "user.login").
	Action string `json:"action"`
	// Object is what was acted upon ("hello_1.2.0", "key:9f86d081...").
	Object string `json:"object,omitempty"`
	// Outcome is success, failure or unknown.
	Outcome string `json:"outcome"`
	// Host is the machine the event happened on.
	Host string `json:"host,omitempty"`
	// Application is the program that reported it (RFC 5424 APP-NAME).
	Application string `json:"application,omitempty"`
	// Traceparent and Tracestate carry W3C Trace Context, so an event can be
	// joined with a distributed trace.
	Traceparent string `json:"traceparent,omitempty"`
	Tracestate  string `json:"tracestate,omitempty"`
	// Message is a short human-readable description.
	Message string `json:"message,omitempty"`
	// Digests identify payloads the event is about without copying them
	// into the log.
	Digests []Digest `json:"digests,omitempty"`
	// Attributes carry further string fields (source address, request ID).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Digest is the digest of one payload an event refers to.
type Digest struct {
	// Name says which payload: a file name, a URL or a role.
	Name string `json:"name"`
	// Algorithm is sha256, sha384, sha512 or sm3.
	Algorithm string `json:"algorithm"`
	// Value is the lowercase hex digest.
	Value string `json:"value"`
}

var (
	actionPattern      = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$`)
	traceparentPattern = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)
	digestLengths      = map[string]int{"sha256": 32, "sha384": 48, "sha512": 64, "sm3": 32}
)

// Field length limits keep one event small and its fields printable in a
// SIEM; the RFC 5424 limits apply where a field maps to a syslog header.
const (
	maxShortField = 255 // actor, object, host
	maxAppName    = 48  // RFC 5424 APP-NAME
	maxAction     = 128
	maxMessage    = 4096
	maxAttributes = 64
	maxDigests    = 64
)

// Validate reports the first way e does not match the schema, naming the
// field, or nil.
func (e *Event) Validate() error {
	if e.Schema != "" && e.Schema != EventSchema {
		return fmt.Errorf("schema: %q is not %q", e.Schema, EventSchema)
	}
	if e.Time.IsZero() {
		return errors.New("time: missing")
	}
	if y := e.Time.UTC().Year(); y < 1970 || y > 9999 {
		return fmt.Errorf("time: year %d is out of range", y)
	}
	if err := checkText("actor", e.Actor, maxShortField, true); err != nil {
		return err
	}
	if e.Action == "" {
		return errors.New("action: missing")
	}
	if len(e.Action) > maxAction || !actionPattern.MatchString(e.Action) {
		return fmt.Errorf("action: %q is not dotted lower-case words such as \"delivery.publish\"", clip(e.Action))
	}
	switch e.Outcome {
	case OutcomeSuccess, OutcomeFailure, OutcomeUnknown:
	case "":
		return errors.New("outcome: missing (success, failure or unknown)")
	default:
		return fmt.Errorf("outcome: %q is not success, failure or unknown", clip(e.Outcome))
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{"object", e.Object, maxShortField}, {"host", e.Host, maxShortField}, {"application", e.Application, maxAppName}, {"message", e.Message, maxMessage}, {"tracestate", e.Tracestate, 512}} {
		if err := checkText(f.name, f.value, f.max, false); err != nil {
			return err
		}
	}
	if e.Traceparent != "" {
		if err := checkTraceparent(e.Traceparent); err != nil {
			return err
		}
	}
	if len(e.Digests) > maxDigests {
		return fmt.Errorf("digests: %d entries, at most %d", len(e.Digests), maxDigests)
	}
	for i, d := range e.Digests {
		if err := d.validate(); err != nil {
			return fmt.Errorf("digests[%d]: %w", i, err)
		}
	}
	if len(e.Attributes) > maxAttributes {
		return fmt.Errorf("attributes: %d entries, at most %d", len(e.Attributes), maxAttributes)
	}
	for k, v := range e.Attributes {
		if err := checkText("attributes key", k, 64, true); err != nil {
			return err
		}
		if err := checkText("attributes."+k, v, maxShortField*4, false); err != nil {
			return err
		}
	}
	return nil
}

func (d Digest) validate() error {
	if err := checkText("name", d.Name, maxShortField, true); err != nil {
		return err
	}
	n, ok := digestLengths[d.Algorithm]
	if !ok {
		return fmt.Errorf("algorithm %q is not sha256, sha384, sha512 or sm3", clip(d.Algorithm))
	}
	raw, err := hex.DecodeString(d.Value)
	if err != nil || len(raw) != n || strings.ToLower(d.Value) != d.Value {
		return fmt.Errorf("value is not %d lowercase hex digits", 2*n)
	}
	return nil
}

// checkTraceparent checks the W3C Trace Context version-00 format: all-zero
// trace and parent IDs are invalid, and version ff is forbidden.
func checkTraceparent(tp string) error {
	m := traceparentPattern.FindStringSubmatch(tp)
	if m == nil {
		return fmt.Errorf("traceparent: %q is not VERSION-TRACEID-PARENTID-FLAGS in lowercase hex", clip(tp))
	}
	if m[1] == "ff" {
		return errors.New("traceparent: version ff is invalid")
	}
	if strings.Trim(m[2], "0") == "" || strings.Trim(m[3], "0") == "" {
		return errors.New("traceparent: an all-zero trace ID or parent ID is invalid")
	}
	return nil
}

func checkText(field, v string, max int, required bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("%s: missing", field)
		}
		return nil
	}
	if len(v) > max {
		return fmt.Errorf("%s: %d bytes, at most %d", field, len(v), max)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s: not valid UTF-8", field)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && !(field == "message" && r == '\n') || r == 0x7f {
			return fmt.Errorf("%s: contains control character %U", field, r)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Canonical validates e and returns its canonical JSON encoding: the
// JSON Canonicalization Scheme (RFC 8785) over the event's fields, with the
// time in UTC (RFC 3339, trailing zeros of the fraction dropped). Two events
// with the same content always encode to the same bytes.
func (e Event) Canonical() ([]byte, error) {
	if e.Schema == "" {
		e.Schema = EventSchema
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b := bytes.NewBuffer(make([]byte, 0, 256))
	w := objectWriter{b: b}
	// Members in RFC 8785 order; every name is ASCII, so that is byte order.
	w.str("action", e.Action)
	w.str("actor", e.Actor)
	w.optional("application", e.Application)
	if len(e.Attributes) > 0 {
		w.name("attributes")
		keys := make([]string, 0, len(e.Attributes))
		for k := range e.Attributes {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return utf16Less(keys[i], keys[j]) })
		attrs := objectWriter{b: b}
		for _, k := range keys {
			attrs.str(k, e.Attributes[k])
		}
		attrs.end()
	}
	if len(e.Digests) > 0 {
		w.name("digests")
		b.WriteByte('[')
		for i, d := range e.Digests {
			if i > 0 {
				b.WriteByte(',')
			}
			dw := objectWriter{b: b}
			dw.str("algorithm", d.Algorithm)
			dw.str("name", d.Name)
			dw.str("value", d.Value)
			dw.end()
		}
		b.WriteByte(']')
	}
	w.optional("host", e.Host)
	w.optional("message", e.Message)
	w.optional("object", e.Object)
	w.str("outcome", e.Outcome)
	w.str("schema", e.Schema)
	w.str("time", e.Time.UTC().Format(time.RFC3339Nano))
	w.optional("traceparent", e.Traceparent)
	w.optional("tracestate", e.Tracestate)
	w.end()
	if b.Len() > MaxEventSize {
		return nil, fmt.Errorf("event is %d bytes, the limit is %d", b.Len(), MaxEventSize)
	}
	return b.Bytes(), nil
}

// objectWriter writes the members of one JSON object in the order given.
type objectWriter struct {
	b       *bytes.Buffer
	started bool
}

func (w *objectWriter) name(n string) {
	if w.started {
		w.b.WriteByte(',')
	} else {
		w.b.WriteByte('{')
		w.started = true
	}
	writeCanonicalString(w.b, n)
	w.b.WriteByte(':')
}

func (w *objectWriter) str(n, v string) {
	w.name(n)
	writeCanonicalString(w.b, v)
}

func (w *objectWriter) optional(n, v string) {
	if v != "" {
		w.str(n, v)
	}
}

func (w *objectWriter) end() {
	if !w.started {
		w.b.WriteByte('{')
	}
	w.b.WriteByte('}')
}

// ParseEvent reads one event from JSON, refusing unknown fields, trailing
// data and anything Validate refuses. It accepts any JSON spelling; use
// Canonical to get the bytes a log stores.
func ParseEvent(data []byte) (Event, error) {
	var e Event
	if len(data) > 4*MaxEventSize {
		return e, fmt.Errorf("event is %d bytes, the limit is %d", len(data), MaxEventSize)
	}
	// JSON v2 semantics: member names match exactly (no "Actor" for
	// "actor"), a repeated member is an error rather than the last one
	// winning, unknown members and trailing data are errors, and strings
	// must be valid UTF-8. An audit record must mean one thing.
	if err := jsonv2.Unmarshal(data, &e, jsonv2.RejectUnknownMembers(true)); err != nil {
		return Event{}, fmt.Errorf("event: %w", explainJSONError(err))
	}
	if e.Schema == "" {
		e.Schema = EventSchema
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("event: %w", err)
	}
	return e, nil
}

// explainJSONError words the decoder's errors for people sending events.
func explainJSONError(err error) error {
	var serr *jsonv2.SemanticError
	if errors.As(err, &serr) && errors.Is(serr.Err, jsonv2.ErrUnknownName) {
		where := strings.TrimPrefix(string(serr.JSONPointer.Parent()), "/")
		name := serr.JSONPointer.LastToken()
		if where != "" {
			return fmt.Errorf("unknown field %q in %s (the schema is %s; see docs/audit-log.md)", name, where, EventSchema)
		}
		return fmt.Errorf("unknown field %q (the schema is %s; see docs/audit-log.md)", name, EventSchema)
	}
	if strings.Contains(err.Error(), "after top-level value") {
		return errors.New("trailing data after the JSON object (send one event per request, or NDJSON)")
	}
	return err
}

func writeCanonicalString(b *bytes.Buffer, s string) { jsonstr.Write(b, s) }

// utf16Less orders strings by their UTF-16 code units, as RFC 8785 §3.2.3
// requires; it differs from byte order only for characters above U+FFFF.
func utf16Less(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] == rb[i] {
			continue
		}
		if ka, kb := utf16Key(ra[i]), utf16Key(rb[i]); ka != kb {
			return ka < kb
		}
		return ra[i] < rb[i]
	}
	return len(ra) < len(rb)
}

func utf16Key(r rune) rune {
	if r >= 0x10000 {
		// High surrogate of r: sorts below U+E000..U+FFFF.
		return 0xd800 + (r-0x10000)>>10
	}
	return r
}
