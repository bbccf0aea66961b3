// Package engine is the vulnerability engine's process: golang.org/x/vuln's
// scanner, run by a hegui process that package vulnscan started for one scan
// (vulnscan.Scan). It is apart from package vulnscan so that what reads and
// renders findings does not compile the scanner.
package engine

import (
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/vuln/scan"
)

// Marker, set to "1" in the environment, makes a hegui process run the
// engine instead of its command line; vulnscan.Scan sets it (vulnscan's
// engineMarker, which TestEngineMarker keeps equal).
const Marker = "HEGUI_INTERNAL_VULNSCAN"

// RunIfRequested runs the vulnerability engine and exits when this
// process was started by vulnscan.Scan as its engine process. Call it first
// thing in main (and in TestMain of tests that scan).
func RunIfRequested() {
	if os.Getenv(Marker) != "1" {
		return
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	env := make([]string, 0, len(os.Environ()))
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, Marker+"=") {
			env = append(env, e)
		}
	}
	cmd := scan.Command(context.Background(), args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := cmd.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
