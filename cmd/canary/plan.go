package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/urfave/cli/v3"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "print the requests and time a verify decision would likely need",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "expect", Usage: "expected split, e.g. `v1=90,v2=10`"},
			&cli.Float64Flag{Name: "tolerance", Value: decide.DefaultTolerance, Usage: "allowed distance from each expected share, in percentage points"},
			&cli.Float64Flag{Name: "confidence", Value: decide.DefaultConfidence, Usage: "confidence of the verdict"},
			&cli.Float64Flag{Name: "max-error-rate", Value: 100 * decide.DefaultMaxErrorRate, Usage: "error budget: percent of pages per version that may be not ok"},
			&cli.Float64Flag{Name: "error-rate", Usage: "percent of pages expected not ok, each version alike (a PASS waits while an observed rate is above the budget)"},
			&cli.StringFlag{Name: "rate", Value: "20/s", Usage: "request rate of the gate"},
		},
		Action: planAction,
	}
}

func planAction(ctx context.Context, c *cli.Command) error {
	if c.String("expect") == "" {
		return usageError(errors.New("plan: want --expect, e.g. --expect v1=90,v2=10"))
	}
	e, err := decide.ParseExpect(c.String("expect"))
	if err != nil {
		return usageError(fmt.Errorf("--expect: %w", err))
	}
	crit := decide.DefaultCriteria(e)
	crit.Tolerance, crit.Confidence = c.Float64("tolerance"), c.Float64("confidence")
	crit.MaxErrorRate = c.Float64("max-error-rate") / 100
	if err := crit.Validate(); err != nil {
		return usageError(err)
	}
	errorRate := c.Float64("error-rate") / 100
	if !(errorRate >= 0 && errorRate < 1) {
		return usageError(fmt.Errorf("--error-rate %g: want a percent in [0, 100)", c.Float64("error-rate")))
	}
	rate, err := attack.ParseRate(c.String("rate"))
	if err != nil || rate <= 0 {
		return usageError(fmt.Errorf("--rate %q: want a positive rate such as 20/s", c.String("rate")))
	}
	p := decide.Plan(crit, errorRate)
	at := func(n int) string {
		return (time.Duration(math.Ceil(float64(n)/rate)) * time.Second).String()
	}
	w := c.Writer
	fmt.Fprintf(w, "expect %s ±%g points at %g%% confidence, %g requests/s (simulated, %d runs):\n", p.Expect, p.Tolerance, 100*p.Confidence, rate, p.Runs)
	if p.ErrorRate > 0 {
		fmt.Fprintf(w, "  with %g%% of pages not ok against a %g%% budget: a PASS waits while an observed error rate is above the budget\n", p.ErrorRate, p.Budget)
	}
	fmt.Fprintf(w, "  PASS when the split is as expected: median %d requests (%s), 90%% within %d (%s)\n", p.PassMedian, at(p.PassMedian), p.PassP90, at(p.PassP90))
	fmt.Fprintf(w, "  FAIL when it is %s: median %d requests (%s), 90%% within %d (%s)\n", p.FailTruth, p.FailMedian, at(p.FailMedian), p.FailP90, at(p.FailP90))
	fmt.Fprintf(w, "  a one-look test would need %d requests (%s) but may look only once; add settling (about 60 pages) after a weight change\n", p.OneLook, at(p.OneLook))
	if p.PassP90 > decide.DefaultMaxRequests {
		fmt.Fprintf(w, "  warning: 90%% of passing runs need more than --max-requests %d: raise it or widen --tolerance\n", decide.DefaultMaxRequests)
	}
	return nil
}
