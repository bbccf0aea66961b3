package cli

import (
	"strings"
	"testing"
)

// TestUnknownCommandSuggestsNearest: a typo is a usage error that names
// the command meant; a word near nothing gets no guess.
func TestUnknownCommandSuggestsNearest(t *testing.T) {
	r := newRunner(t)
	r.fails(2, []string{`unknown command "verfy"`, "did you mean verify?"}, "verfy")
	r.fails(2, []string{`unknown command "genrate"`, "did you mean generate?", "hegui key --help"}, "key", "genrate")
	if out := r.fails(2, []string{`unknown command "frobnicate"`}, "frobnicate"); strings.Contains(out, "did you mean") {
		t.Errorf("a guess for a word near nothing: %s", out)
	}
}
