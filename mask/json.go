package mask

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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
// is found masked. It reads a token at a time, so memory stays the same
// whatever the document's size (one string value is held whole). The
// output is compact JSON; numbers are copied as written, or become masked
// strings when they hold a phone or card number. Input that is not JSON
// is an error, after which w holds a prefix of the output.
func MaskJSON(w io.Writer, r io.Reader, o JSONOptions) error {
	lm := newLogMasker(LogOptions{Redactor: o.Redactor, Keys: o.Keys, Secrets: o.Secrets})
	dec := json.NewDecoder(r)
	dec.UseNumber()
	bw := bufio.NewWriterSize(w, 32<<10)
	jm := &jsonMasker{m: lm, paths: o.Paths, w: bw, maxDepth: o.MaxDepth}
	if jm.maxDepth <= 0 {
		jm.maxDepth = 1000
	}
	if err := jm.value(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return errors.New("mask: more than one JSON value")
		}
		return err
	}
	return bw.Flush()
}

type jsonMasker struct {
	m        *logMasker
	paths    map[string]Kind
	w        *bufio.Writer
	path     []string // keys, and "[]" for array elements
	maxDepth int
}

// value copies one value, whose key (or "[]") is the last of jm.path.
func (jm *jsonMasker) value(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return jm.valueFrom(dec, tok)
}

func (jm *jsonMasker) valueFrom(dec *json.Decoder, tok json.Token) error {
	switch t := tok.(type) {
	case json.Delim:
		if len(jm.path) >= jm.maxDepth {
			return ErrJSONDepth
		}
		switch t {
		case '{':
			return jm.object(dec)
		case '[':
			return jm.array(dec)
		}
		return fmt.Errorf("mask: unexpected %v in JSON", t)
	case string:
		return jm.writeString(jm.maskString(t))
	case json.Number:
		s := string(t)
		if kind, secret, ok := jm.rule(); secret {
			return jm.writeString(redacted)
		} else if ok {
			return jm.writeString(jm.m.whole(kind, s))
		}
		if len(s) >= 11 {
			if masked := jm.m.text(s); masked != s {
				return jm.writeString(masked)
			}
		}
		_, err := jm.w.WriteString(s)
		return err
	case bool:
		if _, secret, _ := jm.rule(); secret {
			return jm.writeString(redacted)
		}
		_, err := fmt.Fprint(jm.w, t)
		return err
	case nil:
		_, err := jm.w.WriteString("null")
		return err
	}
	return fmt.Errorf("mask: unexpected JSON token %v", tok)
}

func (jm *jsonMasker) object(dec *json.Decoder) error {
	jm.w.WriteByte('{')
	for first := true; ; first = false {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			return jm.w.WriteByte('}')
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("mask: unexpected JSON token %v", tok)
		}
		if !first {
			jm.w.WriteByte(',')
		}
		if err := jm.writeString(key); err != nil {
			return err
		}
		jm.w.WriteByte(':')
		jm.path = append(jm.path, key)
		if kind, secret, ok := jm.rule(); secret || ok {
			// The whole value is replaced: read it, write the mask.
			if err := jm.replaceWhole(dec, kind, secret); err != nil {
				return err
			}
		} else if err := jm.value(dec); err != nil {
			return err
		}
		jm.path = jm.path[:len(jm.path)-1]
	}
}

func (jm *jsonMasker) array(dec *json.Decoder) error {
	jm.w.WriteByte('[')
	jm.path = append(jm.path, "[]")
	defer func() { jm.path = jm.path[:len(jm.path)-1] }()
	for first := true; ; first = false {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim(']') {
			return jm.w.WriteByte(']')
		}
		if !first {
			jm.w.WriteByte(',')
		}
		if err := jm.valueFrom(dec, tok); err != nil {
			return err
		}
	}
}

// replaceWhole replaces the value that comes next: a secret with
// "[REDACTED]", a string or number with its mask as kind; an object or
// array under a key of a kind is copied with its own strings searched.
func (jm *jsonMasker) replaceWhole(dec *json.Decoder, kind Kind, secret bool) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok {
		if secret {
			if err := skip(dec, d); err != nil {
				return err
			}
			return jm.writeString(redacted)
		}
		return jm.valueFrom(dec, tok)
	}
	if secret {
		return jm.writeString(redacted)
	}
	switch t := tok.(type) {
	case string:
		return jm.writeString(jm.m.whole(kind, t))
	case json.Number:
		return jm.writeString(jm.m.whole(kind, string(t)))
	}
	return jm.valueFrom(dec, tok)
}

// skip reads to the end of the array or object opened by d.
func skip(dec *json.Decoder, d json.Delim) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// rule says what the current path's key says of its value.
func (jm *jsonMasker) rule() (kind Kind, secret, ok bool) {
	if len(jm.path) == 0 {
		return "", false, false
	}
	key := lowerASCII(jm.path[len(jm.path)-1])
	if jm.m.secrets[key] {
		return "", true, false
	}
	if len(jm.paths) > 0 {
		if kind, ok := jm.paths[jm.pathString()]; ok {
			return kind, false, true
		}
	}
	kind, ok = jm.m.keys[key]
	return kind, false, ok
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
// characters escaped, nothing else (<, > and & stay as they are).
func (jm *jsonMasker) writeString(s string) error {
	w := jm.w
	w.WriteByte('"')
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		w.WriteString(s[last:i])
		switch c {
		case '"', '\\':
			w.WriteByte('\\')
			w.WriteByte(c)
		case '\n':
			w.WriteString(`\n`)
		case '\r':
			w.WriteString(`\r`)
		case '\t':
			w.WriteString(`\t`)
		default:
			w.WriteString(`\u00`)
			w.WriteByte(hexDigits[c>>4])
			w.WriteByte(hexDigits[c&0xf])
		}
		last = i + 1
	}
	w.WriteString(s[last:])
	return w.WriteByte('"')
}

const hexDigits = "0123456789abcdef"
