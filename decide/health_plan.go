package decide

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// HealthTruth is a simulated canary against its baseline: each version's
// error rate, and the canary's latency as a function of a draw from the
// baseline's (log-normal, median 100 ms, σ of log 0.5, the shape the
// research on latency regressions uses).
type HealthTruth struct {
	BaselineErrors, CanaryErrors float64
	// Slower scales every canary latency by 1 + Slower (0.2: every
	// quantile 20% slower); TailOnly applies it only above the baseline's
	// p95, so p50 and p90 stay the same and p99 is 20% slower.
	Slower   float64
	TailOnly bool
}

// simMedian and simSigma are the simulated baseline latency's median and
// σ of its log: a page that takes tens to hundreds of milliseconds, so the
// latency margin's relative part is the one that binds.
const (
	simMedian = 100 * time.Millisecond
	simSigma  = 0.5
)

// healthSim feeds a Sequential with health checks two versions' pages.
type healthSim struct {
	s            *Sequential
	base, canary string
	baseShare    float64
	rng          *rand.Rand
	p95          float64 // the baseline's p95 in ms
	truth        HealthTruth
}

func newHealthSim(s *Sequential, rng *rand.Rand, truth HealthTruth) *healthSim {
	h := s.c.Health
	canaries := h.canaries(s.c.Expect)
	share := 0.5
	if i := s.index(h.Baseline); i >= 0 {
		share = s.tracks[i].share
	}
	return &healthSim{s: s, base: h.Baseline, canary: canaries[0], baseShare: share, rng: rng, truth: truth,
		p95: ms(simMedian) * math.Exp(simSigma*1.6448536269514722)}
}

// run plays one gate to its verdict and returns it with the pages sent.
func (sim *healthSim) run() (Verdict, int) {
	s := sim.s
	s.Reset()
	for s.Verdict() == Pending {
		x := ms(simMedian) * math.Exp(simSigma*sim.rng.NormFloat64())
		v, errRate := sim.base, sim.truth.BaselineErrors
		if sim.rng.Float64() >= sim.baseShare {
			v, errRate = sim.canary, sim.truth.CanaryErrors
			if !sim.truth.TailOnly || x > sim.p95 {
				x *= 1 + sim.truth.Slower
			}
		}
		ok := errRate == 0 || sim.rng.Float64() >= errRate
		s.Add(v, ok, time.Duration(x*float64(time.Millisecond)))
	}
	return s.Verdict(), s.pages
}

// HealthPlanResult says how many pages a gate with health checks likely
// needs against a given canary: to FAIL a regression, or to PASS a canary
// that matches its baseline.
type HealthPlanResult struct {
	// Canary is the version simulated against Baseline: the first canary.
	Canary   string      `json:"canary"`
	Baseline string      `json:"baseline"`
	Truth    HealthTruth `json:"truth"`
	Runs     int         `json:"runs"`
	Limit    int         `json:"limit"`
	// Want is the verdict the truth calls for: FAIL when the canary is
	// past a margin, PASS otherwise. Median and P90 are pages (of all
	// versions) to it; Limit means "at least Limit". Rate is the share of
	// runs that reached it within Limit.
	Want   Verdict `json:"want"`
	Median int     `json:"median"`
	P90    int     `json:"p90"`
	Rate   float64 `json:"rate"`
}

// PlanHealth simulates c (which must judge health, its first canary
// against its baseline) under truth, seeded, checking after every page up
// to c.MaxRequests. It returns a zero result when c is invalid or has no
// health checks.
func PlanHealth(c Criteria, truth HealthTruth, runs int) HealthPlanResult {
	if c.Validate() != nil || c.Health == nil || runs < 1 {
		return HealthPlanResult{}
	}
	s, err := NewSequential(c)
	if err != nil {
		return HealthPlanResult{}
	}
	want := Pass
	if truth.past(c.Health) {
		want = Fail
	}
	sim := newHealthSim(s, rand.New(rand.NewPCG(planSeed, 2)), truth)
	r := HealthPlanResult{Canary: sim.canary, Baseline: sim.base, Truth: truth, Runs: runs, Limit: c.MaxRequests, Want: want}
	ns := make([]int, runs)
	hits := 0
	for i := range ns {
		v, n := sim.run()
		if v == want {
			hits++
		} else {
			n = c.MaxRequests
		}
		ns[i] = n
	}
	slices.Sort(ns)
	r.Median, r.P90, r.Rate = ns[runs/2], ns[runs*9/10], float64(hits)/float64(runs)
	return r
}

// past reports whether the truth puts the canary beyond a margin of h:
// more errors than the error margin allows, or latency slower than the
// latency margin at a compared quantile.
func (t HealthTruth) past(h *Health) bool {
	if t.CanaryErrors > h.errorLimit(t.BaselineErrors)+1e-12 {
		return true
	}
	if len(h.Quantiles) == 0 || t.Slower == 0 {
		return false
	}
	base := float64(simMedian)
	slower := 1 + t.Slower
	if t.TailOnly && !slices.ContainsFunc(h.Quantiles, func(q float64) bool { return q > 0.95 }) {
		return false
	}
	return base*slower > float64(h.latencyLimit(time.Duration(base)))
}
