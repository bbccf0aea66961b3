package license

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// How licensecheck (v0.3.1) reads a text: the words its patterns match.
// The known-text table (knowntexts.go) keys texts by this reading, so it
// must be licensecheck's to the letter: TestKnownTextsAgree compares the
// shares of words covered, which count the words, with licensecheck's on
// every licence file of the module cache.
//
// A word is "©" alone, or a run of letters, digits and non-spacing marks
// that starts with a letter or digit, with "(s)" right after it read as
// part of it ("notice(s)"). Case is folded and accents are dropped from
// vowels. "(c)", "©" and the entity "&copy;" read as "copyright", and
// "copyright" words next to each other as one. HTML tags and other
// entities, Markdown anchors ({#id}) and link targets ("](http...)") are
// skipped. Everything else separates words.

// word is one word of a text as licensecheck reads it.
type word struct {
	// key stands for everything licensecheck's matching sees of the word:
	// the folded text its spelling checker compares, marked when the word
	// reads as "copyright"; for "http" words, where licensecheck looks for
	// a licence URL in the raw text, the raw text up to the next space.
	key string
	// copyright is set when the word reads as "copyright".
	copyright bool
	// lo and hi are the word's byte offsets in the text.
	lo, hi int
}

// readWords splits text into words as licensecheck does.
func readWords(text string) []word {
	words := make([]word, 0, len(text)/6) // about six bytes a word in licence texts
	emit := func(lo, hi int, copyright bool) {
		if copyright && len(words) > 0 && words[len(words)-1].copyright {
			return // "Copyright ©" is one word
		}
		key := fold(text[lo:hi])
		switch {
		case copyright:
			key = "©" + key
		case key == "http" || key == "https":
			end := strings.IndexFunc(text[lo:], unicode.IsSpace)
			if end < 0 {
				end = len(text) - lo
			}
			key += "|" + text[lo:lo+end]
		}
		words = append(words, word{key: key, copyright: copyright, lo: lo, hi: hi})
	}
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			if n := htmlTagSize(text[i:]); n > 0 {
				i += n
				continue
			}
		case '{':
			if n := markdownAnchorSize(text[i:]); n > 0 {
				i += n
				continue
			}
		case '&':
			if n := htmlEntitySize(text[i:]); n > 0 {
				if text[i:i+n] == "&copy;" {
					emit(i, i+n, true)
				}
				i += n
				continue
			}
		case ']':
			if n := markdownLinkSize(text[i:]); n > 0 {
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '©' {
			i += size
			continue
		}
		lo := i
		i += size
		if r != '©' {
			for i < len(text) {
				r, size := utf8.DecodeRuneInString(text[i:])
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
					break
				}
				i += size
			}
			if strings.HasPrefix(text[i:], "(s)") {
				i += 3
			}
		}
		if lo > 0 && text[lo-1] == '(' && i < len(text) && text[i] == ')' && fold(text[lo:i]) == "c" {
			emit(lo-1, i+1, true)
			i++
			continue
		}
		emit(lo, i, r == '©' || i-lo >= 9 && fold(text[lo:i]) == "copyright")
	}
	return words
}

// fold folds a word as licensecheck does: each letter to the smallest
// rune of its case-folding orbit, accents dropped from vowels, then to
// lower case; parentheses (of "(s)" and "(c)") dropped.
func fold(w string) string {
	ascii := true
	for i := 0; i < len(w) && ascii; i++ {
		ascii = w[i] < utf8.RuneSelf && w[i] != '(' && w[i] != ')'
	}
	if ascii {
		return strings.ToLower(w) // the same, faster
	}
	var b strings.Builder
	for _, r := range w {
		for {
			r1 := unicode.SimpleFold(r)
			if r1 >= r {
				break
			}
			r = r1
		}
		switch r {
		case 'Á', 'À':
			r = 'a'
		case 'É', 'È':
			r = 'e'
		case 'Í', 'Ì':
			r = 'i'
		case 'Ó', 'Ò':
			r = 'o'
		case 'Ú', 'Ù':
			r = 'u'
		case '(', ')':
			continue
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// htmlTagSize returns the length of the HTML tag at the start of t, or 0:
// '<', an optional '/', a letter, and up to '>' no '<', at most two line
// breaks, and no '@' or ":/" before a space (so "<me@example.com>" and
// "<http://example.com>" are text).
func htmlTagSize(t string) int {
	if len(t) < 3 || t[0] != '<' {
		return 0
	}
	i := 1
	if t[i] == '/' {
		i++
	}
	if !isASCIILetter(t[i]) {
		return 0
	}
	space, lineBreaks := false, 0
	for ; i < len(t); i++ {
		switch t[i] {
		case '@':
			if !space {
				return 0
			}
		case ':':
			if !space && i+1 < len(t) && t[i+1] == '/' {
				return 0
			}
		case '\r', '\n':
			if lineBreaks++; lineBreaks > 2 {
				return 0
			}
		case '<':
			return 0
		case '>':
			return i + 1
		case ' ':
			space = true
		}
	}
	return 0
}

// htmlEntitySize returns the length of the HTML entity (&name;, &#123;,
// &#x1F;) at the start of t, or 0.
func htmlEntitySize(t string) int {
	if len(t) < 3 || t[0] != '&' {
		return 0
	}
	i, digits := 1, isASCIILetter
	if t[1] == '#' {
		i, digits = 2, func(c byte) bool { return '0' <= c && c <= '9' }
		if t[2] == 'x' {
			i, digits = 3, func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
		}
	}
	start := i
	for i < len(t) && digits(t[i]) {
		i++
	}
	if i > start && i < len(t) && t[i] == ';' {
		return i + 1
	}
	return 0
}

// markdownAnchorSize returns the length of the Markdown anchor ({#id}) at
// the start of t, or 0.
func markdownAnchorSize(t string) int {
	if len(t) < 4 || t[0] != '{' || t[1] != '#' {
		return 0
	}
	for i := 2; i < len(t); i++ {
		switch t[i] {
		case '}':
			return i + 1
		case ' ', '\r', '\n':
			return 0
		}
	}
	return 0
}

// markdownLinkSize returns the length of the Markdown link target at the
// start of t ("](" and a URL or "#" up to ")", with no space), or 0.
func markdownLinkSize(t string) int {
	if !strings.HasPrefix(t, "](") {
		return 0
	}
	ok := false
	for _, p := range []string{"http://", "https://", "mailto:", "file:", "#"} {
		ok = ok || strings.HasPrefix(t[2:], p)
	}
	if !ok {
		return 0
	}
	for i := 2; i < len(t); i++ {
		switch t[i] {
		case ' ', '\t', '\r', '\n':
			return 0
		case ')':
			return i + 1
		}
	}
	return 0
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
