// Command hello is the example module hegui's demo builds, signs and
// verifies. It prints a greeting and the build information hegui relies on.
package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	fmt.Printf("hello from example.com/hello %s\n", version)
	if info, ok := debug.ReadBuildInfo(); ok {
		fmt.Printf("built with %s\n", info.GoVersion)
	}
}
