package decide

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Counts are one version's requests in a window as a server reports them:
// Istio's istio_requests_total (Requests, and Errors for 5xx answers) and
// istio_request_duration_milliseconds buckets (Buckets, cumulative, by
// upper edge; none when the histogram was not read).
type Counts struct {
	Requests, Errors float64
	Buckets          []Bucket
}

// Bucket is a cumulative histogram bucket: Count requests took at most Le.
type Bucket struct {
	Le    time.Duration
	Count float64
}

// CountHealth judges c's health checks once, from counts per version over
// one window: the server's witness. One look at a fixed time is a valid
// stopping time for every test here, so each check keeps its level. The
// latency bounds can only fall on bucket edges: a quantile whose bounds
// share a bucket with the margin's limit cannot be shown past it, and the
// check says which edges it had. Nil when c has no health checks.
func CountHealth(c Criteria, counts map[string]Counts) *HealthResult {
	h := c.Health
	if h == nil {
		return nil
	}
	canaries := h.canaries(c.Expect)
	errLevel, latLevel := healthLevels(c, len(canaries))
	r := newHealthResult(c, "requests")
	versions := append([]string{h.Baseline}, canaries...)
	byVersion := make(map[string]Counts, len(versions))
	for _, v := range versions {
		byVersion[v] = sorted(counts[v])
	}
	b := byVersion[h.Baseline]
	for _, v := range canaries {
		cv := byVersion[v]
		r.Checks = append(r.Checks, h.errorResult(v, round(cv.Errors), round(cv.Requests), round(b.Errors), round(b.Requests), errLevel))
		for _, q := range h.Quantiles {
			r.Checks = append(r.Checks, h.bucketLatency(v, q, cv, b, latLevel))
		}
	}
	for _, v := range versions {
		bs := byVersion[v].Buckets
		n := total(bs)
		if n == 0 {
			continue
		}
		d := Distribution{Version: v}
		for _, bk := range bs {
			if bk.Le < Inf {
				d.Points = append(d.Points, CDFPoint{Ms: ms(bk.Le), Fraction: bk.Count / float64(n)})
			}
		}
		r.Distributions = append(r.Distributions, d)
	}
	return r
}

// bucketLatency runs the split-point test (see splitTest) once on
// cumulative buckets. The split points are cut at the baseline's edges:
// for x above edge e_j and up to the next, the baseline's requests up to
// e_j are below x, and the canary's above the first canary edge at or past
// lim(the next edge) are above lim(x). Values inside a bucket are never
// guessed, so the edges bound what a quantile can show.
func (h *Health) bucketLatency(canary string, q float64, c, b Counts, level float64) HealthCheck {
	nc, nb := total(c.Buckets), total(b.Buckets)
	k := HealthCheck{Canary: canary, Check: "latency " + QuantileName(q), Quantile: q, Status: HealthNoData,
		BaselinePages: nb, CanaryPages: nc, Level: level, Threshold: 1 / level, EValue: 1}
	if nc == 0 || nb == 0 {
		return k
	}
	k.Status = HealthOK
	k.Baseline, k.Value = ms(bucketQuantile(b.Buckets, q)), ms(bucketQuantile(c.Buckets, q))
	k.Limit = ptr(ms(h.latencyLimit(bucketQuantile(b.Buckets, q))))
	t := newSplitTest(q, level, 0)
	// upTo is the canary's count certainly at most y: its count at the
	// first edge at or past y.
	upTo := func(y time.Duration) int {
		for _, bk := range c.Buckets {
			if bk.Le >= y {
				return round(bk.Count)
			}
		}
		return nc
	}
	cells := func(yield func(cell) bool) {
		prev, below := time.Duration(0), 0
		for _, bk := range b.Buckets {
			above := 0
			if bk.Le < Inf {
				above = nc - upTo(h.latencyLimit(bk.Le))
			}
			if !yield(cell{below: below, above: above, at: prev}) || bk.Le == Inf {
				return
			}
			prev, below = bk.Le, round(bk.Count)
		}
		yield(cell{below: below, at: prev}) // past the last edge
	}
	logE, at := t.weakest(nb, nc, cells)
	k.EValue, k.Split = math.Exp(math.Min(logE, 700)), ptr(ms(at))
	// Observed past the margin only when the buckets say so whatever the
	// values inside them: the canary's quantile bucket starts above what
	// the margin allows at the top of the baseline's. Reading both at
	// their tops would hold a PASS on a p99 that merely crossed an edge.
	switch {
	case logE >= t.logC:
		k.Status = HealthRegressed
	case float64(min(nb, nc))*(1-q) < minTail:
		k.Status = HealthFew
	case bucketFloor(c.Buckets, q) > h.latencyLimit(bucketQuantile(b.Buckets, q)):
		k.Status = HealthHeld
	}
	return k
}

// Inf is the upper edge of the last bucket, le="+Inf".
const Inf = time.Duration(math.MaxInt64)

// sorted returns c with its buckets in ascending order of edge.
func sorted(c Counts) Counts {
	c.Buckets = slices.Clone(c.Buckets)
	slices.SortFunc(c.Buckets, func(a, b Bucket) int { return cmp.Compare(a.Le, b.Le) })
	return c
}

// bucketQuantile is the upper edge of the bucket holding the q-quantile.
func bucketQuantile(bs []Bucket, q float64) time.Duration {
	_, top := bucketOfQuantile(bs, q)
	return top
}

// bucketFloor is the lower edge of the bucket holding the q-quantile.
func bucketFloor(bs []Bucket, q float64) time.Duration {
	floor, _ := bucketOfQuantile(bs, q)
	return floor
}

func bucketOfQuantile(bs []Bucket, q float64) (floor, top time.Duration) {
	want := int(math.Ceil(q * float64(total(bs))))
	for _, b := range bs {
		if round(b.Count) >= want {
			return floor, b.Le
		}
		floor = b.Le
	}
	return floor, 0
}

// total is the cumulative count of the last (+Inf) bucket; bs is sorted.
func total(bs []Bucket) int {
	if len(bs) == 0 {
		return 0
	}
	return round(bs[len(bs)-1].Count)
}

func round(x float64) int { return int(math.Round(x)) }
