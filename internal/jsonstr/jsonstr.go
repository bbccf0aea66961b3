// Package jsonstr writes JSON strings the one way hegui writes them by
// hand: only the quote, the backslash and control characters escaped (the
// short escapes where JSON has them, \u00XX otherwise), every other byte,
// multi-byte UTF-8 included, copied. That is RFC 8785's canonical form
// (§3.2.2.2) for valid UTF-8, and valid JSON for any text.
package jsonstr

import "io"

// Writer is what a string is written to: a bytes.Buffer, a bufio.Writer, a
// strings.Builder. Their errors are sticky or impossible, so Write reports
// none.
type Writer interface {
	io.ByteWriter
	io.StringWriter
}

const hexDigits = "0123456789abcdef"

// Write writes s to w as a JSON string, quotes included.
func Write(w Writer, s string) {
	w.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		w.WriteString(s[start:i])
		switch c {
		case '"':
			w.WriteString(`\"`)
		case '\\':
			w.WriteString(`\\`)
		case '\b':
			w.WriteString(`\b`)
		case '\f':
			w.WriteString(`\f`)
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
		start = i + 1
	}
	w.WriteString(s[start:])
	w.WriteByte('"')
}
