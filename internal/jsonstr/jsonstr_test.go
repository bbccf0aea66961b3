package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzWrite checks that what Write writes is a JSON string that reads back
// as encoding/json's own encoding of the text does (invalid UTF-8 reads
// back as U+FFFD, a byte at a time, in both).
func FuzzWrite(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\n\r\t\b\f\x00\x1f", "张三", "\xff", "\xe8\xd5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		Write(&b, s)
		var got, want string
		if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
			t.Fatalf("Write(%q) = %s: %v", s, b.String(), err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("Write(%q) reads back as %q, encoding/json's as %q", s, got, want)
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
