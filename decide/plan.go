package decide

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/canary-gate/canary/internal/textfmt"
)

// Plan's simulation size and seed, fixed so that plans are reproducible:
// planRuns runs per case, fewer (down to planMinRuns) when planWork pages
// per case would not cover them at the page limit.
const (
	planRuns    = 400
	planMinRuns = 100
	planWork    = 4_000_000
	planSeed    = 20240601
)

// PlanResult says how many pages (with a version, all ok) a check would
// likely need; divide by the request rate for time.
type PlanResult struct {
	Expect     string  `json:"expect"`
	Tolerance  float64 `json:"tolerance_pct"`
	Confidence float64 `json:"confidence"`
	// Runs is the number of simulated runs per truth, and Limit the pages
	// each could take at most (not MaxRequests: compare PassP90 with that
	// to warn). A percentile equal to Limit means "at least Limit".
	Runs  int `json:"runs"`
	Limit int `json:"limit"`
	// PassMedian and PassP90 are pages to a PASS when the truth is the
	// expectation.
	PassMedian int `json:"pass_median"`
	PassP90    int `json:"pass_p90"`
	// FailTruth is a split off by twice the tolerance (the largest share
	// moved to the smallest, or to another version if one has 100%);
	// FailMedian and FailP90 are pages to a FAIL under it.
	FailTruth  string `json:"fail_truth"`
	FailMedian int    `json:"fail_median"`
	FailP90    int    `json:"fail_p90"`
	// OneLook is what a fixed-size test that looks once would need: TOST
	// equivalence at 80% power when the truth is the expectation.
	OneLook int `json:"one_look"`
	// ErrorRate is the simulated share of pages not ok (each version
	// alike), Budget the error budget, both in percent. A PASS waits while
	// an observed error rate is above the budget, so errors near the
	// budget slow it down.
	ErrorRate float64 `json:"error_rate_pct"`
	Budget    float64 `json:"budget_pct"`
}

// Plan simulates the sequential check of c (seeded) under its
// expectation and under a split off by 2×tolerance (percentage points),
// checking the verdict after every page, with errorRate of the pages not
// ok. Its own page limit replaces c.MaxRequests. If c does not pass
// Criteria.Validate or errorRate is not in [0, 1), Plan returns a zero
// PlanResult. Its cost grows as 1/tolerance²: about 50–100 ms at 2–5
// points, a few hundred ms at 1.
func Plan(c Criteria, errorRate float64) PlanResult {
	c.MaxRequests = DefaultMaxRequests
	if c.Validate() != nil || !(errorRate >= 0 && errorRate < 1) {
		return PlanResult{}
	}
	e := c.Expect
	truth := shares(e)
	off := offTruth(truth, 2*c.delta())
	// The 90th percentiles sit near 2–3× the one-look size of the more
	// variable truth; 4× plus a margin leaves room without wasting time.
	c.MaxRequests = min(4*oneLookPages(c, truth, off)+1000, maxRequestsCap)
	s, err := NewSequential(c)
	if err != nil {
		return PlanResult{}
	}
	r := PlanResult{
		Expect: e.String(), Tolerance: c.Tolerance, Confidence: c.Confidence,
		ErrorRate: roundPct(errorRate * 100), Budget: roundPct(c.MaxErrorRate * 100),
		Runs:  max(planMinRuns, min(planRuns, planWork/c.MaxRequests)),
		Limit: c.MaxRequests, OneLook: oneLookPages(c, truth),
	}
	rng := rand.New(rand.NewPCG(planSeed, 1))
	names := append(e.Versions(), otherName(e))
	sim := simulation{s: s, names: names, errorRate: errorRate, rng: rng}
	r.PassMedian, r.PassP90 = sim.percentiles(truth, Pass, r.Runs)
	r.FailTruth = truthString(names, off)
	r.FailMedian, r.FailP90 = sim.percentiles(off, Fail, r.Runs)
	return r
}

// oneLookPages is the TOST sample size at 80% power for the most variable
// share in the given truths: n = (z₁₋α + z₀.₉)² p(1−p) / δ². With no share
// strictly between 0 and 1, it is the exact-version pages.
func oneLookPages(c Criteria, truths ...[]float64) int {
	worst := 0.0
	for _, truth := range truths {
		for _, p := range truth {
			worst = math.Max(worst, p*(1-p))
		}
	}
	if worst == 0 {
		return c.exactPages()
	}
	z := zQuantile(1-c.alpha()) + zQuantile(0.9)
	return int(math.Ceil(z * z * worst / (c.delta() * c.delta())))
}

// zQuantile is the standard normal quantile.
func zQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// shares returns the expected share per listed version, snapped like
// NewSequential does, plus 0 for an unlisted one.
func shares(e Expectation) []float64 {
	out := make([]float64, 0, len(e.percents)+1)
	for _, p := range e.percents {
		out = append(out, snap(p/100))
	}
	return append(out, 0)
}

// offTruth moves amount from the largest share to the smallest nonzero
// other one, or to the unlisted version (last) if only one is nonzero.
func offTruth(truth []float64, amount float64) []float64 {
	out := slices.Clone(truth)
	big := 0
	for i, p := range out {
		if p > out[big] {
			big = i
		}
	}
	small := len(out) - 1
	for i, p := range out[:len(out)-1] {
		if i != big && p > 0 && (small == len(out)-1 || p < out[small]) {
			small = i
		}
	}
	amount = math.Min(amount, out[big])
	out[big] -= amount
	out[small] += amount
	return out
}

// otherName is a version name not in e, for simulated strays.
func otherName(e Expectation) string {
	name := "other"
	for e.index(name) >= 0 {
		name += "'"
	}
	return name
}

func truthString(names []string, shares []float64) string {
	var parts []string
	for i, p := range shares {
		if p > 0 {
			parts = append(parts, names[i]+"="+textfmt.Num(math.Round(p*1e6)/1e4))
		}
	}
	return strings.Join(parts, ",")
}

// simulation feeds a Sequential simulated pages.
type simulation struct {
	s         *Sequential
	names     []string // a version per share, the last one unlisted
	errorRate float64  // share of pages not ok
	rng       *rand.Rand
}

// percentiles runs simulations and returns the median and 90th percentile
// of pages to the wanted verdict (the page limit for runs without it).
func (sim simulation) percentiles(truth []float64, want Verdict, runs int) (median, p90 int) {
	ns := make([]int, runs)
	for i := range ns {
		v, n := sim.run(truth)
		ns[i] = n
		if v != want {
			ns[i] = sim.s.c.MaxRequests
		}
	}
	slices.Sort(ns)
	return ns[len(ns)/2], ns[len(ns)*9/10]
}

// run feeds pages drawn from truth (a share per name), checking the
// verdict after every page, and returns the verdict and pages in the split.
func (sim simulation) run(truth []float64) (Verdict, int) {
	last := len(truth) - 1 // the last nonzero share takes rounding leftovers
	for last > 0 && truth[last] == 0 {
		last--
	}
	s := sim.s
	s.Reset()
	for s.Verdict() == Pending {
		u, i := sim.rng.Float64(), 0
		for i < last && u >= truth[i] {
			u -= truth[i]
			i++
		}
		s.Add(sim.names[i], sim.errorRate == 0 || sim.rng.Float64() >= sim.errorRate, 0)
	}
	return s.Verdict(), s.n
}
