// Command hegui builds, signs and verifies compliance deliveries of Go
// software with national commercial cryptography. See docs/ for the guide.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"hegui.dev/hegui/internal/cli"
	"hegui.dev/hegui/internal/cli/cmdutil"
	vulnengine "hegui.dev/hegui/internal/vulnscan/engine"
)

// stopGrace is how long a command has to stop cleanly (abort its output
// files, end its child processes) once asked to by SIGINT or SIGTERM.
const stopGrace = 5 * time.Second

func main() {
	vulnengine.RunIfRequested() // hegui's own vulnerability-engine processes
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go stopOnSignals(signals, cancel, stopGrace, func(s os.Signal, why string) {
		fmt.Fprintf(os.Stderr, "hegui: stopped by %s: %s\n", signalName(s), why)
		os.Exit(signalExitCode(s))
	})
	os.Exit(cli.Run(ctx, cmdutil.ProcessEnv(), os.Args[1:]))
}

// stopOnSignals asks the command to stop at the first signal by cancelling
// its context. A command blocked in a read that no context reaches (a
// pipe, a terminal, a stalled network file system) cannot answer, so a
// second signal, or the first one still unanswered after grace, ends the
// process at once through exit.
func stopOnSignals(signals <-chan os.Signal, cancel context.CancelFunc, grace time.Duration, exit func(s os.Signal, why string)) {
	first := <-signals
	cancel()
	select {
	case s := <-signals:
		exit(s, "second signal")
	case <-time.After(grace):
		exit(first, fmt.Sprintf("the command did not stop within %v", grace))
	}
}

// signalExitCode is the shell's status for a process ended by s: 128 plus
// the signal number (130 for SIGINT, 143 for SIGTERM).
func signalExitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
