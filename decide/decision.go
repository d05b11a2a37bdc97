package decide

import (
	"math"

	"github.com/canary-gate/canary/internal/textfmt"
)

// Method names the statistics behind every Decision.
const Method = "anytime-valid likelihood-ratio tests (Ville's inequality): PASS by one-sided tests at each band edge (intersection-union), FAIL by intervals simultaneous over versions"

// Decision explains the current verdict. See the Sequential doc for cost.
func (s *Sequential) Decision() Decision {
	d := Decision{
		Verdict:    s.verdict,
		Expect:     s.c.Expect.String(),
		N:          s.n,
		Pages:      s.pages,
		Unit:       s.unit(),
		Versions:   s.versionResults(),
		Errors:     s.errorBudget(),
		Tolerance:  s.c.Tolerance,
		Confidence: s.c.Confidence,
		Method:     Method,
		Health:     s.healthResult(),
	}
	if d.Verdict == Inconclusive {
		d.MorePages = s.morePages()
	}
	d.Reason = reason(d, s.nExact)
	return d
}

// unit is what the evidence counts: pages, a server's requests, or what
// SetUnit named.
func (s *Sequential) unit() string {
	switch {
	case s.unitName != "":
		return s.unitName
	case s.counted != nil:
		return "request"
	}
	return "page"
}

// SetUnit names what the evidence counts in every sentence, e.g.
// "response" for an app other than Bookinfo, whose answers are no pages.
func (s *Sequential) SetUnit(unit string) { s.unitName = unit }

func (s *Sequential) versionResults() []VersionResult {
	out := make([]VersionResult, 0, len(s.tracks)+1)
	for i := range s.tracks {
		out = append(out, s.versionResult(&s.tracks[i]))
	}
	if s.strays > 0 && s.index(s.strayName) < 0 {
		out = append(out, s.strayResult(s.strayName, s.strays))
	}
	return out
}

func (s *Sequential) versionResult(tr *track) VersionResult {
	switch {
	case tr.share == 0:
		return s.strayResult(tr.name, tr.count)
	case tr.tests == nil: // expected at 100%
		v := s.exactResult(tr.name, 100, tr.count, s.n-tr.count)
		v.Low, v.High = 100-v.High, 100-v.Low
		return v
	}
	return splitResult(tr, s.n)
}

// splitResult describes a version expected strictly between 0% and 100%:
// its FAIL interval, its PASS parts and where they stand.
func splitResult(tr *track, n int) VersionResult {
	ts := tr.tests
	lo, hi := ts.bounds(tr.count, n)
	v := VersionResult{
		Version: tr.name, Expected: tr.share * 100, Count: tr.count,
		Share: textfmt.Percent(tr.count, n), Low: lo * 100, High: hi * 100,
	}
	for _, p := range [...]struct {
		t  *edgeTest
		sh shown
	}{{&ts.above, tr.above}, {&ts.below, tr.below}} {
		if shown, _ := p.t.trivial(); !shown {
			v.Tests = append(v.Tests, edgeResult(p.t, p.sh, tr.count, n))
		}
	}
	switch {
	case ts.outside(tr.count, n):
		v.Status = Outside
	case tr.above.ok && tr.below.ok:
		v.Status = Within
	}
	return v
}

// edgeResult reports one PASS part: its ratio at the page it was shown,
// or now while it is not.
func edgeResult(t *edgeTest, sh shown, count, n int) EdgeTest {
	r := EdgeTest{Side: "above", Edge: roundPct(t.p0 * 100), Threshold: math.Exp(t.logC), Ratio: t.ratio(count, n)}
	if !t.up {
		r.Side = "below"
	}
	if sh.ok {
		r.ShownAt, r.Ratio = sh.at, t.ratio(sh.count, sh.at)
	}
	return r
}

// strayResult describes a version expected at 0%.
func (s *Sequential) strayResult(name string, count int) VersionResult {
	return s.exactResult(name, 0, count, count)
}

// exactResult describes a version expected at exactly 0% or 100%, through
// its "others" count: pages that break the exact expectation. With none,
// the interval for their share is [0, 1 − α^(1/n)], from the test of "share
// ≥ p" whose statistic is (1 − p)^−n while no stray appears (a
// nonnegative supermartingale, so Ville applies). One such page is a stray
// and fails the version outright.
func (s *Sequential) exactResult(name string, expected float64, count, others int) VersionResult {
	v := VersionResult{Version: name, Expected: expected, Count: count, Share: textfmt.Percent(count, s.n)}
	switch {
	case others > 0:
		v.Status = Stray
		if expected == 100 {
			v.Status = Outside
		}
		lo, hi := newMixture(s.c.alpha(), [3]float64{1, 0.5, 1}).at(others, s.n).bounds()
		v.Low, v.High = lo*100, hi*100
	case s.n == 0:
		v.High = 100
	default:
		v.High = (1 - math.Pow(s.c.alpha(), 1/float64(s.n))) * 100
		if s.n >= s.nExact {
			v.Status = Within
		}
	}
	return v
}

func (s *Sequential) errorBudget() ErrorBudget {
	b := ErrorBudget{
		Budget:     s.c.MaxErrorRate * 100,
		Confidence: 1 - s.c.alpha()*errorAlphaShare,
		Status:     Within,
	}
	s.eachBucket(func(version string, pages, errs int) {
		b.Buckets = append(b.Buckets, s.errorBucket(version, pages, errs))
	})
	for _, k := range b.Buckets {
		if k.Status == Outside {
			b.Status = Outside
			break
		}
		if k.Status == Undecided {
			b.Status = Undecided
		}
	}
	return b
}

func (s *Sequential) errorBucket(version string, pages, errs int) ErrorBucket {
	ev := s.errMix.at(errs, pages)
	lo, hi := ev.bounds()
	k := ErrorBucket{
		Version: version, Pages: pages, Errors: errs,
		Rate: textfmt.Percent(errs, pages), Low: lo * 100, High: hi * 100,
	}
	r0 := s.c.MaxErrorRate
	switch {
	case s.errorsOver(errs, pages):
		k.Status = Outside
	case r0 > 0 && ev.highBelow(r0):
		k.Status = Within
	}
	return k
}

// morePages estimates how many more pages would decide if the observed
// shares and error rates held: the smallest m > n at which the split's
// parts would all be shown or one would fail, found by doubling and
// bisection on the same math, scaled up for pages without a version. When
// the split has decided but an error rate above the budget holds the PASS
// back, it is the pages until that rate would be shown above the budget.
// 0 means no estimate (no data, or a share on a band edge).
func (s *Sequential) morePages() int {
	if s.n == 0 {
		return 0
	}
	if !s.splitShown() {
		need := s.nExact
		if len(s.split) > 0 {
			need = firstAt(s.n, s.decidedAt)
		}
		if need <= s.n {
			return 0
		}
		return int(math.Ceil(float64(need-s.n) * float64(s.pages) / float64(s.n)))
	}
	if s.overBudget() {
		return s.errorPages()
	}
	return 0
}

// MorePages is morePages for a caller that stops a run itself (a passive
// gate's timeout): how many more pages or requests would likely decide if
// the observed shares held; 0 for no estimate.
func (s *Sequential) MorePages() int { return s.morePages() }

// splitShown reports whether the split alone would pass: every PASS part
// shown and enough clean pages for the exact versions.
func (s *Sequential) splitShown() bool {
	for _, i := range s.split {
		if !s.tracks[i].above.ok || !s.tracks[i].below.ok {
			return false
		}
	}
	return s.n >= s.nExact
}

// errorPages is morePages for the error buckets over budget: the fewest
// more pages (of all) after which one of them would be shown above it.
func (s *Sequential) errorPages() int {
	best := 0
	s.eachBucket(func(_ string, pages, errs int) {
		if pages == 0 || !s.over(pages, errs) {
			return
		}
		rate := float64(errs) / float64(pages)
		m := firstAt(pages, func(m int) bool {
			return s.errMix.at(int(math.Round(rate*float64(m))), m).lowAbove(s.c.MaxErrorRate)
		})
		if m == 0 {
			return
		}
		more := int(math.Ceil(float64(m-pages) * float64(s.pages) / float64(pages)))
		if best == 0 || more < best {
			best = more
		}
	})
	return best
}

// firstAt returns the smallest m > from at which ok holds (ok being
// monotone in m), by doubling and bisection; 0 if none below 2³⁰.
func firstAt(from int, ok func(m int) bool) int {
	const limit = 1 << 30
	lo, hi := from, 2*max(from, 1)
	for !ok(hi) {
		if hi > limit/2 {
			return 0
		}
		lo, hi = hi, 2*hi
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// decidedAt reports whether m pages with the observed shares would decide:
// some FAIL part would reject, or every PASS part not yet shown would be.
func (s *Sequential) decidedAt(m int) bool {
	within := true
	for _, i := range s.split {
		tr := &s.tracks[i]
		S := int(math.Round(float64(tr.count) / float64(s.n) * float64(m)))
		switch {
		case tr.tests.outside(S, m):
			return true
		case !tr.above.ok && !tr.tests.above.rejects(S, m), !tr.below.ok && !tr.tests.below.rejects(S, m):
			within = false
		}
	}
	return within
}
