package decide

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The health simulation behind the health figures in the docs: a 50/50
// gate (v1=50,v3=50 ±5, v1 the baseline) with the default health checks,
// latency log-normal (median 100 ms, σ of log 0.5), the verdict checked
// after every page.
//
//	go test ./decide -run TestHealthSimulation -sim.full           # 20,000 runs per row, compared with testdata/health_simulation.golden
//	go test ./decide -run TestHealthSimulation -sim.full -update   # rewrite it; then copy it into doc.go and README.md

const healthGolden = "testdata/health_simulation.golden"

type healthRow struct {
	name  string
	truth HealthTruth
	// margins overrides the latency margin (ratio, diff) when set.
	latencyRatio float64
	latencyZero  bool
	maxRequests  int
	// bound is the verdict whose rate is held to α (a false FAIL for a
	// canary inside or on its margins); speed the verdict whose median
	// pages the row reports; goal the most that median may be (0:
	// reported only), before the 5% slack of the smaller default run.
	bound, speed Verdict
	goal         int
}

var healthRows = []healthRow{
	{name: "same as baseline", bound: Fail, speed: Pass},
	{name: "same, 0.5% errors each", truth: HealthTruth{BaselineErrors: 0.005, CanaryErrors: 0.005}, bound: Fail, speed: Pass},
	{name: "at the margins: 10% slower, 2× errors (0.5% → 1%)", truth: HealthTruth{BaselineErrors: 0.005, CanaryErrors: 0.01, Slower: 0.1}, bound: Fail, speed: Pass},
	{name: "p50 +20% (every quantile)", truth: HealthTruth{Slower: 0.2}, speed: Fail},
	{name: "p50 +20%, latency margin 0%,0", truth: HealthTruth{Slower: 0.2}, latencyZero: true, speed: Fail},
	{name: "p99 +20% (tail only)", truth: HealthTruth{Slower: 0.2, TailOnly: true}, speed: Fail, maxRequests: 20_000},
	{name: "p99 +20% (tail only), latency margin 0%,0", truth: HealthTruth{Slower: 0.2, TailOnly: true}, latencyZero: true, speed: Fail, maxRequests: 20_000},
	{name: "errors 0.5% → 2%", truth: HealthTruth{BaselineErrors: 0.005, CanaryErrors: 0.02}, speed: Fail, maxRequests: 20_000, goal: 10_000},
	{name: "6× slower (as 5 ms more on the local mesh's 1 ms page)", truth: HealthTruth{Slower: 5}, speed: Fail, goal: 100},
}

type healthSimResult struct {
	row healthRow
	tally
	maxRequests int
	rate, limit float64
}

func healthCriteria(t testing.TB, row healthRow) Criteria {
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	c.Health = DefaultHealth("v1")
	if row.latencyZero {
		c.Health.LatencyRatio, c.Health.LatencyDiff = 1, 0
	}
	if row.maxRequests > 0 {
		c.MaxRequests = row.maxRequests
	}
	return c
}

func simulateHealthRow(t testing.TB, row healthRow, runs int) healthSimResult {
	c := healthCriteria(t, row)
	s := mustSequential(t, c)
	h := fnv.New64a()
	h.Write([]byte(row.name))
	sim := newHealthSim(s, rand.New(rand.NewPCG(20261207, h.Sum64())), row.truth)
	r := healthSimResult{row: row, maxRequests: c.MaxRequests}
	r.tally = playRuns(runs, c.MaxRequests, row.speed, sim.run)
	if row.bound != Pending {
		alpha := 1 - DefaultConfidence
		r.rate = float64(r.fail) / float64(runs)
		r.limit = alpha + 3*math.Sqrt(alpha*(1-alpha)/float64(runs))
	}
	return r
}

// TestHealthSimulation holds the health checks to their guarantee (a
// canary inside or on its margins is failed at most α of the time over
// the whole gate, split and budget included) and measures their speed.
// It also checks the cost of health on a healthy gate: the median pages
// to PASS at most 10% above the split check alone, on the same seeds.
func TestHealthSimulation(t *testing.T) {
	t.Parallel()
	runs := simRunsPerRow() // 20,000 in the full run; halved below otherwise
	if !*simFull {
		runs /= 2 // each health run feeds every page's latency: twice the split's cost
	}
	res := make([]healthSimResult, len(healthRows))
	done := make(chan struct{})
	for i, row := range healthRows {
		go func() {
			n := runs
			if row.bound == Pending && !*simFull {
				// Rows that only report a speed get a fifth of the runs
				// in the default run: their slow regressions run to
				// thousands of pages each, and no bound rides on them.
				n = runs / 5
			}
			res[i] = simulateHealthRow(t, row, n)
			done <- struct{}{}
		}()
	}
	alone := simulateRow(t, simRow{truth: "50/50 (health)", expect: "v1=50,v3=50", tol: 5, shares: []float64{.5, .5, 0}, speed: Pass}, runs)
	for range healthRows {
		<-done
	}
	for _, r := range res {
		if r.row.bound != Pending && r.rate > r.limit {
			t.Errorf("%s: false FAIL rate %.4f over %d runs; want ≤ %.4f", r.row.name, r.rate, r.runs, r.limit)
		}
		goal := r.row.goal
		if !*simFull {
			goal += goal / 20
		}
		if r.row.goal > 0 && !testing.Short() && r.median > goal {
			t.Errorf("%s: median pages to %s = %d; want ≤ %d", r.row.name, r.row.speed, r.median, goal)
		}
	}
	// Health's cost on a healthy gate, by the split's pages as the split
	// check counts them (the rows count every page; here all have a version).
	if cost := float64(res[0].median) / float64(alone.median); !testing.Short() && cost > 1.10 {
		t.Errorf("health on a healthy 50/50: median %d pages to PASS against %d for the split alone (%.0f%% more); want at most 10%%",
			res[0].median, alone.median, 100*(cost-1))
	}
	checkSimGolden(t, healthGolden, healthTable(res, alone))
}

func healthTable(res []healthSimResult, alone simResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| canary against baseline v1 (v1=50,v3=50 ±5) | PASS | FAIL | pages to the verdict (all versions): median (p90) | bound checked |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|\n")
	for _, r := range res {
		bound := "-"
		if r.row.bound != Pending {
			bound = fmt.Sprintf("false FAIL ≤ %.4g", 1-DefaultConfidence)
		}
		fmt.Fprintf(&b, "| %s | %.4f | %.4f | %s %s (%s) | %s |\n", r.row.name, float64(r.pass)/float64(r.runs), float64(r.fail)/float64(r.runs),
			r.row.speed, pagesOrMore(r.median, r.maxRequests), pagesOrMore(r.p90, r.maxRequests), bound)
	}
	fmt.Fprintf(&b, "| the split check alone, same as baseline | %.4f | %.4f | PASS %d (%d) | - |\n",
		float64(alone.pass)/float64(alone.runs), float64(alone.fail)/float64(alone.runs), alone.median, alone.p90)
	fmt.Fprintf(&b, "\n%d seeded runs per row, 95%% confidence, default margins (errors 2× or +0.1 points, latency +10%% or +2ms, p50, p90, p99) unless the row says otherwise; latency log-normal with median %s and σ of log %g; at most %d pages (20,000 where the row needs more); each false-FAIL rate is held to α plus Monte Carlo slack 3·sqrt(α(1−α)/runs).\n",
		res[0].runs, time.Duration(simMedian), simSigma, res[0].maxRequests)
	return b.String()
}
