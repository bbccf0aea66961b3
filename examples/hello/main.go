// Command hello is the example module hegui's demo delivers. It greets in
// the user's language (Chinese or English, from $LANG) and prints the
// version hegui stamped into it.
package main

import (
	"os"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Set at build time by hegui deliver: -X main.version=... -X main.commit=...
var (
	version = "dev"
	commit  = "none"
)

func init() {
	message.SetString(language.Chinese, "Hello from %s %s (commit %.12s)\n", "来自 %s %s 的问候（提交 %.12s）\n")
	message.SetString(language.English, "Hello from %s %s (commit %.12s)\n", "Hello from %s %s (commit %.12s)\n")
}

func main() {
	tag := language.English
	if lang := os.Getenv("LANG"); strings.HasPrefix(lang, "zh") {
		tag = language.Chinese
	}
	message.NewPrinter(tag).Printf("Hello from %s %s (commit %.12s)\n", "example.com/hello", version, commit)
}
