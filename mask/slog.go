package mask

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LogOptions say how log records are masked.
type LogOptions struct {
	// Redactor finds and replaces personal information in every string
	// value and message; nil means the default scanner and masks.
	Redactor *Redactor
	// Keys maps attribute keys to the kind of their values: such a value
	// is masked whole as that kind, whether or not it validates ("phone":
	// "12345" is still masked). Keys match without regard to case; nil
	// means DefaultLogKeys.
	Keys map[string]Kind
	// Secrets are attribute keys whose values are replaced with
	// "[REDACTED]" whatever they hold; nil means DefaultSecrets.
	Secrets []string
}

// DefaultLogKeys are the attribute keys masked as a kind by default.
var DefaultLogKeys = map[string]Kind{
	"idcard": IDCard, "id_card": IDCard, "id_no": IDCard, "身份证": IDCard, "身份证号": IDCard,
	"phone": Mobile, "mobile": Mobile, "tel": Mobile, "手机": Mobile, "手机号": Mobile, "电话": Mobile,
	"email": Email, "mail": Email, "邮箱": Email,
	"bankcard": BankCard, "bank_card": BankCard, "card_no": BankCard, "银行卡": BankCard, "卡号": BankCard,
	"passport": Passport, "护照": Passport,
	"ip": IP, "client_ip": IP, "remote_addr": IP,
	"uscc": USCC, "iban": IBAN, "plate": Plate, "车牌": Plate,
}

// DefaultSecrets are the attribute keys whose values are removed by
// default.
var DefaultSecrets = []string{"password", "passwd", "pwd", "secret", "token", "access_token", "refresh_token", "api_key", "apikey", "authorization", "cookie", "private_key", "密码"}

// redacted replaces a secret's value.
const redacted = "[REDACTED]"

// keyRule is what a key says of its value: a secret, or of a kind.
type keyRule struct {
	kind   Kind
	secret bool
}

type logMasker struct {
	r    *Redactor
	keys map[string]keyRule // by lower-case key
	// sig has, for each key's first byte, the bit of its last byte (both
	// in lower case; modulo 64): most attribute keys are no key of the
	// map, and two bytes say so before it is hashed.
	sig [256]uint64
}

// lookup finds the rule of an attribute key.
func (m *logMasker) lookup(key string) (keyRule, bool) {
	if key == "" || m.sig[lowerByte(key[0])]&(1<<(lowerByte(key[len(key)-1])&63)) == 0 {
		return keyRule{}, false
	}
	rule, ok := m.keys[lowerASCII(key)]
	return rule, ok
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func newLogMasker(o LogOptions) *logMasker {
	m := &logMasker{r: o.Redactor, keys: map[string]keyRule{}}
	if m.r == nil {
		m.r = &Redactor{}
	}
	keys := o.Keys
	if keys == nil {
		keys = DefaultLogKeys
	}
	for k, kind := range keys {
		m.keys[lowerASCII(k)] = keyRule{kind: kind}
	}
	secrets := o.Secrets
	if secrets == nil {
		secrets = DefaultSecrets
	}
	for _, k := range secrets {
		m.keys[lowerASCII(k)] = keyRule{secret: true}
	}
	for k := range m.keys {
		if k != "" {
			m.sig[k[0]] |= 1 << (k[len(k)-1] & 63)
		}
	}
	return m
}

// text masks the personal information in s; an operator's failure
// removes the whole text rather than let it through.
func (m *logMasker) text(s string) string {
	out, _, err := m.r.Redact(s)
	if err != nil {
		return redacted
	}
	return out
}

// whole masks all of s as kind.
func (m *logMasker) whole(kind Kind, s string) string {
	op, ok := m.r.Operators[kind]
	if !ok {
		op = DefaultMask(kind)
	}
	out, err := op.Apply(Finding{Kind: kind, Start: 0, End: len(s), Value: s})
	if err != nil {
		return redacted
	}
	return out
}

// attr masks one attribute (groups and LogValuers resolved) and says
// whether it changed it.
func (m *logMasker) attr(a slog.Attr) (slog.Attr, bool) {
	v := a.Value
	if v.Kind() == slog.KindLogValuer {
		v = v.Resolve()
	}
	rule, byKey := m.lookup(a.Key)
	if rule.secret {
		return slog.String(a.Key, redacted), true
	}
	// masked replaces the value with s masked: whole, under a key of a
	// kind; else what the scanner finds in it, if anything.
	masked := func(s string) (slog.Attr, bool) {
		if byKey {
			return slog.String(a.Key, m.whole(rule.kind, s)), true
		}
		if plainText(s) {
			return slog.Attr{Key: a.Key, Value: v}, false
		}
		if out := m.text(s); out != s {
			return slog.String(a.Key, out), true
		}
		return slog.Attr{Key: a.Key, Value: v}, false
	}
	switch v.Kind() {
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]slog.Attr, len(attrs))
		changed := false
		for i, ga := range attrs {
			var c bool
			out[i], c = m.attr(ga)
			changed = changed || c
		}
		if !changed {
			return slog.Attr{Key: a.Key, Value: v}, false
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}, true
	case slog.KindString:
		return masked(v.String())
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64:
		// A phone or card number logged as a number: 11 digits or more
		// (JSON decodes numbers as float64).
		long := v.Kind() == slog.KindInt64 && (v.Int64() >= 1e10 || v.Int64() <= -1e10) ||
			v.Kind() == slog.KindUint64 && v.Uint64() >= 1e10 ||
			v.Kind() == slog.KindFloat64 && math.Abs(v.Float64()) >= 1e10
		if !byKey && !long {
			return slog.Attr{Key: a.Key, Value: v}, false
		}
		s := v.String()
		if v.Kind() == slog.KindFloat64 {
			s = strconv.FormatFloat(v.Float64(), 'f', -1, 64)
		}
		return masked(s)
	case slog.KindAny:
		return masked(anyText(v.Any()))
	}
	return slog.Attr{Key: a.Key, Value: v}, false
}

// anyText is what a handler prints of a value: an error's message, bytes
// as text, anything else as JSON (what JSONHandler writes), or %+v when
// it is not JSON, and a Stringer's String beside it (what TextHandler
// writes).
func anyText(x any) string {
	switch x := x.(type) {
	case error:
		return x.Error()
	case []byte:
		return string(x)
	}
	s := ""
	if b, err := json.Marshal(x); err == nil {
		s = string(b)
	} else {
		s = fmt.Sprintf("%+v", x)
	}
	if str, ok := x.(fmt.Stringer); ok {
		s += " " + str.String()
	}
	return s
}

// plainText reports whether s cannot hold anything the scanner finds, at
// a glance: most log values. Every kind's values have an @, a + and a
// digit, two capitals and two digits (an IBAN), four digits in a row, a digit beside a dot or a hex digit beside a colon (an address),
// or a province's abbreviation before a letter (a plate). FuzzPlainText holds it to that.
func plainText(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quiet[c] {
			run = 0 // a lower-case letter, a space, most punctuation
			continue
		}
		switch {
		case c >= '0' && c <= '9':
			if run++; run >= 4 || i > 0 && s[i-1] == '.' || i+1 < len(s) && s[i+1] == '.' {
				return false
			}
		case c == ':':
			// An IPv6 address: a hex digit beside a colon.
			if i > 0 && isHex(s[i-1]) || i+1 < len(s) && isHex(s[i+1]) {
				return false
			}
			run = 0
		case c == '@' || c == '+' && i+1 < len(s) && isDigit(s[i+1]):
			return false // an address, an international number
		case c >= 'A' && c <= 'Z' && i+3 < len(s) && s[i+1] >= 'A' && s[i+1] <= 'Z' && isDigit(s[i+2]) && isDigit(s[i+3]):
			return false // the start of an IBAN
		case c >= utf8.RuneSelf:
			// A plate: a province's abbreviation and a letter (京A0A000).
			r, size := utf8.DecodeRuneInString(s[i:])
			if i+size < len(s) && isASCIILetter(s[i+size]) && strings.ContainsRune(plateProvinces, r) {
				return false
			}
			i += size - 1
			run = 0
		default:
			run = 0
		}
	}
	return true
}

// quiet are the bytes plainText passes over without a look at their
// neighbours: all but digits, capitals, ':', '@', '+' and non-ASCII.
var quiet = func() (q [256]bool) {
	for c := range 128 {
		q[c] = !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == ':' || c == '@' || c == '+')
	}
	return q
}()

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// ReplaceAttr returns a function for slog.HandlerOptions.ReplaceAttr that
// masks each attribute: secrets removed, keys of a known kind masked
// whole, every other value searched and what is found masked, and the
// message too.
func ReplaceAttr(o LogOptions) func(groups []string, a slog.Attr) slog.Attr {
	m := newLogMasker(o)
	return func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 {
			// The record's own time, level and source pass; an attribute
			// of the same name with another kind of value is the caller's.
			switch a.Key {
			case slog.TimeKey:
				if a.Value.Kind() == slog.KindTime {
					return a
				}
			case slog.LevelKey:
				if _, ok := a.Value.Any().(slog.Level); ok {
					return a
				}
			case slog.SourceKey:
				if _, ok := a.Value.Any().(*slog.Source); ok {
					return a
				}
			case slog.MessageKey:
				if s := a.Value.String(); !plainText(s) {
					return slog.String(a.Key, m.text(s))
				}
				return a
			}
		}
		out, _ := m.attr(a)
		return out
	}
}

// NewLogHandler wraps next so that every record's message and attributes
// (those added with With too) are masked before next sees them.
func NewLogHandler(next slog.Handler, o LogOptions) slog.Handler {
	return &logHandler{next: next, m: newLogMasker(o)}
}

type logHandler struct {
	next slog.Handler
	m    *logMasker
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	msg := r.Message
	if !plainText(msg) {
		msg = h.m.text(msg)
	}
	// The attributes, masked, in one slice (on the stack for most
	// records), added at once; a record with nothing to mask goes on as
	// it is.
	var buf [16]slog.Attr
	attrs := buf[:0]
	changed := msg != r.Message
	r.Attrs(func(a slog.Attr) bool {
		m, c := h.m.attr(a)
		changed = changed || c
		attrs = append(attrs, m)
		return true
	})
	if !changed {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	out.AddAttrs(attrs...)
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i], _ = h.m.attr(a)
	}
	return &logHandler{next: h.next.WithAttrs(masked), m: h.m}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), m: h.m}
}
