package license

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/google/licensecheck"
)

// Known licence texts, classified without licensecheck's patterns.
//
// licensecheck compiles its few hundred licence patterns on first use,
// about a second of CPU in every process, while most Go modules carry one
// of a few dozen texts, the same word for word but for their copyright
// lines. For those texts hegui knows licensecheck's verdict in advance:
// knownTexts maps the SHA-256 of a text's normal form to the verdict. The
// table is derived with licensecheck itself from the texts in
// testdata/known (TestKnownTexts; go test -run TestKnownTexts -update
// rewrites knowntexts_table.go), and TestKnownTextsAgree checks it against
// licensecheck on every licence file in the module cache. A text whose
// normal form is not in the table goes to licensecheck.
//
// The normal form is licensecheck's own reading of the text (words.go):
// its patterns match words, never spacing or punctuation, so two texts
// with the same words get the same verdict. Of the words, the normal form
// keeps everything licensecheck's matching sees (see word.key), and it
// replaces the copyright lines at the top of the text (after at most
// maxTitleLines lines such as "MIT License") by one marker,
// copyrightMarker. licensecheck's patterns do not match copyright lines:
// it counts the words from a "copyright" word up to a match as covered
// when they are no more than 50. So the copyright lines count as covered
// when they have no more words than the known text's MaxCopyrightWords
// (50 less the words between them and the match, found by trying every
// length), and when nothing in them could take part in a match
// (copyrightLineIgnored: no URL, no licence name). Copyright lines
// elsewhere stay in the normal form word for word. The share of words
// covered is then 100 × (words − Unmatched) / words, Unmatched being the
// known text's words outside every match (a title line above the
// copyright lines, for one).
//
// The verdict carries the licence IDs and the share covered, not where in
// the text each match lies, which hegui does not use.

// knownText is licensecheck's verdict on a text of a normal form.
type knownText struct {
	// IDs are the licences matched, in the order of the text.
	IDs []string
	// Unmatched is the number of words outside every match.
	Unmatched int
	// MaxCopyrightWords is the most words the copyright lines the marker
	// stands for may have; 0 for a form without the marker.
	MaxCopyrightWords int
}

const (
	// maxTitleLines is how many lines may stand above the copyright lines.
	maxTitleLines = 3
	// copyrightMarker stands for the copyright lines in a normal form; no
	// word's key can be it.
	copyrightMarker = "[copyright]"
)

// normalForm is a text as licensecheck reads it, its leading copyright
// lines replaced by copyrightMarker.
type normalForm struct {
	text string
	// words is the number of words of the whole text.
	words int
	// copyrightWords is the number of words of the copyright lines
	// replaced; 0 when there are none.
	copyrightWords int
	// from and to are the byte offsets of the copyright lines' words.
	from, to int
}

// normalize returns the normal form of text, or false when its copyright
// lines hold something that might take part in a licence match.
func normalize(text string) (normalForm, bool) {
	words := readWords(text)
	keys := make([]string, 0, len(words)+1)
	// The leading lines, each the words that start on it: at most
	// maxTitleLines title lines, then copyright lines, whose words are
	// words[from:to].
	from, to, titles := -1, -1, 0
	for i := 0; i < len(words); {
		next := i + 1
		for next < len(words) && !strings.Contains(text[words[next-1].lo:words[next].lo], "\n") {
			next++
		}
		switch {
		case words[i].copyright:
			if from < 0 {
				from = i
			}
			to = next
		case from < 0 && titles < maxTitleLines:
			titles++
		default:
			next = len(words) // the leading lines end here
		}
		i = next
	}
	if from < 0 {
		for _, w := range words {
			keys = append(keys, w.key)
		}
		return normalForm{text: strings.Join(keys, " "), words: len(words)}, true
	}
	for _, w := range words[:from] {
		if w.copyright {
			return normalForm{}, false // a title line would take part in the copyright rule
		}
		keys = append(keys, w.key)
	}
	if copyrightLineIgnored(text[words[from].lo:words[to-1].hi]) {
		return normalForm{}, false
	}
	keys = append(keys, copyrightMarker)
	for _, w := range words[to:] {
		keys = append(keys, w.key)
	}
	return normalForm{text: strings.Join(keys, " "), words: len(words), copyrightWords: to - from, from: words[from].lo, to: words[to-1].hi}, true
}

// copyrightLineIgnored reports whether a copyright line holds words that
// might take part in a licence match (a licence's name or URL, a grant):
// the normal form does not stand for such a text.
func copyrightLineIgnored(line string) bool {
	lower := strings.ToLower(line)
	for _, s := range []string{"licen", "http", "www", "://", "spdx", "permi", "grant", "warrant", "redistribut", "public domain", "provided"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// classifyKnown returns licensecheck's verdict on text when text is of a
// known normal form.
func classifyKnown(text []byte) (licensecheck.Coverage, bool) {
	form, ok := normalize(string(text))
	if !ok {
		return licensecheck.Coverage{}, false
	}
	sum := sha256.Sum256([]byte(form.text))
	known, ok := knownTexts[hex.EncodeToString(sum[:])]
	if !ok || form.copyrightWords > known.MaxCopyrightWords || known.Unmatched >= form.words {
		return licensecheck.Coverage{}, false
	}
	cov := licensecheck.Coverage{Percent: 100.0 * float64(form.words-known.Unmatched) / float64(form.words)}
	for _, id := range known.IDs {
		cov.Match = append(cov.Match, licensecheck.Match{ID: id})
	}
	return cov, true
}
