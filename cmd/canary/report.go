package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/textfmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/jaeger"
	"github.com/canary-gate/canary/report"
	"github.com/canary-gate/canary/results"
	"github.com/urfave/cli/v3"
)

var reportFormats = []string{"text", "json", "junit", "markdown", "html"}

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "re-render results files (from attack, verify, soak or run) without re-running; several files merge",
		ArgsUsage: "FILE...",
		Description: "Streams each results file (a 24-hour file is never loaded at once) into windows, judges every\n" +
			"window against --expect, --max-error-rate, --latency-p99 and the health margins, and renders the report. A torn last\n" +
			"line (a killed run) is skipped with a warning; every record before it counts.",
		Flags: append(windowFlags(),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json, junit, markdown or html (one self-contained file)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` instead of stdout"},
			&cli.StringFlag{Name: "title", Value: "canary report", Usage: "report title"},
		),
		Action: reportAction,
	}
}

// windowFlags are the per-window criteria shared by report and soak.
func windowFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.DurationFlag{Name: "window", Value: time.Minute, Usage: "window size"},
		&cli.StringFlag{Name: "expect", Usage: "expected split per window, e.g. `v1=90,v3=10` (report: optional; without it no window is judged)"},
		&cli.Float64Flag{Name: "tolerance", Value: decide.DefaultTolerance, Usage: "allowed distance from each expected share, in percentage points"},
		&cli.Float64Flag{Name: "confidence", Value: decide.DefaultConfidence, Usage: "a healthy run raises no alarm with this probability"},
		&cli.Float64Flag{Name: "max-error-rate", Value: 100 * decide.DefaultMaxErrorRate, Usage: "percent of requests per version that may be not ok"},
		&cli.DurationFlag{Name: "latency-p99", Usage: "alarm when a version's p99 is over `D` (0: off)"},
		&cli.StringFlag{Name: "jaeger", Usage: "Jaeger query `URL`: the failed requests link to their traces"},
	}, healthFlags()...)
}

// windowCriteria builds the per-window criteria; windows is the expected
// number of windows of the run (0: each window judged on its own).
func windowCriteria(c *cli.Command, windows int) (decide.WindowCriteria, error) {
	wc := decide.WindowCriteria{Tolerance: c.Float64("tolerance"), MaxErrorRate: c.Float64("max-error-rate") / 100,
		LatencyP99: c.Duration("latency-p99"), Confidence: c.Float64("confidence"), Windows: windows}
	if s := c.String("expect"); s != "" {
		e, err := decide.ParseExpect(s)
		if err != nil {
			return wc, usageError(fmt.Errorf("--expect %q: %w", s, err))
		}
		wc.Expect = e
	}
	if c.Duration("window") <= 0 {
		return wc, usageError(errors.New("--window: want a positive duration such as 1m"))
	}
	if len(wc.Expect.Versions()) == 0 {
		return wc, nil // nothing to judge windows against: report only
	}
	h, err := healthCriteria(c, wc.Expect)
	if err != nil {
		return wc, usageError(err)
	}
	wc.Health = h
	if err := wc.Validate(); err != nil {
		return wc, usageError(err)
	}
	return wc, nil
}

// judge alarms windows only when there is an expectation to judge against.
func judge(w results.Window, wc decide.WindowCriteria) []decide.Alarm {
	if len(wc.Expect.Versions()) == 0 {
		return nil
	}
	return decide.Judge(w, wc)
}

func reportAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() == 0 {
		return usageError(errors.New("report: want at least one results FILE"))
	}
	format := c.String("format")
	if !slices.Contains(reportFormats, format) {
		return usageError(fmt.Errorf("--format %q: want one of %s", format, strings.Join(reportFormats, ", ")))
	}
	if err := checkOutputs(c, c.Args().Slice()...); err != nil {
		return err
	}
	wc, err := windowCriteria(c, 0)
	if err != nil {
		return err
	}
	// Records are written when they complete, so they are out of order by
	// up to the request timeout; a late one reopens its window.
	agg, err := results.NewAggregator(c.Duration("window"), time.Minute)
	if err != nil {
		return usageError(err)
	}
	link, err := jaegerLink(c)
	if err != nil {
		return err
	}
	rep := &report.Report{Title: c.String("title"), Expect: c.String("expect"), Tolerance: wc.Tolerance, Criteria: &wc}
	var failed report.Failures
	for _, name := range c.Args().Slice() {
		warn, err := readResults(name, agg, &failed)
		if err != nil {
			return err
		}
		rep.Sources = append(rep.Sources, name)
		rep.Warnings = append(rep.Warnings, warn...)
	}
	rep.Windows = append(rep.Windows, agg.Close()...)
	rep.Failed, rep.FailedTotal = failed.List(link)
	if late := agg.Late(); late > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d records arrived after their window was closed and were merged back", late))
	}
	return finishReport(c, rep, wc, format, c.String("output"))
}

// readResults streams one file into the aggregator and the failures.
func readResults(name string, agg *results.Aggregator, failed *report.Failures) ([]string, error) {
	f, err := os.Open(name) // a FIFO is fine here: process substitution, <(zcat run.jsonl.gz)
	if err != nil {
		return nil, usageError(fmt.Errorf("report: %s: %w", name, unwrapPath(err)))
	}
	defer f.Close()
	sc := results.NewScanner(f, name)
	n := 0
	for sc.Scan() {
		r := sc.Record()
		agg.Add(&r)
		failed.Add(&r)
		n++
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if n == 0 && sc.Skipped() > 0 {
		// Not one readable record: not a results file, so a usage error.
		return nil, usageError(fmt.Errorf("report: no readable record: %w", sc.Warning()))
	}
	var warn []string
	if w := sc.Warning(); w != nil {
		warn = append(warn, w.Error())
	}
	return warn, nil
}

// finishReport judges every window and renders.
func finishReport(c *cli.Command, rep *report.Report, wc decide.WindowCriteria, format, output string) error {
	if wc.Windows == 0 {
		wc.Windows = len(rep.Windows)
	}
	for _, w := range rep.Windows {
		rep.Alarms = append(rep.Alarms, judge(w, wc)...)
	}
	v, reason := decide.SoakVerdict(rep.Windows, rep.Alarms)
	rep.Verdict, rep.Reason = v.String(), reason
	if len(wc.Expect.Versions()) == 0 && v != decide.Inconclusive {
		// Nothing was judged, so nothing passed: say what the report is.
		v, rep.Verdict = decide.Pass, "REPORT"
		rep.Reason = textfmt.NOf(len(rep.Windows), "window") + " shown, none judged: give --expect to judge them"
		reason = rep.Reason
	}
	render := func(w io.Writer) error { return report.Render(w, format, rep) }
	if output != "" {
		if err := writeFile(output, render); err != nil {
			return err
		}
		fmt.Fprintf(c.ErrWriter, "%s: %s (%s)\n", v, output, reason)
	} else if err := render(c.Writer); err != nil {
		return err
	}
	return verdictError(v)
}

// jaegerLink reads --jaeger: the link of a trace id in Jaeger's UI, or nil.
func jaegerLink(c *cli.Command) (func(string) string, error) {
	u := c.String("jaeger")
	if u == "" {
		return nil, nil
	}
	jc, err := jaeger.New(u, nil)
	if err != nil {
		return nil, usageError(err)
	}
	return jc.Link, nil
}
