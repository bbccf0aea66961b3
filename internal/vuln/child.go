package vuln

import (
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/vuln/scan"
)

// childMarker, set in the environment, makes a hegui process run the
// engine instead of the command line (see RunChildIfRequested).
const childMarker = "HEGUI_INTERNAL_VULNSCAN"

// RunChildIfRequested runs the vulnerability engine and exits when this
// process was started by Scan as its engine process. Call it first thing
// in main (and in TestMain of tests that scan).
func RunChildIfRequested() {
	if os.Getenv(childMarker) != "1" {
		return
	}
	os.Exit(runChild(os.Args[1:]))
}

func runChild(args []string) int {
	env := make([]string, 0, len(os.Environ()))
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, childMarker+"=") {
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
