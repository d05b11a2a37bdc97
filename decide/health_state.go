package decide

import (
	"math"
	"sort"
	"time"

	"github.com/canary-gate/canary/results"
)

// healthState runs the health checks inside a Sequential: the baseline's
// and canaries' latencies, the tables and the levels. Error counts are the
// tracks' own.
type healthState struct {
	h        *Health
	base     int   // track index of the baseline
	canaries []int // track indices of the canaries
	lat      []latencies
	lt       []*splitTest // per latency quantile
	// edgeLim[j] is the bucket holding lim(the top of bucket j): the
	// canary values certainly at most lim(x) for x in bucket j are those
	// in buckets up to it.
	edgeLim []int
	// errLevel is each error check's level, latLevel each latency
	// check's.
	errLevel, latLevel float64
	logCErr            float64
}

// newHealthState splits the health share of α over canaries, then half to
// the error check and half over the latency quantiles.
func newHealthState(c Criteria, tracks []track) *healthState {
	h := c.Health
	hs := &healthState{h: h, base: -1}
	for i, tr := range tracks {
		switch {
		case tr.name == h.Baseline:
			hs.base = i
		case tr.share > 0:
			hs.canaries = append(hs.canaries, i)
		}
	}
	hs.errLevel, hs.latLevel = healthLevels(c, len(hs.canaries))
	hs.logCErr = -math.Log(hs.errLevel)
	hs.lat = make([]latencies, len(tracks))
	for _, i := range append([]int{hs.base}, hs.canaries...) {
		hs.lat[i] = newLatencies()
	}
	for _, q := range h.Quantiles {
		hs.lt = append(hs.lt, newSplitTest(q, hs.latLevel, c.MaxRequests))
	}
	hs.edgeLim = make([]int, results.LatencyBuckets)
	for j := range hs.edgeLim {
		if j+1 == results.LatencyBuckets {
			hs.edgeLim[j] = results.LatencyBuckets - 1 // the last bucket runs to any latency
			continue
		}
		next, _ := results.LatencyBucketRange(j + 1)
		hs.edgeLim[j] = results.LatencyBucket(h.latencyLimit(next))
	}
	return hs
}

// healthLevels are each error check's and each latency check's level:
// the health share of α split equally over canaries, then half to the
// error check and half over the latency quantiles.
func healthLevels(c Criteria, canaries int) (errLevel, latLevel float64) {
	per := c.alpha() * healthAlphaShare / float64(canaries)
	if q := len(c.Health.Quantiles); q > 0 {
		return per / 2, per / 2 / float64(q)
	}
	return per, 0
}

// add records the latency of an ok page from track i.
func (hs *healthState) add(i int, latency time.Duration) {
	if hs.lat[i].tree != nil {
		hs.lat[i].add(latency)
	}
}

func (hs *healthState) reset() {
	for i := range hs.lat {
		if hs.lat[i].tree != nil {
			hs.lat[i].reset()
		}
	}
}

// judge reports whether some canary is shown worse than the baseline by
// more than a margin (fail), and whether a PASS must wait (held): a check
// has no data yet, or its observed values are past the margin while its
// test has not decided. Waiting only removes PASSes, so the guarantees
// hold; it keeps a gate from passing a canary whose numbers look bad
// because the split decided first.
func (hs *healthState) judge(tracks []track) (fail, held bool) {
	b := &tracks[hs.base]
	for _, ci := range hs.canaries {
		c := &tracks[ci]
		switch hs.errorCheck(c, b) {
		case checkRegressed:
			return true, false
		case checkHeld, checkNoData:
			held = true
		}
		for qi := range hs.lt {
			switch hs.latencyCheck(qi, ci) {
			case checkRegressed:
				return true, false
			case checkHeld, checkNoData:
				held = true
			}
		}
	}
	return false, held
}

// checkState is where one health check stands.
type checkState int

const (
	checkOK        checkState = iota // not shown worse; observed inside the margin
	checkHeld                        // observed past the margin, not shown yet
	checkNoData                      // a side has no pages yet
	checkRegressed                   // shown worse by more than the margin
	checkFew                         // too few pages beyond a tail quantile to read it; does not hold
)

var checkNames = [...]string{HealthOK, HealthHeld, HealthNoData, HealthRegressed, HealthFew}

func (s checkState) String() string { return checkNames[s] }

// errorCheck judges the canary's errors against the baseline's.
func (hs *healthState) errorCheck(c, b *track) checkState {
	state, _ := hs.h.errorState(c.errs, c.count, b.errs, b.count, hs.logCErr)
	return state
}

// errorState judges ec errors of nc canary pages against eb of nb
// baseline pages at log(1/level) logC, with the log e-value behind it (0
// while the observed rates are inside the margin, where it is at most 0
// and cannot decide).
func (h *Health) errorState(ec, nc, eb, nb int, logC float64) (checkState, float64) {
	switch {
	case nc == 0 || nb == 0:
		return checkNoData, 0
	case float64(ec)/float64(nc) <= h.errorLimit(float64(eb)/float64(nb)):
		return checkOK, 0
	}
	logE := h.errorLogE(ec, nc, eb, nb)
	if logE >= logC {
		return checkRegressed, logE
	}
	return checkHeld, logE
}

// latencyCheck judges quantile qi of canary track ci.
func (hs *healthState) latencyCheck(qi, ci int) checkState {
	lb, lc := &hs.lat[hs.base], &hs.lat[ci]
	if lb.n == 0 || lc.n == 0 {
		return checkNoData
	}
	if hs.maybePast(qi, lb, lc) && hs.latencyRegressed(qi, lb, lc) {
		return checkRegressed
	}
	p := hs.lt[qi].p
	switch {
	case float64(min(lb.n, lc.n))*(1-p) < minTail:
		return checkFew
	case lc.quantile(p) > hs.h.latencyLimit(lb.quantile(p)):
		return checkHeld
	}
	return checkOK
}

// minTail is how many values beyond a quantile each side needs before its
// empirical quantile can hold a PASS back: a p99 read from four values
// above it is mostly noise, and holding on it would delay healthy gates
// without protecting anyone (the test itself still fails a real
// regression).
const minTail = 10

// maybePast reports whether the test could reject: only when the canary's
// empirical quantile lies in a bucket above lim of the top of the
// baseline's. Otherwise, at the split point of the baseline's empirical
// quantile, both sides' counts sit on their nulls' side, both e-values
// are at most 1, and so is their product.
func (hs *healthState) maybePast(qi int, lb, lc *latencies) bool {
	p := hs.lt[qi].p
	jb, jc := lb.bucket(lb.rank(p)), lc.bucket(lc.rank(p))
	return jc > hs.edgeLim[jb]
}

// latencyRegressed runs the split-point test, looking only at the split
// points where neither side alone is decisive.
func (hs *healthState) latencyRegressed(qi int, lb, lc *latencies) bool {
	t := hs.lt[qi]
	last := results.LatencyBuckets - 1
	hi := last
	if kb := int(t.aloneBelow[lb.n]); kb <= lb.n {
		hi = lb.bucket(kb) // past it the baseline's count below alone reaches kb
	}
	lo := 0
	if kc := int(t.aloneAbove[lc.n]); kc <= lc.n {
		// Before it the canary's count above lim alone reaches kc.
		q := lc.bucket(lc.n - kc + 1)
		lo = sort.SearchInts(hs.edgeLim, q)
	}
	if lo > hi {
		return true
	}
	// The split point at the baseline's empirical quantile is usually the
	// weakest: one look there settles most pages without a scan.
	jb := min(max(lb.bucket(lb.rank(t.p)), lo), hi)
	for c := range hs.cells(lb, lc, jb, jb) {
		if t.side(&t.below, c.below, lb.n)+t.side(&t.above, c.above, lc.n) < t.logC {
			return false
		}
	}
	logE, _ := t.weakest(lb.n, lc.n, hs.cells(lb, lc, lo, hi))
	return logE >= t.logC
}

// cells yields the split-point cells of buckets lo..hi: for x in bucket
// j, the baseline values in buckets below j are below x, and the canary
// values in buckets above edgeLim[j] are above lim(x).
func (hs *healthState) cells(lb, lc *latencies, lo, hi int) func(yield func(cell) bool) {
	return func(yield func(cell) bool) {
		below := lb.before(lo)
		ptr := hs.edgeLim[lo] + 1
		upTo := lc.before(ptr)
		for j := lo; j <= hi; j++ {
			for ; ptr <= hs.edgeLim[j]; ptr++ {
				upTo += int(lc.counts[ptr])
			}
			above := lc.n - upTo
			if j == results.LatencyBuckets-1 {
				above = 0
			}
			at, _ := results.LatencyBucketRange(j)
			if !yield(cell{below: below, above: above, at: at}) {
				return
			}
			below += int(lb.counts[j])
		}
	}
}

// latencyEvidence is the test's weakest log e-value over every split
// point and where it is, for the report.
func (hs *healthState) latencyEvidence(qi int, lb, lc *latencies) (float64, time.Duration) {
	return hs.lt[qi].weakest(lb.n, lc.n, hs.cells(lb, lc, 0, results.LatencyBuckets-1))
}
