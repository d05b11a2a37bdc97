// Command canary proves that an Istio canary rollout splits traffic the way
// its VirtualService says: it drives the ingress at a set rate, tells from
// every page which version served it, and checks the split against the
// expectation and against Istio's own telemetry.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp()
	err := app.Run(ctx, os.Args)
	if err != nil && err.Error() != "" {
		fmt.Fprintln(app.ErrWriter, "canary:", oneLine(err))
	}
	stop()
	os.Exit(exitCode(err))
}
