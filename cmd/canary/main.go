// Command canary proves that an Istio canary rollout splits traffic the way
// its VirtualService says: it drives the ingress at a set rate, tells from
// every page which version served it, and checks the split against the
// expectation and against Istio's own telemetry.
package main

import (
	"context"
	"fmt"
	"io"
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
	flush(app.Writer)
	flush(app.ErrWriter)
	stop()
	os.Exit(exitCode(err))
}

// flush passes on what a redacting writer holds of an unfinished line.
func flush(w io.Writer) {
	if f, ok := w.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
}
