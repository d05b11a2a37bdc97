// Command canaryattack is a stand-in for `canary attack` used by
// scripts/bench-attack.sh when bin/canary is not built: the same flags as
// `canary attack`, the final summary on stdout (--format text or json) and
// a status line on stderr every --every. Ctrl-C or SIGTERM prints the summary and exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/results"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "canaryattack:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	o           attack.Options
	rate        string
	resultsPath string
	cpuProfile  string
	format      string
}

func parse(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("canaryattack", flag.ContinueOnError)
	fs.StringVar(&c.rate, "rate", "1/s", "requests per second, such as 20, 20/s, 500/1m; 0 = as fast as possible")
	fs.StringVar(&c.resultsPath, "results", "", "write one JSON line per request to `FILE`")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	fs.StringVar(&c.format, "format", "text", "final summary: text or json")
	fs.StringVar(&c.o.Target, "target", "", "`URL` to attack")
	fs.DurationVar(&c.o.Duration, "duration", 0, "stop after this long (0 = until Ctrl-C)")
	fs.Uint64Var(&c.o.Requests, "requests", 0, "stop after this many requests")
	fs.IntVar(&c.o.Workers, "workers", 0, "workers (closed-loop concurrency)")
	fs.IntVar(&c.o.MaxWorkers, "max-workers", 0, "open-loop bound on workers")
	fs.DurationVar(&c.o.Timeout, "timeout", 0, "per-request timeout")
	fs.Int64Var(&c.o.MaxBody, "max-body", 0, "body bytes to read and classify")
	fs.DurationVar(&c.o.Every, "every", 10*time.Second, "status line interval")
	fs.BoolVar(&c.o.HTTP2, "http2", false, "send with HTTP/2: h2 by ALPN over https, h2c over http")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	c.o.Rate, err = attack.ParseRate(c.rate)
	return c, err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args)
	if err != nil {
		return err
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if c.resultsPath != "" {
		w, err := results.Create(c.resultsPath)
		if err != nil {
			return err
		}
		defer w.Close()
		c.o.Results = w
	}
	var prev *attack.Summary
	c.o.Progress = func(s *attack.Summary) {
		fmt.Fprintln(stderr, attack.StatusLine(prev, s))
		prev = s
	}
	s, err := attack.Run(ctx, c.o)
	if s != nil && c.format == "json" {
		_ = s.WriteJSON(stdout)
	} else if s != nil {
		_ = s.WriteText(stdout)
	}
	return err
}
