package mask

import (
	"bufio"
	"errors"
	"io"

	"strings"

	"hegui.dev/hegui/internal/jsonstr"
)

// JSONOptions say how a JSON document is masked.
type JSONOptions struct {
	// Redactor finds and replaces personal information in every string
	// (and long number) value; nil means the default scanner and masks.
	Redactor *Redactor
	// Paths maps key paths to the kind of their values, masked whole:
	// "user.phone", "orders[].card_no" ([] is any element of an array,
	// "[].email" an element of a top-level array).
	Paths map[string]Kind
	// Keys maps keys, wherever they are, to the kind of their values, as
	// LogOptions.Keys; nil means DefaultLogKeys.
	Keys map[string]Kind
	// Secrets are keys whose values are replaced with "[REDACTED]"; nil
	// means DefaultSecrets.
	Secrets []string
	// MaxDepth bounds how deep arrays and objects nest (default 1000).
	MaxDepth int
}

// ErrJSONDepth is the error for a document nested deeper than MaxDepth.
var ErrJSONDepth = errors.New("mask: the JSON document nests too deep")

// MaskJSON copies the JSON document in r to w with its personal
// information masked: values under a secret key removed, under a known key
// or path masked whole as their kind, every other string searched and what
// is found masked. It reads the document as it goes, so memory stays the
// same whatever its size (one string value, 64 MiB at most, is held
// whole). The output is compact JSON; numbers are copied as written, or
// become masked strings when they hold a phone or card number. Input that
// is not JSON (RFC 8259) is an error, after which w may hold part of the
// output (masked), never what was not masked.
func MaskJSON(w io.Writer, r io.Reader, o JSONOptions) error {
	lm := newLogMasker(LogOptions{Redactor: o.Redactor, Keys: o.Keys, Secrets: o.Secrets})
	bw := bufio.NewWriterSize(w, 32<<10)
	jm := &jsonMasker{m: lm, paths: o.Paths, w: bw, maxDepth: o.MaxDepth, lx: newJSONLexer(r)}
	if jm.maxDepth <= 0 {
		jm.maxDepth = 1000
	}
	c, err := jm.lx.next()
	if err != nil {
		return jm.lx.unexpected(err)
	}
	if err := jm.value(c); err != nil {
		return err
	}
	if _, err := jm.lx.next(); err != io.EOF {
		if err == nil {
			return errJSONTrailing
		}
		return err
	}
	return bw.Flush()
}

type jsonMasker struct {
	m        *logMasker
	paths    map[string]Kind
	lx       *jsonLexer
	w        *bufio.Writer
	discard  *bufio.Writer // takes what a secret's value would write
	path     []string      // keys, and "[]" for array elements
	depth    int
	maxDepth int
}

// value copies the value that begins with c, whose key (or "[]") is the
// last of jm.path.
func (jm *jsonMasker) value(c byte) error {
	switch {
	case c == '{' || c == '[':
		if jm.depth++; jm.depth > jm.maxDepth {
			return ErrJSONDepth
		}
		defer func() { jm.depth-- }()
		if c == '{' {
			return jm.object()
		}
		return jm.array()
	case c == '"':
		s, err := jm.lx.str()
		if err != nil {
			return err
		}
		return jm.writeString(jm.maskString(s))
	case c == '-' || c >= '0' && c <= '9':
		s, err := jm.lx.number(c)
		if err != nil {
			return err
		}
		if len(s) >= 11 {
			if masked := jm.m.text(s); masked != s {
				return jm.writeString(masked)
			}
		}
		_, err = jm.w.WriteString(s)
		return err
	case c == 't' || c == 'f' || c == 'n':
		s, err := jm.lx.literal(c)
		if err != nil {
			return err
		}
		_, err = jm.w.WriteString(s)
		return err
	}
	return jm.lx.errorf("unexpected %q", c)
}

// expect reads the next byte that is not white space.
func (jm *jsonMasker) expect() (byte, error) {
	c, err := jm.lx.next()
	if err != nil {
		return 0, jm.lx.unexpected(err)
	}
	return c, nil
}

func (jm *jsonMasker) object() error {
	jm.w.WriteByte('{')
	c, err := jm.expect()
	if err != nil {
		return err
	}
	if c == '}' {
		return jm.w.WriteByte('}')
	}
	for first := true; ; first = false {
		if c != '"' {
			return jm.lx.errorf("expected a key, not %q", c)
		}
		key, err := jm.lx.str()
		if err != nil {
			return err
		}
		if c, err = jm.expect(); err != nil {
			return err
		}
		if c != ':' {
			return jm.lx.errorf("expected a colon, not %q", c)
		}
		if !first {
			jm.w.WriteByte(',')
		}
		// A key can be personal too ({"13812345678": "Zhang"}); rules
		// match the key as it is.
		if err := jm.writeString(jm.maskString(key)); err != nil {
			return err
		}
		jm.w.WriteByte(':')
		if c, err = jm.expect(); err != nil {
			return err
		}
		jm.path = append(jm.path, key)
		if kind, secret, ok := jm.rule(); secret || ok {
			err = jm.replaceWhole(c, kind, secret)
		} else {
			err = jm.value(c)
		}
		if err != nil {
			return err
		}
		jm.path = jm.path[:len(jm.path)-1]
		if c, err = jm.expect(); err != nil {
			return err
		}
		if c == '}' {
			return jm.w.WriteByte('}')
		}
		if c != ',' {
			return jm.lx.errorf("expected a comma or }, not %q", c)
		}
		if c, err = jm.expect(); err != nil {
			return err
		}
	}
}

func (jm *jsonMasker) array() error {
	jm.w.WriteByte('[')
	c, err := jm.expect()
	if err != nil {
		return err
	}
	if c == ']' {
		return jm.w.WriteByte(']')
	}
	jm.path = append(jm.path, "[]")
	for first := true; ; first = false {
		if !first {
			jm.w.WriteByte(',')
		}
		if err := jm.value(c); err != nil {
			return err
		}
		if c, err = jm.expect(); err != nil {
			return err
		}
		if c == ']' {
			jm.path = jm.path[:len(jm.path)-1]
			return jm.w.WriteByte(']')
		}
		if c != ',' {
			return jm.lx.errorf("expected a comma or ], not %q", c)
		}
		if c, err = jm.expect(); err != nil {
			return err
		}
	}
}

// replaceWhole replaces the value that begins with c: a secret with
// "[REDACTED]" (read, checked, not copied), a string, number or literal
// with its mask as kind; an object or array under a key of a kind is
// copied with its own strings searched.
func (jm *jsonMasker) replaceWhole(c byte, kind Kind, secret bool) error {
	if secret {
		w := jm.w
		if jm.discard == nil {
			jm.discard = bufio.NewWriterSize(io.Discard, 16)
		}
		jm.w = jm.discard
		err := jm.value(c)
		jm.w = w
		if err != nil {
			return err
		}
		return jm.writeString(redacted)
	}
	var s string
	var err error
	switch {
	case c == '"':
		s, err = jm.lx.str()
	case c == '-' || c >= '0' && c <= '9':
		s, err = jm.lx.number(c)
	default:
		return jm.value(c)
	}
	if err != nil {
		return err
	}
	return jm.writeString(jm.m.whole(kind, s))
}

// rule says what the current path's key says of its value.
func (jm *jsonMasker) rule() (kind Kind, secret, ok bool) {
	if len(jm.path) == 0 {
		return "", false, false
	}
	r, byKey := jm.m.keys[lowerASCII(jm.path[len(jm.path)-1])]
	if r.secret {
		return "", true, false
	}
	if len(jm.paths) > 0 {
		if kind, ok := jm.paths[jm.pathString()]; ok {
			return kind, false, true
		}
	}
	return r.kind, false, byKey
}

// pathString is the current path as Paths writes it: user.phone,
// orders[].card_no.
func (jm *jsonMasker) pathString() string {
	var b strings.Builder
	for i, p := range jm.path {
		if i > 0 && p != "[]" {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func (jm *jsonMasker) maskString(s string) string {
	if plainText(s) {
		return s
	}
	return jm.m.text(s)
}

// writeString writes s as a JSON string: quotes, backslashes and control
// characters escaped, nothing else (<, > and & stay as they are). A write
// error is the bufio.Writer's, reported when it is flushed.
func (jm *jsonMasker) writeString(s string) error {
	jsonstr.Write(jm.w, s)
	return nil
}
