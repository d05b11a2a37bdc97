package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/report"
	"github.com/canary-gate/canary/results"
	"github.com/urfave/cli/v3"
)

func soakCommand() *cli.Command {
	return &cli.Command{
		Name:  "soak",
		Usage: "hold a steady rate for hours, judge every window, keep every result on disk",
		Description: "Per --window: the split with its interval, the error rate and p50/p90/p99 per version; a window\n" +
			"outside tolerance, over the error budget or over --latency-p99, or whose canary is shown worse than\n" +
			"--baseline by more than the health margins, raises an alarm line. Memory stays\n" +
			"constant (windows are aggregates). --results is appended and flushed every second; Ctrl-C or\n" +
			"SIGTERM ends the current window, writes the final report and exits. Exit 0 if no window alarmed, 1 if\n" +
			"one did, 3 if nothing was measured, 4 if the results file failed.",
		Flags: append(append(loadFlags(), windowFlags()...),
			&cli.DurationFlag{Name: "duration", Usage: "stop after `D` (default: until Ctrl-C)"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first alarm"},
			&cli.BoolFlag{Name: "passive", Usage: "send no request: judge every window of the live traffic from Istio's counts in --prometheus (see README)"},
			&cli.DurationFlag{Name: "every", Value: 10 * time.Second, Usage: "log a status line this often when not on a terminal"},
			&cli.StringFlag{Name: "prometheus", Usage: "Prometheus `URL`: server-side requests per version for every window"},
			&cli.StringSliceFlag{Name: "scrape", Usage: "without Prometheus: sidecar metrics `URL` read at every window boundary (repeatable)"},
			&cli.StringFlag{Name: "host", Value: "reviews", Usage: "service whose split is checked (destination_service_name)"},
			&cli.StringSliceFlag{Name: "backend", Usage: "also count the server-side requests Istio reports under Service `NAME`, a route's backend for --host (an HTTPRoute's reviews-v1)"},
			&cli.StringFlag{Name: "reporter", Value: "destination", Usage: "whose istio_requests_total the server side counts: `destination` (sidecars) or waypoint (ambient mode); with --passive: source (the callers' sidecars) unless given"},
			&cli.StringFlag{Name: "namespace", Value: "default", Usage: "the service's namespace"},
			&cli.BoolFlag{Name: "require-prometheus", Value: true, Usage: "windows whose server side could not be read make a clean soak INCONCLUSIVE; false lets the client windows stand"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "final report: text, json, junit, markdown or html"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the final report to `FILE`"},
			listenFlag(),
		),
		Action: soakAction,
	}
}

// soak is the state shared by the workers (through Observe) and the loop
// that closes windows. mu guards the aggregator the workers feed; cmu the
// closed windows, which are filled with the server's counts outside mu so
// that a slow Prometheus never holds the load back.
type soak struct {
	server  *soakServer // nil: client side only
	mu      sync.Mutex
	cmu     sync.Mutex
	agg     *results.Aggregator
	wc      decide.WindowCriteria
	windows []results.Window
	alarms  []decide.Alarm
	failed  report.Failures
	link    func(traceID string) string // --jaeger's trace links; nil without
}

// close judges the windows the aggregator hands out and prints alarms.
func (s *soak) close(ws []results.Window, log func(string)) (alarmed bool) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for _, w := range ws {
		if s.server != nil {
			s.server.fill(context.Background(), &w)
		}
		s.windows = append(s.windows, w)
		as := judge(w, s.wc)
		s.alarms = append(s.alarms, as...)
		for _, a := range as {
			log("ALARM " + a.Start.Format(time.TimeOnly) + " " + a.Message)
		}
		alarmed = alarmed || len(as) > 0
	}
	return alarmed
}

func soakAction(ctx context.Context, c *cli.Command) error {
	format := c.String("format")
	if !slices.Contains(reportFormats, format) {
		return usageError(fmt.Errorf("--format %q: want one of %s", format, strings.Join(reportFormats, ", ")))
	}
	if err := checkOutputs(c); err != nil {
		return err
	}
	if c.Bool("passive") {
		return soakPassive(ctx, c)
	}
	o, s, closeResults, err := soakOptions(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.server != nil {
		if err := s.server.ready(ctx); err != nil {
			closeResults()
			return fmt.Errorf("server side: %w", err)
		}
		sctx, stopServer := context.WithCancel(context.Background())
		defer stopServer()
		go s.server.run(sctx)
		go func() { <-ctx.Done(); stopServer() }()
	}
	logLine := func(line string) { fmt.Fprintf(c.ErrWriter, "%s %s\n", time.Now().Format(time.TimeOnly), line) }
	began := time.Now()
	stopStatus := statusLines(c, &o, func() string { return soakProgress(began, o.Duration, c.Duration("window")) })
	board, err := startLive(ctx, c, "soak")
	if err != nil {
		stopStatus()
		closeResults()
		return err
	}
	s.watch(ctx, board, c, &o)
	done := make(chan struct{})
	go func() { // close windows as their grace passes
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				s.mu.Lock()
				ws := s.agg.Flush(now)
				s.mu.Unlock()
				if s.close(ws, logLine) && c.Bool("fail-fast") {
					cancel()
				}
			}
		}
	}()
	sum, runErr := attack.Run(ctx, o)
	close(done)
	stopStatus()
	closeErr := closeResults()
	s.mu.Lock()
	ws := s.agg.Close()
	s.mu.Unlock()
	s.close(ws, logLine)
	rep := &report.Report{Title: "canary soak " + o.Target, Windows: s.windows, Alarms: s.alarms,
		Expect: c.String("expect"), Tolerance: s.wc.Tolerance, Criteria: &s.wc}
	rep.Failed, rep.FailedTotal = s.failed.List(s.link)
	defer s.final(board, rep)
	if p := c.String("results"); p != "" {
		rep.Sources = []string{p}
	}
	if sum != nil {
		rep.Start, rep.End = sum.Start, sum.Start.Add(sum.Elapsed)
	}
	// The results writer's error is sticky: Run and Close report the same
	// one, so say it once.
	if runErr == nil {
		runErr = closeErr
	}
	if err := runErr; err != nil {
		rep.Warnings = append(rep.Warnings, "the run stopped early: "+oneLine(err))
		_ = renderSoak(c, rep, format)
		return err
	}
	return renderSoak(c, rep, format)
}

func renderSoak(c *cli.Command, rep *report.Report, format string) error {
	v, reason := decide.SoakVerdict(rep.Windows, rep.Alarms)
	if missing := serverMissing(rep.Windows); missing != "" {
		rep.Warnings = append(rep.Warnings, missing)
		if v == decide.Pass && (c.Bool("require-prometheus") || c.Bool("passive")) {
			v, reason = decide.Inconclusive, reason+"; but "+missing
		}
	}
	rep.Verdict, rep.Reason = v.String(), reason
	if out := c.String("output"); out != "" {
		if err := writeFile(out, func(w io.Writer) error { return report.Render(w, format, rep) }); err != nil {
			return err
		}
		fmt.Fprintf(c.Writer, "%s: %s; report %s\n", v, reason, out)
	} else if err := report.Render(c.Writer, format, rep); err != nil {
		return err
	}
	return verdictError(v)
}

func soakOptions(c *cli.Command) (attack.Options, *soak, func() error, error) {
	noop := func() error { return nil }
	if c.NArg() > 0 {
		return attack.Options{}, nil, noop, usageError(fmt.Errorf("soak: unexpected argument %q", c.Args().First()))
	}
	windows := 0
	if d := c.Duration("duration"); d > 0 && c.Duration("window") > 0 {
		windows = int((d + c.Duration("window") - 1) / c.Duration("window"))
	}
	if c.String("expect") == "" {
		return attack.Options{}, nil, noop, usageError(errors.New("soak: want --expect, e.g. --expect v1=90,v3=10"))
	}
	wc, err := windowCriteria(c, windows)
	if err != nil {
		return attack.Options{}, nil, noop, err
	}
	o, closeResults, err := loadOptions(c, results.OpenAppend)
	if err != nil {
		return o, nil, noop, err
	}
	o.Duration = c.Duration("duration")
	// Records reach the aggregator when they complete: a window stays open
	// for the request timeout after its end.
	agg, err := results.NewAggregator(c.Duration("window"), o.Timeout+time.Second)
	if err != nil {
		closeResults()
		return o, nil, noop, usageError(err)
	}
	server, err := newSoakServer(c, c.Duration("window"))
	if err != nil {
		closeResults()
		return o, nil, noop, err
	}
	s := &soak{agg: agg, wc: wc, server: server}
	if s.link, err = jaegerLink(c); err != nil {
		closeResults()
		return o, nil, noop, err
	}
	o.Observe = func(r *results.Record) {
		s.mu.Lock()
		s.agg.Add(r)
		s.failed.Add(r)
		s.mu.Unlock()
	}
	if err := o.Validate(); err != nil {
		closeResults()
		return o, nil, noop, usageError(err)
	}
	return o, s, closeResults, nil
}

// soakProgress is the head of the soak's status line: elapsed and remaining
// time, a progress bar when the duration is known, and the current window.
func soakProgress(began time.Time, total, window time.Duration) string {
	el := time.Since(began).Round(time.Second)
	head := fmt.Sprintf("%s elapsed", el)
	if total > 0 {
		done := min(float64(el)/float64(total), 1)
		n := int(done * 20)
		head = fmt.Sprintf("[%s%s] %s / %s, %s left", strings.Repeat("#", n), strings.Repeat(".", 20-n), el, total, max(total-el, 0))
	}
	return head + ", window " + time.Now().Truncate(window).Format(time.TimeOnly) + " |"
}

// serverMissing says which windows lack the server side they asked for;
// "" when none does.
func serverMissing(ws []results.Window) string {
	n, first := 0, -1
	for i, w := range ws {
		if w.ServerError != "" {
			n++
			if first < 0 {
				first = i
			}
		}
	}
	if n == 0 {
		return ""
	}
	w := ws[first]
	return fmt.Sprintf("the server side of %d of %d windows is missing, from the window of %s: %s",
		n, len(ws), w.Start.Format(time.TimeOnly), w.ServerError)
}
