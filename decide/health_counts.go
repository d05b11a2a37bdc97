package decide

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/canary-gate/canary/internal/textfmt"
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
	r := &HealthResult{
		Baseline: h.Baseline, Witness: "requests", Confidence: 1 - c.alpha()*healthAlphaShare,
		ErrorMargin: h.ErrorMarginString(), LatencyMargin: h.LatencyMarginString(), Method: HealthMethod,
	}
	b := sorted(counts[h.Baseline])
	for _, v := range canaries {
		cv := sorted(counts[v])
		r.Checks = append(r.Checks, h.countErrors(v, cv, b, errLevel))
		for _, q := range h.Quantiles {
			r.Checks = append(r.Checks, h.bucketLatency(v, q, cv, b, latLevel))
		}
	}
	for _, v := range append([]string{h.Baseline}, canaries...) {
		bs := sorted(counts[v]).Buckets
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

func (h *Health) countErrors(canary string, c, b Counts, level float64) HealthCheck {
	nc, ec, nb, eb := round(c.Requests), round(c.Errors), round(b.Requests), round(b.Errors)
	k := HealthCheck{Canary: canary, Check: "errors", Status: HealthNoData, BaselinePages: nb, CanaryPages: nc,
		Threshold: 1 / level, Level: level, EValue: 1}
	if nc == 0 || nb == 0 {
		return k
	}
	k.Baseline, k.Value = textfmt.Percent(eb, nb), textfmt.Percent(ec, nc)
	rb := float64(eb) / float64(nb)
	k.Limit = ptr(roundPct(h.errorLimit(rb) * 100))
	k.Status = HealthOK
	if float64(ec)/float64(nc) > h.errorLimit(rb) {
		k.Status = HealthHeld
		k.EValue = math.Exp(math.Min(h.errorLogE(ec, nc, eb, nb), 700))
		if k.EValue >= k.Threshold {
			k.Status = HealthRegressed
		}
	}
	return k
}

// bucketLatency bounds quantile q from cumulative buckets: the baseline's
// quantile is at most the first edge with enough requests below it, the
// canary's at least the last edge with enough above it.
func (h *Health) bucketLatency(canary string, q float64, c, b Counts, level float64) HealthCheck {
	nc, nb := total(c.Buckets), total(b.Buckets)
	k := HealthCheck{Canary: canary, Check: "latency " + QuantileName(q), Quantile: q, Status: HealthNoData,
		BaselinePages: nb, CanaryPages: nc, Level: level}
	if nc == 0 || nb == 0 {
		return k
	}
	k.Status = HealthOK
	k.Baseline, k.Value = ms(bucketQuantile(b.Buckets, q)), ms(bucketQuantile(c.Buckets, q))
	below := quantileTest(q, level/2)
	above := quantileTest(1-q, level/2)
	if kb := walkMin(nb, 1, func(S int) bool { return below.rejects(S, nb) }); kb <= nb {
		// The kb-th smallest request took at most the first edge that
		// counts kb requests.
		for _, bk := range b.Buckets {
			if round(bk.Count) >= kb && bk.Le < Inf {
				k.BaselineHigh = ptr(ms(bk.Le))
				k.Limit = ptr(ms(h.latencyLimit(bk.Le)))
				break
			}
		}
	}
	if ka := walkMin(nc, 1, func(S int) bool { return above.rejects(S, nc) }); ka <= nc {
		// The ka-th largest took more than the last edge below which at
		// most nc − ka requests fall.
		low := time.Duration(0)
		for _, bk := range c.Buckets {
			if round(bk.Count) <= nc-ka {
				low = bk.Le
			}
		}
		k.CanaryLow = ptr(ms(low))
	}
	// Observed past the margin only when the buckets say so whatever the
	// values inside them: the canary's quantile bucket starts above what
	// the margin allows at the top of the baseline's. Reading both at
	// their tops would hold a PASS on a p99 that merely crossed an edge.
	tail := float64(min(nb, nc)) * (1 - q)
	switch {
	case k.Limit != nil && k.CanaryLow != nil && *k.CanaryLow > *k.Limit:
		k.Status = HealthRegressed
	case tail < minTail:
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
