package decide

import (
	"math"
	"time"

	"github.com/canary-gate/canary/results"
)

// The health tests. Each is one-sided: it can show a canary worse than its
// baseline by more than the margin, and is then a FAIL; it never shows the
// two equal. Both are anytime-valid, so the gate may look after every page.

// Errors: the canary's rate r_c against the baseline's r_b under the null
// "r_c ≤ max(ratio·r_b, r_b + diff)", a composite null over two unknown
// rates. Its e-process is the universal-inference ratio
//
//	E_n = m(E_c, F_c) · m(E_b, F_b) / sup over the null of L(r_c) L(r_b),
//
// with m the likelihood averaged over errorPrior. For each rate pair in the
// null, m·m / L·L is a nonnegative martingale with mean 1 (a Bayes factor);
// dividing by the supremum only makes it smaller, so by Ville's inequality
// E_n ever reaches 1/β with probability at most β under any null pair.
// It conditions on the versions' page counts, not on a rate estimate, so a
// baseline with no errors works: the null then allows the canary diff.

// errorPrior spreads its weight over error rates from 0.1% to 30%, so that
// a regression of any size is met by a component near it.
var errorPrior = newMixture(1,
	[3]float64{1, 0.002, 0.002}, [3]float64{1, 0.01, 0.01},
	[3]float64{1, 0.05, 0.04}, [3]float64{1, 0.25, 0.15})

// errorLogE is log E_n for ec errors of nc canary pages and eb of nb
// baseline pages (both above 0). It is 0 or less while the observed rates
// are inside the null (the supremum is then the maximum likelihood, which
// no average exceeds), so callers compute it only past the margin.
func (h *Health) errorLogE(ec, nc, eb, nb int) float64 {
	sc, fc := float64(ec), float64(nc-ec)
	sb, fb := float64(eb), float64(nb-eb)
	num := errorPrior.logN(sc, fc) + errorPrior.logN(sb, fb)
	// The null is the union of two half-planes; its supremum is the larger
	// of theirs, each on its boundary line when the data lie outside.
	den := math.Max(lineMax(sc, fc, sb, fb, h.ErrorRatio, 0), lineMax(sc, fc, sb, fb, 1, h.ErrorDiff))
	if rb := sb / (sb + fb); sc/(sc+fc) <= h.errorLimit(rb) {
		den = loglik(sc, fc, sc/(sc+fc)) + loglik(sb, fb, rb) // the maximum likelihood is in the null
	}
	return num - den
}

// lineMax is the largest log-likelihood on the line r_c = s·r_b + c. The
// log-likelihood is concave in r_b there, so bisection on its slope finds
// the top; the larger of the two final ends is kept, so the supremum is
// never underestimated by more than rounding.
func lineMax(ec, fc, eb, fb, s, c float64) float64 {
	f := func(r float64) float64 { return loglik(eb, fb, r) + loglik(ec, fc, s*r+c) }
	slope := func(r float64) float64 {
		rc := s*r + c
		return eb/r - fb/(1-r) + s*ec/rc - s*fc/(1-rc)
	}
	lo, hi := 0.0, math.Min(1, (1-c)/s)
	for range 80 {
		m := (lo + hi) / 2
		if slope(m) > 0 {
			lo = m
		} else {
			hi = m
		}
	}
	return math.Max(f(lo), f(hi))
}

// Latency: for each quantile p, an anytime-valid upper bound on the
// baseline's p-quantile and a lower bound on the canary's; the canary
// fails when its lower bound is above what the margin allows at the
// baseline's upper bound. The bounds are order statistics, as in Howard
// and Ramdas' confidence sequences for quantiles (the bands Netflix's
// KDD'22 paper compares): the count of values below the true p-quantile
// grows as Bernoulli trials with rate at most p, whatever the latency
// distribution, so a one-sided test of "rate ≤ p" that has not rejected a
// count k bounds the quantile by the k-th smallest value at every page at
// once. Each bound is tested at half the check's level, so the check is
// wrong at most at its level; no distribution is assumed.

// quantileSteps are the alternatives of a bound's test, as log-odds
// beyond the null's rate: small ones for tight bounds at many pages,
// large ones for early bounds on a clear regression.
var quantileSteps = [len(failSteps)]float64{0.05, 0.15, 0.4, 1}

// quantileTest tests "a share ≤ p0" against shares at quantileSteps
// log-odds above it.
func quantileTest(p0, level float64) edgeTest {
	t := edgeTest{p0: p0, up: true, logC: -math.Log(level), n: len(quantileSteps)}
	w := -math.Log(float64(len(quantileSteps)))
	logit := math.Log(p0 / (1 - p0))
	for i, k := range quantileSteps {
		t.alts[i] = alternative{w, 1 / (1 + math.Exp(-(logit + k)))}
	}
	return t
}

// quantileTables hold, per number of values n, the rank of each bound:
// the baseline's p-quantile is at most its below[n]-th smallest value and
// the canary's at least its above[n]-th largest; n+1 means no bound yet.
type quantileTables struct {
	p            float64
	below, above []int32
}

func newQuantileTables(p, level float64, maxN int) quantileTables {
	lo, hi := quantileTest(p, level/2), quantileTest(1-p, level/2)
	t := quantileTables{p: p, below: make([]int32, maxN+1), above: make([]int32, maxN+1)}
	a, b := 1, 1
	for n := 0; n <= maxN; n++ {
		a = walkMin(n, a, func(S int) bool { return lo.rejects(S, n) })
		b = walkMin(n, b, func(S int) bool { return hi.rejects(S, n) })
		t.below[n], t.above[n] = int32(a), int32(b)
	}
	return t
}

// latencies counts one version's latencies in results' histogram buckets
// (0.8% wide), in a Fenwick tree so that any order statistic is a
// logarithmic walk. The bucket, not the value, is kept: upper bounds are
// read at a bucket's top and lower bounds at its bottom, so rounding only
// widens them.
type latencies struct {
	tree []int32
	n    int
}

// latencyTreeSize is the Fenwick tree's size: a power of two at least
// results.LatencyBuckets.
const latencyTreeSize = 4096

func newLatencies() latencies { return latencies{tree: make([]int32, latencyTreeSize+1)} }

func (l *latencies) add(d time.Duration) {
	for i := results.LatencyBucket(d) + 1; i <= latencyTreeSize; i += i & -i {
		l.tree[i]++
	}
	l.n++
}

func (l *latencies) reset() {
	clear(l.tree)
	l.n = 0
}

// bucket returns the bucket of the k-th smallest value, 1 ≤ k ≤ n.
func (l *latencies) bucket(k int) int {
	pos, rest := 0, int32(k)
	for step := latencyTreeSize; step > 0; step >>= 1 {
		if next := pos + step; next <= latencyTreeSize && l.tree[next] < rest {
			pos = next
			rest -= l.tree[next]
		}
	}
	return pos // the tree is 1-based, buckets 0-based
}

// atMost is an upper bound on the k-th smallest value; ok is false when k
// is beyond the count (no bound yet).
func (l *latencies) atMost(k int) (time.Duration, bool) {
	if k < 1 || k > l.n {
		return 0, false
	}
	_, hi := results.LatencyBucketRange(l.bucket(k))
	return hi + time.Microsecond - 1, true // values are truncated to the µs
}

// atLeast is a lower bound on the k-th largest value.
func (l *latencies) atLeast(k int) (time.Duration, bool) {
	if k < 1 || k > l.n {
		return 0, false
	}
	lo, _ := results.LatencyBucketRange(l.bucket(l.n - k + 1))
	return lo, true
}

// quantile is the empirical p-quantile, the ⌈p·n⌉-th smallest value, at
// its bucket's middle; 0 with no values.
func (l *latencies) quantile(p float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	k := max(1, int(math.Ceil(p*float64(l.n))))
	lo, hi := results.LatencyBucketRange(l.bucket(k))
	return (lo + hi) / 2
}
