package mask

import (
	"context"
	"fmt"
	"log/slog"
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

// attr masks one attribute (groups and LogValuers resolved).
func (m *logMasker) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	key := lowerASCII(a.Key)
	rule, byKey := m.keys[key]
	if rule.secret {
		return slog.String(a.Key, redacted)
	}
	kind := rule.kind
	switch v.Kind() {
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]slog.Attr, len(attrs))
		for i, ga := range attrs {
			out[i] = m.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindString:
		if byKey {
			return slog.String(a.Key, m.whole(kind, v.String()))
		}
		if s := v.String(); !plainText(s) {
			return slog.String(a.Key, m.text(s))
		}
	case slog.KindInt64, slog.KindUint64:
		// A phone or card number logged as a number: 11 digits or more.
		long := v.Kind() == slog.KindInt64 && (v.Int64() >= 1e10 || v.Int64() <= -1e10) || v.Kind() == slog.KindUint64 && v.Uint64() >= 1e10
		if byKey {
			return slog.String(a.Key, m.whole(kind, v.String()))
		}
		if long {
			s := v.String()
			if masked := m.text(s); masked != s {
				return slog.String(a.Key, masked)
			}
		}
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		default:
			if byKey {
				return slog.String(a.Key, m.whole(kind, fmt.Sprint(x)))
			}
			return slog.Attr{Key: a.Key, Value: v}
		}
		if byKey {
			return slog.String(a.Key, m.whole(kind, s))
		}
		if masked := m.text(s); masked != s {
			return slog.String(a.Key, masked)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// plainText reports whether s cannot hold anything the scanner finds, at
// a glance: most log values. Every kind's values have an @, a + and a
// digit, two capitals and two digits (an IBAN), four digits in a row, a digit beside a dot or a hex digit beside a colon (an address),
// or a province's abbreviation before a letter (a plate). FuzzPlainText holds it to that.
func plainText(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
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

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// ReplaceAttr returns a function for slog.HandlerOptions.ReplaceAttr that
// masks each attribute: secrets removed, keys of a known kind masked
// whole, every other string searched and what is found masked. It does
// not see the message; NewLogHandler masks that too.
func ReplaceAttr(o LogOptions) func(groups []string, a slog.Attr) slog.Attr {
	m := newLogMasker(o)
	return func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.MessageKey || a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.SourceKey {
			return a
		}
		return m.attr(a)
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
		m := h.m.attr(a)
		changed = changed || !m.Equal(a)
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
		masked[i] = h.m.attr(a)
	}
	return &logHandler{next: h.next.WithAttrs(masked), m: h.m}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), m: h.m}
}
