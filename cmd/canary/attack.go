package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/redact"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/results"
	"github.com/urfave/cli/v3"
	"golang.org/x/term"
)

func attackCommand() *cli.Command {
	return &cli.Command{
		Name:  "attack",
		Usage: "drive the target at a set rate and tell, for every response, which version served it",
		Description: "Replaces the walkthrough's `while true; do curl /productpage; sleep 1; done`: an exact open-loop\n" +
			"rate (arrivals do not wait for slow responses), every page classified, counters and latency\n" +
			"histograms only. Runs until Ctrl-C unless --duration or --requests is given; then prints the summary.",
		Flags: append(loadFlags(),
			&cli.DurationFlag{Name: "duration", Usage: "stop after `D` (default: until Ctrl-C)"},
			&cli.Uint64Flag{Name: "requests", Usage: "stop after `N` requests"},
			&cli.DurationFlag{Name: "every", Value: 10 * time.Second, Usage: "log a status line this often when not on a terminal"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "final summary: text or json"},
			&cli.StringFlag{Name: "jaeger", Usage: "Jaeger query `URL`: failed pages link to their traces"},
		),
		Action: attackAction,
	}
}

func attackAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("attack: unexpected argument %q", c.Args().First()))
	}
	if f := c.String("format"); f != "text" && f != "json" {
		return usageError(fmt.Errorf("--format %q: want text or json", f))
	}
	if err := checkOutputs(c); err != nil {
		return err
	}
	link, err := jaegerLink(c)
	if err != nil {
		return err
	}
	o, closeResults, err := attackOptions(c)
	if err != nil {
		return err
	}
	o.Duration, o.Requests = c.Duration("duration"), c.Uint64("requests")
	if err := o.Validate(); err != nil {
		closeResults()
		return usageError(err)
	}
	stopStatus := statusLines(c, &o, nil)
	sum, runErr := attack.Run(ctx, o)
	stopStatus()
	closeErr := closeResults()
	if sum != nil {
		if link != nil {
			sum.LinkTraces(link)
		}
		if c.String("format") == "json" {
			_ = sum.WriteJSON(c.Writer)
		} else {
			_ = sum.WriteText(c.Writer)
		}
	}
	if runErr != nil {
		return runErr
	}
	return closeErr
}

// statusLines shows the live status: one line redrawn in place on a
// terminal, else a log line every --every on stderr.
func statusLines(c *cli.Command, o *attack.Options, prefix func() string) (stop func()) {
	tty := false
	if f, ok := redact.Underlying(c.ErrWriter).(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	o.Every = c.Duration("every")
	if tty {
		o.Every = time.Second
	}
	var mu sync.Mutex
	var prev *attack.Summary
	o.Progress = func(s *attack.Summary) {
		mu.Lock()
		defer mu.Unlock()
		line := attack.StatusLine(prev, s)
		if prefix != nil {
			line = prefix() + " " + line
		}
		prev = s
		if tty {
			fmt.Fprintf(c.ErrWriter, "\r\033[K%s", line)
			return
		}
		fmt.Fprintf(c.ErrWriter, "%s %s\n", time.Now().Format(time.TimeOnly), line)
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if tty && prev != nil {
			fmt.Fprintln(c.ErrWriter)
		}
	}
}

// setTLS copies the TLS and HTTP/2 flags into o; attack.Options.Validate
// checks them (files readable, https target) with one-line errors.
func setTLS(c *cli.Command, o *attack.Options) {
	o.CAFile, o.Insecure, o.CertFile, o.KeyFile = c.String("ca-file"), c.Bool("insecure"), c.String("cert"), c.String("key")
	o.ServerName, o.HTTP2 = c.String("sni"), c.Bool("http2")
}

// attackOptions builds the load options shared by attack and verify. The
// returned function closes the results file, returning its first error.
func attackOptions(c *cli.Command) (attack.Options, func() error, error) {
	return loadOptions(c, results.Create)
}

// loadOptions is attackOptions with the way the results file is opened:
// soak appends to it, the others start it afresh.
func loadOptions(c *cli.Command, open func(string) (*results.Writer, error)) (attack.Options, func() error, error) {
	noop := func() error { return nil }
	o := attack.Options{
		Target: c.String("target"), Login: c.String("login"), Timeout: c.Duration("request-timeout"),
		MaxBody: int64(c.Int("max-body")), DisableKeepAlives: !c.Bool("keepalive"),
		Workers: c.Int("workers"), MaxWorkers: c.Int("max-workers"), Headers: http.Header{},
	}
	if o.Target == "" {
		return o, noop, usageError(errors.New("--target: want the page URL, e.g. http://INGRESS:PORT/productpage"))
	}
	setTLS(c, &o)
	rate, err := attack.ParseRate(c.String("rate"))
	if err != nil {
		return o, noop, usageError(fmt.Errorf("--rate: %w", err))
	}
	o.Rate = rate
	o.Unsampled = 100 - c.Float64("trace-sample")
	for _, h := range c.StringSlice("header") {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return o, noop, usageError(fmt.Errorf("--header %q: want NAME:VALUE", h))
		}
		o.Headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if h := c.String("host-header"); h != "" {
		if o.Headers.Get("Host") != "" {
			return o, noop, usageError(errors.New("--host-header and --header Host:…: give one"))
		}
		o.Headers.Set("Host", h)
	}
	classifier, err := chooseClassifier(c)
	if err != nil {
		return o, noop, err
	}
	if c.String("rules") != "" || c.String("version-header") != "" {
		o.Classify = classifier // else classify.Page, which needs no headers collected
	}
	if path := c.String("results"); path != "" {
		w, err := open(path)
		if err != nil {
			return o, noop, fmt.Errorf("--results: %w", err)
		}
		o.Results = w
		return o, w.Close, nil
	}
	return o, noop, nil
}
