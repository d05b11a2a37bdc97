package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/canary-gate/canary/attack"
	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/urfave/cli/v3"
)

func planCommand() *cli.Command {
	c := &cli.Command{
		Name:  "plan",
		Usage: "print the requests and time a verify decision would likely need",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "expect", Usage: "expected split, e.g. `v1=90,v2=10`"},
			&cli.Float64Flag{Name: "tolerance", Value: decide.DefaultTolerance, Usage: "allowed distance from each expected share, in percentage points"},
			&cli.Float64Flag{Name: "confidence", Value: decide.DefaultConfidence, Usage: "confidence of the verdict"},
			&cli.Float64Flag{Name: "max-error-rate", Value: 100 * decide.DefaultMaxErrorRate, Usage: "error budget: percent of pages per version that may be not ok"},
			&cli.Float64Flag{Name: "error-rate", Usage: "percent of pages expected not ok, each version alike (a PASS waits while an observed rate is above the budget)"},
			&cli.StringFlag{Name: "rate", Value: "20/s", Usage: "request rate of the gate"},
			&cli.Float64Flag{Name: "slower", Usage: "also plan health: a canary `PERCENT` slower than its baseline at every quantile (latency log-normal, σ of log 0.5)"},
			&cli.Float64Flag{Name: "canary-error-rate", Usage: "also plan health: a canary failing `PERCENT` of pages (the baseline fails --error-rate)"},
		},
		Action: planAction,
	}
	c.Flags = append(c.Flags, healthFlags()...)
	return c
}

// planHealthRuns is the number of simulated gates behind a health plan:
// each runs to its verdict with every page's latency, so fewer than the
// split's.
const planHealthRuns = 200

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
	switch {
	case p.PassP90 > decide.DefaultMaxRequests:
		fmt.Fprintf(w, "  warning: 90%% of passing runs need more than verify's default --max-requests %d: raise it or widen --tolerance\n", decide.DefaultMaxRequests)
	case p.FailP90 > decide.DefaultMaxRequests || p.OneLook > decide.DefaultMaxRequests:
		fmt.Fprintf(w, "  warning: some figures above exceed verify's default --max-requests %d: a gate stops there INCONCLUSIVE; raise it to reach them\n", decide.DefaultMaxRequests)
	}
	if !c.IsSet("slower") && !c.IsSet("canary-error-rate") {
		return nil
	}
	return planHealth(c, crit, errorRate, at)
}

// planHealth prints how a gate with health checks would likely decide a
// canary --slower and failing --canary-error-rate of pages.
func planHealth(c *cli.Command, crit decide.Criteria, errorRate float64, at func(int) string) error {
	h, err := healthCriteria(c, crit.Expect)
	if err != nil {
		return usageError(err)
	}
	if h == nil {
		return usageError(errors.New("plan: --slower and --canary-error-rate need health checks: two versions expected above 0% and --health"))
	}
	crit.Health = h
	if err := crit.Validate(); err != nil {
		return usageError(err)
	}
	truth := decide.HealthTruth{BaselineErrors: errorRate, CanaryErrors: c.Float64("canary-error-rate") / 100, Slower: c.Float64("slower") / 100}
	if !c.IsSet("canary-error-rate") {
		truth.CanaryErrors = errorRate
	}
	if !(truth.CanaryErrors >= 0 && truth.CanaryErrors < 1) || !(truth.Slower >= 0 && truth.Slower <= 100) {
		return usageError(fmt.Errorf("--canary-error-rate %g, --slower %g: want percents in [0, 100) and [0, 10000]", c.Float64("canary-error-rate"), c.Float64("slower")))
	}
	p := decide.PlanHealth(crit, truth, planHealthRuns)
	like := fmt.Sprintf("failing %s%% of pages (%s: %s%%)", textfmt.Num(100*truth.CanaryErrors), h.Baseline, textfmt.Num(100*truth.BaselineErrors))
	if truth.Slower > 0 {
		like = fmt.Sprintf("%s%% slower at every quantile, %s", textfmt.Num(100*truth.Slower), like)
	}
	fmt.Fprintf(c.Writer, "  health (%s against %s; errors %s, latency %s at %s): a canary %s should %s:\n",
		p.Canary, p.Baseline, h.ErrorMarginString(), h.LatencyMarginString(), quantileNames(h.Quantiles), like, p.Want)
	fmt.Fprintf(c.Writer, "    %s in %s%% of %d simulated gates within %d requests: median %s requests (%s), 90%% within %s (%s)\n",
		p.Want, textfmt.Num(math.Round(1000*p.Rate)/10), p.Runs, p.Limit, orMore(p.Median, p.Limit), at(p.Median), orMore(p.P90, p.Limit), at(p.P90))
	return nil
}

func quantileNames(qs []float64) string {
	if len(qs) == 0 {
		return "no quantiles"
	}
	names := make([]string, len(qs))
	for i, q := range qs {
		names[i] = decide.QuantileName(q)
	}
	return strings.Join(names, ", ")
}

// orMore prints n, "≥ limit" when it is the limit (runs that never got there).
func orMore(n, limit int) string {
	if n >= limit {
		return fmt.Sprintf("≥ %d", limit)
	}
	return fmt.Sprint(n)
}
