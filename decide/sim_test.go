package decide

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// simRuns is the number of simulated runs per guarantee case: enough that
// the Monte-Carlo margin 3·sqrt(α(1−α)/runs) stays small (0.015 at 2000).
func simRuns() int {
	if testing.Short() {
		return 400
	}
	return 2000
}

// TestGuarantees simulates the decision rule under continuous monitoring:
// every run checks the verdict after every page, up to MaxRequests. With
// the truth inside the tolerance the FAIL rate, and with the truth on the
// tolerance boundary the PASS rate, must be at most 1 − confidence.
func TestGuarantees(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expect string
		tol    float64
		truth  []float64 // per listed version, then an unlisted one
		bound  Verdict   // the verdict whose rate is at most α
	}{
		{name: "50/50 truth, no false fail", expect: "v1=50,v3=50", tol: 5, truth: []float64{0.5, 0.5, 0}, bound: Fail},
		{name: "55/45 boundary, no false pass", expect: "v1=50,v3=50", tol: 5, truth: []float64{0.55, 0.45, 0}, bound: Pass},
		{name: "45/55 boundary, no false pass", expect: "v1=50,v3=50", tol: 5, truth: []float64{0.45, 0.55, 0}, bound: Pass},
		{name: "55/45 inside edge, no false fail", expect: "v1=50,v3=50", tol: 5, truth: []float64{0.55, 0.45, 0}, bound: Fail},
		{name: "90/10 truth, no false fail", expect: "v1=90,v2=10", tol: 10, truth: []float64{0.9, 0.1, 0}, bound: Fail},
		{name: "80/20 boundary, no false pass", expect: "v1=90,v2=10", tol: 10, truth: []float64{0.8, 0.2, 0}, bound: Pass},
		{name: "34/33/33 truth, no false fail", expect: "v1=34,v2=33,v3=33", tol: 5, truth: []float64{0.34, 0.33, 0.33, 0}, bound: Fail},
		{name: "39/28/33 boundary, no false pass", expect: "v1=34,v2=33,v3=33", tol: 5, truth: []float64{0.39, 0.28, 0.33, 0}, bound: Pass},
		{name: "100 with 5% strays, no false pass", expect: "v1=100", tol: 5, truth: []float64{0.95, 0.05}, bound: Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultCriteria(mustExpect(t, tc.expect))
			c.Tolerance = tc.tol
			s := mustSequential(t, c)
			names := append(c.Expect.Versions(), "stray")
			rng := rand.New(rand.NewPCG(42, uint64(len(tc.name))))
			runs, hits := simRuns(), 0
			for range runs {
				if v, _ := simulate(s, names, tc.truth, rng); v == tc.bound {
					hits++
				}
			}
			alpha := c.alpha()
			rate := float64(hits) / float64(runs)
			limit := alpha + 3*math.Sqrt(alpha*(1-alpha)/float64(runs))
			t.Logf("%s: %s rate %.4f over %d runs (α = %.2f, limit %.4f)", tc.name, tc.bound, rate, runs, alpha, limit)
			if rate > limit {
				t.Errorf("%s rate = %.4f; want ≤ %.4f", tc.bound, rate, limit)
			}
		})
	}
}

// Efficiency goals, in pages to a verdict (median over runs).
const (
	goalPass5050 = 1000
	goalFail7030 = 150
)

// TestEfficiency measures the median pages to a verdict and compares them
// with fixed-size tests that look once.
func TestEfficiency(t *testing.T) {
	if testing.Short() {
		t.Skip("efficiency simulation skipped with -short")
	}
	t.Parallel()
	c := DefaultCriteria(mustExpect(t, "v1=50,v3=50"))
	s := mustSequential(t, c)
	names := []string{"v1", "v3", "stray"}
	rng := rand.New(rand.NewPCG(7, 7))
	const runs = 2000
	passMed, passP90, passRate := medianPages(s, names, []float64{0.5, 0.5, 0}, Pass, runs, rng)
	failMed, failP90, failRate := medianPages(s, names, []float64{0.7, 0.3, 0}, Fail, runs, rng)

	alpha, delta := c.alpha(), c.delta()
	tost80 := oneLookPages(c, shares(c.Expect))
	tost50 := oneLook(zQuantile(1-alpha)+zQuantile(0.75), 0.25, delta)
	z := func(p, q float64, power float64) int { // one-sided test of p ≤ p0 against q
		n := (zQuantile(1-alpha)*math.Sqrt(p*(1-p)) + zQuantile(power)*math.Sqrt(q*(1-q))) / (q - p)
		return int(math.Ceil(n * n))
	}
	t.Logf("truth 50/50: PASS in %.1f%% of %d runs, median %d pages, p90 %d (goal ≤ %d); one-look TOST needs %d (80%% power), %d (50%%)",
		100*passRate, runs, passMed, passP90, goalPass5050, tost80, tost50)
	t.Logf("truth 70/30 vs 50/50: FAIL in %.1f%% of %d runs, median %d pages, p90 %d (goal ≤ %d); one-look test of share ≤ 55%% needs %d (80%% power), %d (50%%)",
		100*failRate, runs, failMed, failP90, goalFail7030, z(0.55, 0.7, 0.8), z(0.55, 0.7, 0.5))
	if passMed > goalPass5050 {
		t.Errorf("median pages to PASS at 50/50 = %d; want ≤ %d", passMed, goalPass5050)
	}
	if failMed > goalFail7030 {
		t.Errorf("median pages to FAIL at 70/30 = %d; want ≤ %d", failMed, goalFail7030)
	}
}

func oneLook(z, variance, delta float64) int {
	return int(math.Ceil(z * z * variance / (delta * delta)))
}

// medianPages returns the median and 90th percentile of pages in the split
// at the verdict (MaxRequests for runs not ending in want), and the share
// of runs ending in want.
func medianPages(s *Sequential, names []string, truth []float64, want Verdict, runs int, rng *rand.Rand) (med, p90 int, rate float64) {
	ns := make([]int, runs)
	hits := 0
	for i := range ns {
		v, n := simulate(s, names, truth, rng)
		ns[i] = n
		if v == want {
			hits++
		} else {
			ns[i] = s.c.MaxRequests
		}
	}
	slices.Sort(ns)
	return ns[runs/2], ns[runs*9/10], float64(hits) / float64(runs)
}

func mustSequential(t testing.TB, c Criteria) *Sequential {
	t.Helper()
	s, err := NewSequential(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
