package mask

import (
	"strings"
	"unicode/utf8"
)

// contextBefore and contextAfter bound the text around a value that is
// searched for context words, in bytes (a Chinese character is three).
const (
	contextBefore = 48
	contextAfter  = 18
)

// contextBoost is what a context word adds to a value's score, or takes
// away (Presidio's context enhancer uses the same factor).
const contextBoost = 0.35

// contextWords are the words that make a value more likely to be of a
// kind, lower case.
var contextWords = map[Kind][]string{
	IDCard:       {"身份证", "证件号", "居住证", "公民身份", "id card", "id no", "identity", "idcard", "id number"},
	Mobile:       {"手机", "电话", "联系", "号码", "mobile", "phone", "tel", "cell", "contact"},
	USCC:         {"信用代码", "社会信用", "营业执照", "纳税人识别号", "税号", "uscc", "credit code", "business license", "business licence"},
	BankCard:     {"卡号", "银行卡", "借记卡", "信用卡", "储蓄卡", "银联", "账号", "card", "visa", "mastercard", "unionpay", "pan"},
	Passport:     {"护照", "passport"},
	TravelPermit: {"通行证", "回乡证", "台胞证", "permit"},
	Plate:        {"车牌", "号牌", "车辆", "plate", "vehicle"},
	IBAN:         {"iban", "account", "账户", "bank"},
	Phone:        {"电话", "手机", "phone", "tel", "mobile", "fax", "call", "whatsapp", "msisdn"},
	IP:           {"ip", "地址", "address", "addr", "host", "client"},
}

// negativeWords make a value less likely to be personal information: it is
// an order, a serial, a version.
var negativeWords = []string{
	"订单", "单号", "流水号", "交易号", "编号", "序列号", "版本", "时间戳", "批次",
	"order", "tracking", "invoice", "serial", "version", "timestamp", "build", "sha", "uuid", "txn", "transaction",
}

// window is the text around a value that context words are looked for
// in: its clause, up to contextBefore bytes before and contextAfter after,
// ASCII letters in lower case.
type window struct {
	before, after part
	// all is the text before, clauses not cut: "RFC 5280, 4.2.1.10".
	all      part
	negative int8 // 0: not yet looked for, 1: a negative word is there, 2: none
}

// part is a piece of a window and what kinds of word can be in it.
type part struct {
	s            string
	letter, high bool
}

func newPart(s string) part {
	p := part{s: s}
	p.letter, p.high = hasLetterOrHigh(s)
	return p
}

// has reports whether the word is in the part.
func (p part) has(word string) bool {
	if word[0] < utf8.RuneSelf && !p.letter || word[0] >= utf8.RuneSelf && !p.high {
		return false
	}
	return containsWord(p.s, word)
}

func newWindow(text string, start, end int) window {
	lo := max(start-contextBefore, 0)
	for lo < start && !utf8.RuneStart(text[lo]) {
		lo++
	}
	hi := min(end+contextAfter, len(text))
	for hi > end && hi < len(text) && !utf8.RuneStart(text[hi]) {
		hi--
	}
	all := lowerASCII(text[lo:start])
	return window{before: newPart(clauseEnd(all)), after: newPart(lowerASCII(clauseStart(text[end:hi]))), all: newPart(all)}
}

// score is how the window's words change the score of a value of kind k.
func (w *window) score(k Kind) float64 {
	score := 0.0
	for _, word := range contextWords[k] {
		if w.before.has(word) || w.after.has(word) {
			score += contextBoost
			break
		}
	}
	if w.negative == 0 {
		w.negative = 2
		for _, word := range negativeWords {
			if w.before.has(word) {
				w.negative = 1
				break
			}
		}
	}
	if w.negative == 1 {
		score -= contextBoost
	} else {
		for _, word := range kindNegativeWords[k] {
			if w.all.has(word) {
				score -= contextBoost
				break
			}
		}
	}
	return score
}

// kindNegativeWords make a value less likely to be of one kind: a dotted
// quad after "section" or "RFC 5280," is a number, not an address. They
// count anywhere in the text before, across clauses.
var kindNegativeWords = map[Kind][]string{
	IP: {"section", "sec", "rfc", "release", "sdk", "ver", "chapter", "step", "figure", "table", "章", "节", "步骤", "图", "表"},
}

// contextScore is how the words around text[start:end] change the score
// of a value of kind k.
func contextScore(text string, start, end int, k Kind) float64 {
	w := newWindow(text, start, end)
	return w.score(k)
}

// A clause ends at a new line, ; , or their full-width forms ；，and 。:
// context words beyond one belong to another value ("订单号 138...，联系人
// 手机 139...").

// clauseEnd is the end of s from its last clause break on.
func clauseEnd(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if n := breakAt(s, i); n > 0 {
			return s[i+n:]
		}
	}
	return s
}

// clauseStart is the start of s up to its first clause break.
func clauseStart(s string) string {
	for i := 0; i < len(s); i++ {
		if breakAt(s, i) > 0 {
			return s[:i]
		}
	}
	return s
}

// breakAt returns the length of the clause break beginning at s[i], or 0.
func breakAt(s string, i int) int {
	switch c := s[i]; {
	case c == '\n' || c == ';' || c == ',':
		return 1
	case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && (s[i+2] == 0x9B || s[i+2] == 0x8C): // ；，
		return 3
	case c == 0xE3 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x82: // 。
		return 3
	}
	return 0
}

// hasLetterOrHigh reports whether s has an ASCII letter and whether it
// has a byte of a non-ASCII character: which words can be in it at all.
func hasLetterOrHigh(s string) (letter, high bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			high = true
		} else if isASCIILetter(c) {
			letter = true
		}
	}
	return letter, high
}

// containsWord reports whether s contains w; an English word must be a
// whole word, or its plural ("tel" is not in "hotel", "phone" is in
// "phones"). Chinese words have no such boundary.
func containsWord(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		if w[0] >= utf8.RuneSelf {
			return true
		}
		e := i + len(w)
		if e < len(s) && s[e] == 's' {
			e++
		}
		if (i == 0 || !isASCIILetter(s[i-1])) && (e == len(s) || !isASCIILetter(s[e])) {
			return true
		}
		off = i + 1
	}
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// lowerASCII lowers ASCII letters only, leaving every other byte as it is.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
