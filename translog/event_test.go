package translog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The expected bytes below are written by hand from RFC 8785: keys sorted
// by UTF-16 code units, no whitespace, only '"', '\\' and control
// characters escaped, everything else (including non-ASCII text and the
// characters encoding/json would escape for HTML) written literally.
func TestCanonicalVectors(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name  string
		event Event
		want  string
	}{
		{
			name:  "minimal event, schema filled in",
			event: Event{Time: time.Date(2026, 5, 17, 8, 30, 0, 0, time.UTC), Actor: "alice", Action: "user.login", Outcome: OutcomeSuccess},
			want:  `{"action":"user.login","actor":"alice","outcome":"success","schema":"hegui.dev/audit-event/v1","time":"2026-05-17T08:30:00Z"}`,
		},
		{
			name: "every field, converted to UTC, trailing zeros dropped",
			event: Event{
				Schema:      EventSchema,
				Time:        time.Date(2026, 5, 17, 16, 30, 0, 123450000, cst),
				Actor:       "ci-bot",
				Action:      "delivery.publish",
				Object:      "hello_1.2.0",
				Outcome:     OutcomeFailure,
				Host:        "构建机-01",
				Application: "hegui",
				Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
				Tracestate:  "congo=t61rcWkgMzE",
				Message:     "发布 \"hello\" <1.2.0> & done\n\tline2 \\ end",
				Digests: []Digest{{
					Name:      "hello.tar.gz",
					Algorithm: "sha256",
					Value:     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				}},
				Attributes: map[string]string{"b": "2", "a": "1", "z": "last", "B": "upper", "é": "accent"},
			},
			want: `{"action":"delivery.publish","actor":"ci-bot","application":"hegui",` +
				`"attributes":{"B":"upper","a":"1","b":"2","z":"last","é":"accent"},` +
				`"digests":[{"algorithm":"sha256","name":"hello.tar.gz","value":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}],` +
				`"host":"构建机-01","message":"发布 \"hello\" <1.2.0> & done\n\tline2 \\ end","object":"hello_1.2.0",` +
				`"outcome":"failure","schema":"hegui.dev/audit-event/v1","time":"2026-05-17T08:30:00.12345Z",` +
				`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"congo=t61rcWkgMzE"}`,
		},
		{
			name:  "tenth of a second",
			event: Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 100000000, time.UTC), Actor: "a", Action: "x", Outcome: OutcomeUnknown},
			want:  `{"action":"x","actor":"a","outcome":"unknown","schema":"hegui.dev/audit-event/v1","time":"2026-01-02T03:04:05.1Z"}`,
		},
		{
			name:  "one nanosecond, offset crossing midnight and the year",
			event: Event{Time: time.Date(2027, 1, 1, 7, 59, 59, 1, cst), Actor: "a", Action: "x", Outcome: OutcomeSuccess},
			want:  `{"action":"x","actor":"a","outcome":"success","schema":"hegui.dev/audit-event/v1","time":"2026-12-31T23:59:59.000000001Z"}`,
		},
		{
			name: "keys in UTF-16 order: a character above U+FFFF sorts before U+FB33",
			event: Event{
				Time: time.Date(2026, 5, 17, 8, 30, 0, 0, time.UTC), Actor: "a", Action: "x", Outcome: OutcomeSuccess,
				Attributes: map[string]string{"\U0001F600": "emoji", "\uFB33": "dalet", "€": "euro", "ö": "o", "\u0080": "c1", "1": "one"},
			},
			want: `{"action":"x","actor":"a","attributes":{"1":"one","` + "\u0080" + `":"c1","ö":"o","€":"euro","😀":"emoji","` + "\uFB33" + `":"dalet"},` +
				`"outcome":"success","schema":"hegui.dev/audit-event/v1","time":"2026-05-17T08:30:00Z"}`,
		},
		{
			name: "line and paragraph separators and DEL-free text stay literal",
			event: Event{
				Time: time.Date(2026, 5, 17, 8, 30, 0, 0, time.UTC), Actor: "tab\there", Action: "x", Outcome: OutcomeSuccess,
				Message: "a\u2028b\u2029c",
			},
			want: `{"action":"x","actor":"tab\there","message":"a` + "\u2028" + `b` + "\u2029" + `c","outcome":"success","schema":"hegui.dev/audit-event/v1","time":"2026-05-17T08:30:00Z"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.event.Canonical()
			if err != nil {
				t.Fatalf("Canonical: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("Canonical:\n got %s\nwant %s", got, tt.want)
			}
			// The canonical form parses back to an event with the same
			// canonical form.
			e, err := ParseEvent(got)
			if err != nil {
				t.Fatalf("ParseEvent(canonical): %v", err)
			}
			again, err := e.Canonical()
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("canonical form is not stable: %s, %v", again, err)
			}
		})
	}
}

// TestCanonicalSameInstant: one instant in two time zones and two JSON
// spellings of one event give one canonical encoding.
func TestCanonicalSameInstant(t *testing.T) {
	spellings := []string{
		`{"time":"2026-05-17T16:30:00.5+08:00","actor":"alice","action":"user.login","outcome":"success"}`,
		"{ \"outcome\" : \"success\",\n \"action\":\"user\\u002elogin\", \"actor\":\"\\u0061lice\", \"time\":\"2026-05-17T08:30:00.500000000Z\", \"schema\":\"hegui.dev/audit-event/v1\" }\n",
		`{"time":"2026-05-17T03:30:00.50-05:00","actor":"alice","action":"user.login","outcome":"success","attributes":{},"digests":[]}`,
	}
	const want = `{"action":"user.login","actor":"alice","outcome":"success","schema":"hegui.dev/audit-event/v1","time":"2026-05-17T08:30:00.5Z"}`
	for _, s := range spellings {
		e, err := ParseEvent([]byte(s))
		if err != nil {
			t.Fatalf("ParseEvent(%s): %v", s, err)
		}
		got, err := e.Canonical()
		if err != nil {
			t.Fatalf("Canonical(%s): %v", s, err)
		}
		if string(got) != want {
			t.Errorf("Canonical(%s)\n got %s\nwant %s", s, got, want)
		}
	}
}

// TestWriteCanonicalRFC8785 runs the examples of RFC 8785 §3.2.2.2 (string
// escaping) and §3.2.3 (property sorting) through the JCS writer, including
// control characters the event schema itself refuses.
func TestWriteCanonicalRFC8785(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{
			name: "RFC 8785 3.2.2.2 string",
			in:   "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"/",
			want: `"€$\u000f\nA'B\"\\\\\"/"`,
		},
		{
			name: "every control character",
			in:   "\x00\x01\x07\b\t\n\x0b\f\r\x0e\x1f\x7f",
			want: `"\u0000\u0001\u0007\b\t\n\u000b\f\r\u000e\u001f` + "\x7f" + `"`,
		},
		{
			name: "RFC 8785 3.2.3 sorting",
			in: map[string]any{
				"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
				"1": "One", "\U0001F600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis",
			},
			want: `{"\r":"Carriage Return","1":"One","` + "\u0080" + `":"Control","ö":"Latin Small Letter O With Diaeresis",` +
				`"€":"Euro Sign","😀":"Emoji: Grinning Face","` + "\ufb33" + `":"Hebrew Letter Dalet With Dagesh"}`,
		},
		{
			name: "literals and nesting",
			in:   map[string]any{"b": []any{true, false, nil, map[string]any{}}, "a": []any{}},
			want: `{"a":[],"b":[true,false,null,{}]}`,
		},
		{
			name: "prefix sorts first, surrogate pairs compared by low half",
			in:   map[string]any{"ab": "2", "a": "1", "\U0001F601": "4", "\U0001F600": "3"},
			want: `{"a":"1","ab":"2","😀":"3","😁":"4"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeCanonical(&b, tt.in); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Fatalf("\n got %s\nwant %s", b.String(), tt.want)
			}
		})
	}
	var b bytes.Buffer
	if err := writeCanonical(&b, 1.5); err == nil {
		t.Fatal("writeCanonical accepted a number; events hold none and JCS number output is not implemented")
	}
}

// validEventJSON returns a valid event with one field replaced (or added)
// by raw JSON, or removed when raw is "".
func validEventJSON(field, raw string) string {
	fields := []struct{ k, v string }{
		{"schema", `"hegui.dev/audit-event/v1"`},
		{"time", `"2026-05-17T08:30:00Z"`},
		{"actor", `"alice"`},
		{"action", `"user.login"`},
		{"outcome", `"success"`},
		{"traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`},
		{"digests", `[{"name":"a.tgz","algorithm":"sha256","value":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]`},
	}
	var parts []string
	found := false
	for _, f := range fields {
		if f.k == field {
			found = true
			if raw == "" {
				continue
			}
			f.v = raw
		}
		parts = append(parts, fmt.Sprintf("%q:%s", f.k, f.v))
	}
	if !found && raw != "" {
		parts = append(parts, fmt.Sprintf("%q:%s", field, raw))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestParseEventRejects(t *testing.T) {
	if _, err := ParseEvent([]byte(validEventJSON("", ""))); err != nil {
		t.Fatalf("the base event of this test is not valid: %v", err)
	}
	jsonString := func(s string) string { return fmt.Sprintf("%q", s) }
	manyAttributes := func(n, size int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`"k%03d":%q`, i, strings.Repeat("v", size)))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	manyDigests := func(n int) string {
		d := `{"name":"a","algorithm":"sha256","value":"` + strings.Repeat("ab", 32) + `"}`
		return "[" + strings.TrimSuffix(strings.Repeat(d+",", n), ",") + "]"
	}
	tests := []struct {
		name string
		json string
		want string // a substring of the error
	}{
		{"missing time", validEventJSON("time", ""), "time: missing"},
		{"time not RFC 3339", validEventJSON("time", `"2026-05-17 08:30:00"`), "time"},
		{"time before 1970", validEventJSON("time", `"1969-12-31T23:59:59Z"`), "time: year 1969"},
		{"missing actor", validEventJSON("actor", ""), "actor: missing"},
		{"empty actor", validEventJSON("actor", `""`), "actor: missing"},
		{"actor too long", validEventJSON("actor", jsonString(strings.Repeat("a", 256))), "actor: 256 bytes"},
		{"control character in actor", validEventJSON("actor", `"a\u0001b"`), "actor: contains control character U+0001"},
		{"newline in actor", validEventJSON("actor", `"a\nb"`), "actor: contains control character U+000A"},
		{"DEL in object", validEventJSON("object", `"a\u007fb"`), "object: contains control character U+007F"},
		{"missing action", validEventJSON("action", ""), "action: missing"},
		{"action with capitals", validEventJSON("action", `"User.Login"`), "action:"},
		{"action with empty word", validEventJSON("action", `"delivery..publish"`), "action:"},
		{"action with trailing dot", validEventJSON("action", `"delivery."`), "action:"},
		{"action starting with a digit", validEventJSON("action", `"1delivery"`), "action:"},
		{"action with space", validEventJSON("action", `"user login"`), "action:"},
		{"action too long", validEventJSON("action", jsonString(strings.Repeat("a", 129))), "action:"},
		{"missing outcome", validEventJSON("outcome", ""), "outcome: missing"},
		{"bad outcome", validEventJSON("outcome", `"ok"`), `outcome: "ok" is not`},
		{"outcome in capitals", validEventJSON("outcome", `"SUCCESS"`), "outcome:"},
		{"wrong schema", validEventJSON("schema", `"hegui.dev/audit-event/v2"`), "schema:"},
		{"traceparent in capitals", validEventJSON("traceparent", `"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"`), "traceparent:"},
		{"traceparent all-zero trace ID", validEventJSON("traceparent", `"00-00000000000000000000000000000000-00f067aa0ba902b7-01"`), "traceparent: an all-zero"},
		{"traceparent all-zero parent ID", validEventJSON("traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"`), "traceparent: an all-zero"},
		{"traceparent version ff", validEventJSON("traceparent", `"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`), "traceparent: version ff"},
		{"traceparent short trace ID", validEventJSON("traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"`), "traceparent:"},
		{"traceparent with extra field", validEventJSON("traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-00"`), "traceparent:"},
		{"digest too short", validEventJSON("digests", `[{"name":"a","algorithm":"sha256","value":"`+strings.Repeat("ab", 31)+`"}]`), "digests[0]: value is not 64 lowercase hex digits"},
		{"digest too long for sha256", validEventJSON("digests", `[{"name":"a","algorithm":"sha256","value":"`+strings.Repeat("ab", 48)+`"}]`), "digests[0]: value is not 64"},
		{"digest in uppercase hex", validEventJSON("digests", `[{"name":"a","algorithm":"sha256","value":"`+strings.Repeat("AB", 32)+`"}]`), "digests[0]: value is not 64 lowercase"},
		{"digest not hex", validEventJSON("digests", `[{"name":"a","algorithm":"sm3","value":"`+strings.Repeat("zz", 32)+`"}]`), "digests[0]: value"},
		{"sha512 digest of sha256 length", validEventJSON("digests", `[{"name":"a","algorithm":"sha512","value":"`+strings.Repeat("ab", 32)+`"}]`), "digests[0]: value is not 128"},
		{"digest algorithm md5", validEventJSON("digests", `[{"name":"a","algorithm":"md5","value":"`+strings.Repeat("ab", 16)+`"}]`), `digests[0]: algorithm "md5"`},
		{"digest without name", validEventJSON("digests", `[{"algorithm":"sha256","value":"`+strings.Repeat("ab", 32)+`"}]`), "digests[0]: name: missing"},
		{"second digest bad", validEventJSON("digests", `[{"name":"a","algorithm":"sm3","value":"`+strings.Repeat("ab", 32)+`"},{"name":"b","algorithm":"sm3","value":""}]`), "digests[1]:"},
		{"unknown digest field", validEventJSON("digests", `[{"name":"a","algorithm":"sm3","value":"`+strings.Repeat("ab", 32)+`","size":1}]`), `unknown field "size" in digests/0`},
		{"too many digests", validEventJSON("digests", manyDigests(65)), "digests: 65 entries"},
		{"too many attributes", validEventJSON("attributes", manyAttributes(65, 1)), "attributes: 65 entries"},
		{"attribute value too long", validEventJSON("attributes", `{"k":`+jsonString(strings.Repeat("v", 1021))+`}`), "attributes.k: 1021 bytes"},
		{"empty attribute key", validEventJSON("attributes", `{"":"v"}`), "attributes key: missing"},
		{"attribute not a string", validEventJSON("attributes", `{"k":1}`), "event:"},
		{"message too long", validEventJSON("message", jsonString(strings.Repeat("m", 4097))), "message: 4097 bytes"},
		{"application longer than APP-NAME", validEventJSON("application", jsonString(strings.Repeat("a", 49))), "application: 49 bytes"},
		{"unknown field", validEventJSON("severity", `"high"`), `unknown field "severity"`},
		{"member name in other case", strings.Replace(validEventJSON("", ""), `"actor"`, `"Actor"`, 1), `unknown field "Actor"`},
		{"duplicate member", strings.Replace(validEventJSON("", ""), `"actor":"alice"`, `"actor":"alice","actor":"mallory"`, 1), "duplicate object member name"},
		{"number instead of string", validEventJSON("actor", `42`), "event:"},
		{"trailing object", validEventJSON("", "") + `{}`, "trailing data"},
		{"trailing garbage", validEventJSON("", "") + ` x`, "trailing data"},
		{"trailing closing bracket", validEventJSON("", "") + `]`, "trailing data"},
		{"trailing closing brace", validEventJSON("", "") + "\n}", "trailing data"},
		{"truncated", strings.TrimSuffix(validEventJSON("", ""), "}"), "event:"},
		{"array", `[` + validEventJSON("", "") + `]`, "event:"},
		{"empty input", ``, "event:"},
		{"null", `null`, "time: missing"},
		{"oversize input", validEventJSON("message", jsonString(strings.Repeat("m", 4*MaxEventSize))), "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEvent([]byte(tt.json))
			if err == nil {
				t.Fatalf("ParseEvent accepted %.200s as %+v", tt.json, e)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseEvent error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestValidateGoValues covers what JSON can not carry but a Go caller can
// set: invalid UTF-8, a zero time, a year past 9999.
func TestValidateGoValues(t *testing.T) {
	base := func() Event {
		return Event{Time: time.Date(2026, 5, 17, 8, 30, 0, 0, time.UTC), Actor: "alice", Action: "user.login", Outcome: OutcomeSuccess}
	}
	tests := []struct {
		name   string
		modify func(*Event)
		want   string
	}{
		{"zero time", func(e *Event) { e.Time = time.Time{} }, "time: missing"},
		{"year 10000", func(e *Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "time: year 10000"},
		{"invalid UTF-8 actor", func(e *Event) { e.Actor = "a\xffb" }, "actor: not valid UTF-8"},
		{"invalid UTF-8 attribute key", func(e *Event) { e.Attributes = map[string]string{"\xff": "v"} }, "attributes key: not valid UTF-8"},
		{"wrong schema", func(e *Event) { e.Schema = "other" }, "schema:"},
		{"digest of empty algorithm", func(e *Event) { e.Digests = []Digest{{Name: "a", Value: "00"}} }, "digests[0]: algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base()
			tt.modify(&e)
			if err := e.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
			if _, err := e.Canonical(); err == nil {
				t.Fatal("Canonical accepted an invalid event")
			}
		})
	}
	if e := base(); e.Validate() != nil {
		t.Fatalf("base event: %v", e.Validate())
	}
}

// TestCanonicalSizeLimit: an event whose fields are each within their limits
// but whose canonical form exceeds MaxEventSize is refused by Canonical,
// with an error that mentions the limit (the server maps it to 413).
func TestCanonicalSizeLimit(t *testing.T) {
	e := Event{Time: time.Date(2026, 5, 17, 8, 30, 0, 0, time.UTC), Actor: "a", Action: "x", Outcome: OutcomeSuccess,
		Attributes: map[string]string{}}
	for i := range 20 {
		e.Attributes[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", 1000)
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := e.Canonical(); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Canonical = %v, want an error about the size limit", err)
	}
	// Just under the limit is fine.
	e.Attributes = map[string]string{"k": strings.Repeat("v", 1020)}
	e.Message = strings.Repeat("m", 4096)
	c, err := e.Canonical()
	if err != nil || len(c) > MaxEventSize {
		t.Fatalf("Canonical of a %d-byte event: %v", len(c), err)
	}
}

// writeCanonical is the reference implementation of RFC 8785 that
// Canonical's direct writer is checked against: JCS for the values
// encoding/json decodes into an interface, objects with keys sorted by UTF-16 code units, strings
// with only the escapes JCS allows. Events hold no numbers.
func writeCanonical(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		writeCanonicalString(b, v)
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, x); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return utf16Less(keys[i], keys[j]) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonicalString(b, k)
			b.WriteByte(':')
			if err := writeCanonical(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("canonical JSON: unexpected %T", v)
	}
	return nil
}

// referenceCanonical encodes e the slow, general way: encoding/json, then
// the reference JCS writer.
func referenceCanonical(t testing.TB, e Event) []byte {
	t.Helper()
	if e.Schema == "" {
		e.Schema = EventSchema
	}
	e.Time = e.Time.UTC()
	plain, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(plain, &tree); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writeCanonical(&b, tree); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCanonicalMatchesReference(t *testing.T) {
	full := Event{
		Time: time.Date(2026, 11, 21, 8, 0, 0, 120000000, time.FixedZone("CST", 8*3600)), Actor: "张三", Action: "user.login",
		Object: "order<42>&\"x\"", Outcome: OutcomeFailure, Host: "h1", Application: "shop", Message: "line1\nline2\t\u2028",
		Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Tracestate: "k=v",
		Digests:    []Digest{{Name: "b", Algorithm: "sm3", Value: strings.Repeat("0a", 32)}, {Name: "a", Algorithm: "sha256", Value: strings.Repeat("ff", 32)}},
		Attributes: map[string]string{"zeta": "1", "alpha": "2", "ö": "3", "\U0001F600": "4", "": "x"[:0] + "5"},
	}
	delete(full.Attributes, "")
	minimal := Event{Time: time.Unix(0, 1).UTC(), Actor: "a", Action: "x", Outcome: OutcomeUnknown, Attributes: map[string]string{}, Digests: []Digest{}}
	for _, e := range []Event{full, minimal} {
		got, err := e.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceCanonical(t, e); !bytes.Equal(got, want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}
