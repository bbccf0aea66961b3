package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzWrite checks that what Write writes is a JSON string that reads back
// as the text (invalid UTF-8 reads back as U+FFFD, as encoding/json has it).
func FuzzWrite(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\n\r\t\b\f\x00\x1f", "张三", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		Write(&b, s)
		var got string
		if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
			t.Fatalf("Write(%q) = %s: %v", s, b.String(), err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got != want && strings.ToValidUTF8(got, "") != strings.ToValidUTF8(want, "") {
			t.Fatalf("Write(%q) reads back as %q", s, got)
		}
	})
}

func TestWrite(t *testing.T) {
	var b strings.Builder
	Write(&b, "a\"b\\c\n\x01张")
	if b.String() != `"a\"b\\c\n\u0001张"` {
		t.Fatalf("Write = %s", b.String())
	}
}
