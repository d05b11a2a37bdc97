package decide

import "math"

// The split test. PASS and FAIL are different claims, tested by different
// likelihood ratios against the edges of the band [e − δ, e + δ] around a
// version's expected share e (see the package doc for the argument).
//
// Each part is a one-sided test of a share against an edge p₀: the null
// "share ≤ p₀" (or "≥ p₀") against alternatives q_j on the other side,
//
//	Λ_n = Σ_j w_j (q_j/p₀)^S ((1−q_j)/(1−p₀))^F.
//
// Every term is a nonnegative supermartingale under any share on the
// null's side of p₀ (a page's expected factor is 1 + (p−p₀)(q−p₀)/(p₀(1−p₀))
// ≤ 1), so by Ville's inequality Λ ever reaches 1/level with probability
// at most level, however often it is looked at.

// passCentre is the weight of a PASS part's alternative at the expected
// share; the rest sits halfway from there to the edge. Tuned by
// TestSimulation: all weight at the expected share passes a true 50/50 a
// few percent sooner, but passes only two thirds of 52.5/47.5 runs within
// 5000 pages instead of four fifths.
const passCentre = 0.8

// failSteps are the distances of a FAIL part's alternatives beyond its
// edge, in tolerances, equally weighted: a split just off and one far off
// are both caught soon.
var failSteps = [...]float64{0.5, 1, 2, 4}

// alternative is one point of a likelihood-ratio mixture.
type alternative struct{ logw, q float64 }

// edgeTest is one one-sided part: the null "share ≤ p0" (up) or "share ≥
// p0" (!up), rejected when its ratio reaches 1/level.
type edgeTest struct {
	p0   float64
	up   bool
	logC float64 // log(1/level)
	n    int
	alts [len(failSteps)]alternative
}

// passTest is the PASS part of a version expected at e against the edge p0.
func passTest(e, p0, level float64) edgeTest {
	t := edgeTest{p0: p0, up: p0 < e, logC: -math.Log(level), n: 2}
	t.alts[0] = alternative{math.Log(passCentre), e}
	t.alts[1] = alternative{math.Log(1 - passCentre), (e + p0) / 2}
	return t
}

// failTest is the FAIL part against the edge p0: "share above p0" if up.
func failTest(p0, delta float64, up bool, level float64) edgeTest {
	t := edgeTest{p0: p0, up: up, logC: -math.Log(level), n: len(failSteps)}
	w := -math.Log(float64(len(failSteps)))
	for i, k := range failSteps {
		t.alts[i] = alternative{w, failAlt(p0, k*delta, up)}
	}
	return t
}

// failAlt is the alternative d beyond p0, kept inside (0, 1) by stopping
// halfway to the end. Every term then falls as p0 moves towards its
// alternative, so the edges a FAIL part rejects form an interval and
// failBounds is exact.
func failAlt(p0, d float64, up bool) float64 {
	if up {
		return math.Min(p0+d, (1+p0)/2)
	}
	return math.Max(p0-d, p0/2)
}

// logRatio is log Λ for S successes in n pages.
func (t *edgeTest) logRatio(S, n int) float64 {
	s, f := float64(S), float64(n-S)
	base := loglik(s, f, t.p0)
	var acc logSum
	for _, a := range t.alts[:t.n] {
		acc.add(a.logw + loglik(s, f, a.q) - base)
	}
	return acc.value()
}

// trivial reports whether the null cannot hold (an edge beyond 0 or 1 on
// the alternatives' side: the part is shown before any page) or cannot be
// rejected (the edge is at or beyond the far end).
func (t *edgeTest) trivial() (shown, never bool) {
	if t.up {
		return t.p0 < 0, t.p0 >= 1
	}
	return t.p0 > 1, t.p0 <= 0
}

// rejects reports whether S successes in n pages reject the null.
func (t *edgeTest) rejects(S, n int) bool {
	switch shown, never := t.trivial(); {
	case shown:
		return true
	case never:
		return false
	case t.up && float64(S) <= t.p0*float64(n), !t.up && float64(S) >= t.p0*float64(n):
		return false // the data lean towards the null: the ratio is at most 1
	case t.up && t.p0 == 0, !t.up && t.p0 == 1:
		return true // a page the null rules out
	}
	return t.logRatio(S, n) >= t.logC
}

// ratio is Λ itself, capped so that it stays a finite JSON number.
func (t *edgeTest) ratio(S, n int) float64 {
	if t.up && t.p0 == 0 && S > 0 || !t.up && t.p0 == 1 && S < n {
		return math.MaxFloat64
	}
	return math.Exp(math.Min(t.logRatio(S, n), 700))
}

// splitTests are the four parts for one version expected at e, strictly
// between 0 and 1: PASS above e − δ and below e + δ, FAIL above e + δ and
// below e − δ.
type splitTests struct {
	above, below, high, low edgeTest
	delta, failLevel        float64
}

func newSplitTests(e, delta, passLevel, failLevel float64) *splitTests {
	return &splitTests{
		above:     passTest(e, e-delta, passLevel),
		below:     passTest(e, e+delta, passLevel),
		high:      failTest(e+delta, delta, true, failLevel),
		low:       failTest(e-delta, delta, false, failLevel),
		delta:     delta,
		failLevel: failLevel,
	}
}

// outside reports whether a FAIL part rejects S of n.
func (ts *splitTests) outside(S, n int) bool {
	return ts.high.rejects(S, n) || ts.low.rejects(S, n)
}

// bounds is the confidence interval the FAIL parts give: the edges p₀ that
// neither rejects when taken as the edge. A FAIL part rejects its edge
// exactly when the interval lies beyond it. Found by bisection, rounded
// outwards.
func (ts *splitTests) bounds(S, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	phat := float64(S) / float64(n)
	lo, hi = 0, 1
	if S > 0 {
		lo = edgeOf(phat, 0, func(p float64) bool {
			t := failTest(p, ts.delta, true, ts.failLevel)
			return t.rejects(S, n)
		})
	}
	if S < n {
		hi = edgeOf(phat, 1, func(p float64) bool {
			t := failTest(p, ts.delta, false, ts.failLevel)
			return t.rejects(S, n)
		})
	}
	return lo, hi
}

// edgeOf finds, by bisection between inside (not rejected) and end
// (rejected), where rejection starts, and returns the rejected end of the
// final bracket so that an interval is never too narrow.
func edgeOf(inside, end float64, rejected func(float64) bool) float64 {
	for range 36 { // to 1.5e-11, far below the 0.1 points reports print
		m := (inside + end) / 2
		if rejected(m) {
			end = m
		} else {
			inside = m
		}
	}
	return end
}
