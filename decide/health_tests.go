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

// Latency, per quantile p: the null "the canary's p-quantile is at most
// lim(the baseline's)", lim the margin (max(ratio·x, x + diff)). It holds
// exactly when some split point x has both
//
//	P(baseline < x) ≤ p   and   P(canary > lim(x)) ≤ 1 − p
//
// (x = the baseline's p-quantile is one). For a fixed x each side is a
// Bernoulli rate with a one-sided likelihood-ratio test against
// alternatives above it, whatever the latency distribution; the two
// streams are independent and each page moves one of them, so the product
// of the two ratios is a nonnegative supermartingale under that x's null.
// The check fails when the product reaches 1/β at every split point: then
// it has at the baseline's true quantile, which happens with probability
// at most β under the null (Ville). Pooling the two sides' evidence this
// way needs about 40% fewer pages than bounding each quantile on its own
// (two confidence sequences at β/2 each), in TestHealthSimulation's 20%
// slowdown. Each ratio is mixed with weight keepWeight on 1, so a side
// that favours its null costs at most log(1/keepWeight): the split points
// where one side alone is decisive need no look, which keeps the search
// to a narrow window.

// keepWeight is the weight of the constant 1 in each side's mixture.
const keepWeight = 0.5

// quantileSteps are the alternatives of each side's test, as log-odds
// beyond the null's rate: small ones for small slowdowns over many pages,
// large ones for a clear regression early.
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

// splitTest is the latency check at one quantile.
type splitTest struct {
	p float64
	// below tests the baseline's count below x, above the canary's count
	// above lim(x).
	below, above edgeTest
	logC         float64 // log(1/level)
	// alone[n] is the count of n values at which one side's log e-value
	// alone reaches logC − log(keepWeight): split points there need no
	// look (n+1: none).
	aloneBelow, aloneAbove []int32
}

func newSplitTest(p, level float64, maxN int) *splitTest {
	t := &splitTest{p: p, below: quantileTest(p, level), above: quantileTest(1-p, level), logC: -math.Log(level),
		aloneBelow: make([]int32, maxN+1), aloneAbove: make([]int32, maxN+1)}
	enough := t.logC - math.Log(keepWeight)
	a, b := 1, 1
	for n := 0; n <= maxN; n++ {
		a = walkMin(n, a, func(S int) bool { return t.side(&t.below, S, n) >= enough })
		b = walkMin(n, b, func(S int) bool { return t.side(&t.above, S, n) >= enough })
		t.aloneBelow[n], t.aloneAbove[n] = int32(a), int32(b)
	}
	return t
}

// side is one side's log e-value for S of n values beyond the split.
func (t *splitTest) side(e *edgeTest, S, n int) float64 {
	if n == 0 {
		return 0
	}
	lr := e.logRatio(S, n)
	return math.Log(keepWeight + (1-keepWeight)*math.Exp(math.Min(lr, 700)))
}

// cell is a range of split points: the baseline's values certainly below
// every point in it, the canary's certainly above lim of every point, and
// the range's first point (to report).
type cell struct {
	below, above int
	at           time.Duration
}

// weakest returns the smallest log e-value over cells and where it is;
// +Inf when there are no cells.
func (t *splitTest) weakest(nb, nc int, cells func(yield func(cell) bool)) (logE float64, at time.Duration) {
	logE = math.Inf(1)
	last := cell{below: -1}
	for c := range cells {
		if c.below == last.below && c.above == last.above {
			continue
		}
		last = c
		if v := t.side(&t.below, c.below, nb) + t.side(&t.above, c.above, nc); v < logE {
			logE, at = v, c.at
		}
	}
	return logE, at
}

// latencies counts one version's latencies in results' histogram buckets
// (0.8% wide), in a Fenwick tree so that any order statistic is a
// logarithmic walk. The bucket, not the value, is kept: upper bounds are
// read at a bucket's top and lower bounds at its bottom, so rounding only
// widens them.
type latencies struct {
	tree   []int32
	counts []int32 // per bucket, for scans in order
	n      int
}

// latencyTreeSize is the Fenwick tree's size: a power of two at least
// results.LatencyBuckets.
const latencyTreeSize = 4096

func newLatencies() latencies {
	return latencies{tree: make([]int32, latencyTreeSize+1), counts: make([]int32, results.LatencyBuckets)}
}

func (l *latencies) add(d time.Duration) {
	b := results.LatencyBucket(d)
	for i := b + 1; i <= latencyTreeSize; i += i & -i {
		l.tree[i]++
	}
	l.counts[b]++
	l.n++
}

func (l *latencies) reset() {
	clear(l.tree)
	clear(l.counts)
	l.n = 0
}

// before is the number of values in buckets below bucket i.
func (l *latencies) before(i int) int {
	s := int32(0)
	for ; i > 0; i -= i & -i {
		s += l.tree[i]
	}
	return int(s)
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

// quantile is the empirical p-quantile, the ⌈p·n⌉-th smallest value, at
// its bucket's middle; 0 with no values.
func (l *latencies) quantile(p float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	lo, hi := results.LatencyBucketRange(l.bucket(l.rank(p)))
	return (lo + hi) / 2
}

// rank is the rank of the empirical p-quantile, ⌈p·n⌉, at least 1.
func (l *latencies) rank(p float64) int { return max(1, int(math.Ceil(p*float64(l.n)))) }
