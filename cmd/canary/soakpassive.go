package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/internal/redact"
	"github.com/canary-gate/canary/live"
	"github.com/canary-gate/canary/prom"
	"github.com/canary-gate/canary/report"
	"github.com/canary-gate/canary/results"
	"github.com/canary-gate/canary/verify"
	"github.com/urfave/cli/v3"
)

// passiveGrace is how long after a window's end a passive soak reads the
// counts: the scrape that ends the window is in Prometheus by then.
const passiveGrace = time.Second

// soakPassive watches the live traffic for hours with no request sent:
// every --window, each version's requests by response code as Istio counts
// them (verify.Watch), judged as a soak judges its pages' windows. A window
// holds each proxy's requests between its scrapes nearest the window's
// edges, so every request is in exactly one window.
func soakPassive(ctx context.Context, c *cli.Command) error {
	format := c.String("format")
	for _, f := range []string{"target", "rate", "login", "results", "scrape", "jaeger"} {
		if c.IsSet(f) {
			return usageError(fmt.Errorf("--%s: a passive soak sends no request and reads only Prometheus; drop --%s or --passive", f, f))
		}
	}
	if c.String("expect") == "" {
		return usageError(errors.New("soak: want --expect, e.g. --expect v1=90,v3=10"))
	}
	if c.String("prometheus") == "" {
		return usageError(errors.New("--passive: needs --prometheus URL: its evidence is Istio's counts"))
	}
	size, total := c.Duration("window"), c.Duration("duration")
	windows := 0
	if total > 0 && size > 0 {
		windows = int((total + size - 1) / size)
	}
	wc, err := windowCriteria(c, windows)
	if err != nil {
		return err
	}
	client, err := prom.New(prom.Options{URL: c.String("prometheus")})
	if err != nil {
		return usageError(err)
	}
	reporter := "source"
	if c.IsSet("reporter") {
		reporter = c.String("reporter")
	}
	q := verify.ServerQuery{Service: c.String("host"), Namespace: c.String("namespace"), Backends: c.StringSlice("backend"), Reporter: reporter}
	if err := client.Ping(ctx); err != nil {
		return err
	}
	s := &soak{wc: wc}
	logLine := func(line string) { fmt.Fprintf(c.ErrWriter, "%s %s\n", time.Now().Format(time.TimeOnly), line) }
	start := time.Now()
	watch := verify.NewWatch(client, q, start)
	rep := &report.Report{Title: "canary soak --passive " + q.Service, Expect: c.String("expect"), Tolerance: wc.Tolerance, Criteria: &s.wc, Start: start,
		Sources: []string{fmt.Sprintf("prometheus %s: istio_requests_total{reporter=%q} per window, no request sent", client.URL(), reporter)}}
	var end time.Time
	if total > 0 {
		end = start.Add(total)
	}
	board, err := startLive(ctx, c, "soak")
	if err != nil {
		return err
	}
	if board != nil {
		board.Update(func(st *live.State) {
			st.Service, st.Unit, st.Bookinfo = q.Service, "request", true
			st.Mesh = &live.Mesh{Source: redact.URL(client.URL()), Query: watch.Selector(), Window: 1.5 * size.Seconds()} // counts arrive once a window: the rate is the last one's
			setWindowExpect(st, wc)
		})
	}
	counts, errs := map[string]int{}, map[string]int{}
	from := start
	for done := false; !done; {
		next := from.Add(size) // from the start: --duration 1h of --window 1m is 60 windows
		if !end.IsZero() && !next.Before(end) {
			next, done = end, true
		}
		select {
		case <-ctx.Done():
			next, done = time.Now(), true
		case <-time.After(time.Until(next.Add(passiveGrace))):
		}
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resps, err := watch.Next(rctx)
		cancel()
		if err != nil {
			// The window stays, marked: its requests are not lost (Prometheus
			// still holds them) but not judged, and the verdict says so.
			w := results.CountWindow(from, next)
			w.ServerError = "Prometheus stopped answering: " + oneLine(err)
			s.close([]results.Window{*w}, logLine)
			s.showPassive(board, counts, errs, err)
			from = next
			continue // the next read that works counts these requests too
		}
		w := results.CountWindow(from, next)
		for _, r := range resps {
			w.AddCount(r.Version, responseOutcome(r.Code), r.Code, r.Count)
		}
		tallyResponses(counts, errs, resps)
		if s.close([]results.Window{*w}, logLine) && c.Bool("fail-fast") {
			done = true
		}
		s.showPassive(board, counts, errs, nil)
		from = next
	}
	rep.Windows, rep.Alarms, rep.End = s.windows, s.alarms, from
	defer s.final(board, rep)
	return renderSoak(c, rep, format)
}

// responseOutcome reads a response code as a page outcome: 5xx is an
// error, 0 (no response: a reset or a timeout) a transport error, any
// other code an answer.
func responseOutcome(code int) classify.Outcome {
	switch {
	case code == 0:
		return classify.TransportError
	case code >= 500:
		return classify.HTTPError
	}
	return classify.OK
}
