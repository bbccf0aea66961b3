package mask

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonLexer reads JSON (RFC 8259) a token at a time from a buffered
// reader. The standard library's json.Decoder.Token allocates and builds
// an error for every token (5 MB/s here); the package stays on the
// standard library alone, so it reads JSON itself, strictly, and is fuzzed
// against json.Valid.
type jsonLexer struct {
	r   *bufio.Reader
	raw []byte // a string's bytes as read
	out []byte // a string decoded
	off int64  // bytes read, for errors
}

// maxJSONString bounds one string value (64 MiB).
const maxJSONString = 64 << 20

func newJSONLexer(r io.Reader) *jsonLexer {
	return &jsonLexer{r: bufio.NewReaderSize(r, 64<<10)}
}

func (l *jsonLexer) errorf(format string, args ...any) error {
	return fmt.Errorf("mask: invalid JSON at byte %d: %s", l.off, fmt.Sprintf(format, args...))
}

// next returns the next byte that is not white space; io.EOF at the end.
func (l *jsonLexer) next() (byte, error) {
	for {
		c, err := l.r.ReadByte()
		if err != nil {
			return 0, err
		}
		l.off++
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

// unexpected turns a read error into an error for unexpected input.
func (l *jsonLexer) unexpected(err error) error {
	if err == io.EOF {
		return l.errorf("unexpected end")
	}
	return err
}

// str reads a string whose opening quote was read, decoded.
func (l *jsonLexer) str() (string, error) {
	l.raw = l.raw[:0]
	for {
		chunk, err := l.r.ReadSlice('"')
		l.off += int64(len(chunk))
		l.raw = append(l.raw, chunk...)
		if len(l.raw) > maxJSONString {
			return "", l.errorf("a string longer than %d MiB", maxJSONString>>20)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", l.unexpected(err)
		}
		// The quote ends the string unless an odd number of
		// backslashes escapes it.
		n := 0
		for i := len(l.raw) - 2; i >= 0 && l.raw[i] == '\\'; i-- {
			n++
		}
		if n%2 == 0 {
			break
		}
	}
	raw := l.raw[:len(l.raw)-1]
	plain := bytes.IndexByte(raw, '\\') < 0
	for _, c := range raw {
		if c < 0x20 {
			return "", l.errorf("a control character in a string")
		}
	}
	if plain && utf8.Valid(raw) {
		return string(raw), nil
	}
	return l.decode(raw)
}

// decode turns a string's escapes into characters; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func (l *jsonLexer) decode(raw []byte) (string, error) {
	out := l.out[:0]
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			r, size := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += size
			continue
		}
		if i+1 >= len(raw) {
			return "", l.errorf("a backslash at the end of a string")
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", l.errorf("a bad \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw[min(i+2, len(raw)):]); ok && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", l.errorf("a bad escape \\%c", e)
		}
		i += 2
	}
	l.out = out
	return string(out), nil
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a number whose first byte is first, as written.
func (l *jsonLexer) number(first byte) (string, error) {
	l.raw = append(l.raw[:0], first)
	for {
		c, err := l.r.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			l.r.UnreadByte()
			break
		}
		l.off++
		l.raw = append(l.raw, c)
		if len(l.raw) > 1<<10 {
			return "", l.errorf("a number longer than 1024 characters")
		}
	}
	if !validNumber(l.raw) {
		return "", l.errorf("a bad number %q", l.raw)
	}
	return string(l.raw), nil
}

// validNumber checks RFC 8259's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// literal reads the rest of true, false or null, whose first byte was read.
func (l *jsonLexer) literal(first byte) (string, error) {
	var want string
	switch first {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	case 'n':
		want = "null"
	}
	for i := 1; i < len(want); i++ {
		c, err := l.r.ReadByte()
		if err != nil {
			return "", l.unexpected(err)
		}
		l.off++
		if c != want[i] {
			return "", l.errorf("expected %s", want)
		}
	}
	return want, nil
}

var errJSONTrailing = errors.New("mask: more than one JSON value")
