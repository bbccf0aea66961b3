package mask

import (
	"context"
	"fmt"
	"log/slog"

	"strings"
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

type logMasker struct {
	r       *Redactor
	keys    map[string]Kind
	secrets map[string]bool
}

func newLogMasker(o LogOptions) *logMasker {
	m := &logMasker{r: o.Redactor, keys: map[string]Kind{}, secrets: map[string]bool{}}
	if m.r == nil {
		m.r = &Redactor{}
	}
	keys := o.Keys
	if keys == nil {
		keys = DefaultLogKeys
	}
	for k, kind := range keys {
		m.keys[lowerASCII(k)] = kind
	}
	secrets := o.Secrets
	if secrets == nil {
		secrets = DefaultSecrets
	}
	for _, k := range secrets {
		m.secrets[lowerASCII(k)] = true
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
	if m.secrets[key] {
		return slog.String(a.Key, redacted)
	}
	kind, byKey := m.keys[key]
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
		// A phone or card number logged as a number.
		s := v.String()
		if byKey {
			return slog.String(a.Key, m.whole(kind, s))
		}
		if len(s) >= 11 {
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

// plainText reports whether s is too short or too plain to hold anything
// the scanner finds (no digit, no @): most log values, checked at once.
func plainText(s string) bool {
	if len(s) < 5 {
		return true
	}
	return strings.IndexAny(s, "0123456789@") < 0
}

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
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.m.attr(a))
		return true
	})
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
