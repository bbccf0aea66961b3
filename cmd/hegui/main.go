// Command hegui builds, signs and verifies compliance deliveries of Go
// software with national commercial cryptography. See docs/ for the guide.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"hegui.dev/hegui/internal/cli"
	"hegui.dev/hegui/internal/vuln"
)

func main() {
	vuln.RunChildIfRequested() // hegui's own vulnerability-engine processes
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.ProcessEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
