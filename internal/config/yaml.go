package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// Limits on the YAML documents hegui reads as configuration (hegui.yaml,
// log.yaml). goccy/go-yaml has no option that bounds alias expansion or
// nesting: its decoder expands every alias in full (a 600-byte "billion
// laughs" document grows past gigabytes), and its parser takes time and
// memory that grow faster than the square of the nesting depth (100 KB of
// "[" took 18 s and 3.8 GB). DecodeYAML therefore checks the document's
// tokens before the parser sees them; the lexer's cost is linear in the
// size, which MaxYAMLSize bounds.
const (
	// MaxYAMLSize is the largest configuration document, in bytes: a
	// hegui.yaml with every setting is about 5 KB.
	MaxYAMLSize = 256 << 10
	// MaxYAMLDepth is how deep collections (mappings and sequences,
	// block or flow) may nest; hegui.yaml needs 5.
	MaxYAMLDepth = 64
)

// DecodeYAML decodes the YAML document data into v, strictly: unknown
// keys, duplicate keys and wrong types are errors. Before decoding it
// refuses a document larger than MaxYAMLSize, collections nested deeper
// than MaxYAMLDepth, and any anchor or alias (&name, *name): configuration
// files are short, and refusing aliases outright removes alias expansion,
// the way a few hundred bytes become gigabytes. Errors are one line and
// start with "line N: " when the line is known.
//
// It is for hegui.yaml, log.yaml and any other YAML a user hands hegui.
func DecodeYAML(data []byte, v any) (err error) {
	// goccy/go-yaml v1.19.2 panics on some malformed input (a tag on an
	// empty sequence value, "allow: !00", found by FuzzParse); the
	// document is untrusted, so such a panic becomes an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML: the parser failed (%v)", r)
		}
	}()
	if err := checkYAML(data); err != nil {
		return err
	}
	if err := yaml.UnmarshalWithOptions(data, v, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return errors.New(yamlErrorLine(err))
	}
	return nil
}

// checkYAML applies the limits of DecodeYAML to data's tokens.
//
// The depth it measures counts each open flow collection ("[", "{") and
// each open block collection. A block collection is opened by a sequence
// entry ("- "), an explicit key ("? ") or an implicit key ("key:"), at the
// column where it starts, and is closed by the next one at that column or
// to its left.
func checkYAML(data []byte) error {
	if len(data) > MaxYAMLSize {
		return fmt.Errorf("the document is %d bytes, more than the %d KiB hegui reads as configuration", len(data), MaxYAMLSize>>10)
	}
	var (
		blocks []int // columns of the open block collections, innermost last
		flow   int   // open flow collections
		prev   *token.Token
	)
	for _, tk := range lexer.Tokenize(string(data)) {
		if tk.Type == token.CommentType {
			continue
		}
		switch tk.Type {
		case token.AnchorType, token.AliasType:
			return fmt.Errorf("line %d: YAML anchors and aliases (&name, *name) are not accepted: write the value out in full", tk.Position.Line)
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
		case token.SequenceEntryType, token.MappingKeyType, token.MappingValueType:
			if flow > 0 {
				break
			}
			col := tk.Position.Column
			if tk.Type == token.MappingValueType && prev != nil {
				col = prev.Position.Column // where the key starts
			}
			for len(blocks) > 0 && blocks[len(blocks)-1] >= col {
				blocks = blocks[:len(blocks)-1]
			}
			blocks = append(blocks, col)
		}
		if len(blocks)+flow > MaxYAMLDepth {
			return fmt.Errorf("line %d: collections nested more than %d deep", tk.Position.Line, MaxYAMLDepth)
		}
		prev = tk
	}
	return nil
}

// yamlErrorLine turns "[3:1] unknown field "x"" into "line 3: unknown field "x"".
func yamlErrorLine(err error) string {
	msg := yaml.FormatError(err, false, false)
	if m := posPrefix.FindStringSubmatch(msg); m != nil {
		return "line " + m[1] + ": " + strings.TrimSpace(msg[len(m[0]):])
	}
	return msg
}

var posPrefix = regexp.MustCompile(`^\[(\d+):\d+\]`)
