package main

import (
	"math"
	"sync/atomic"
	"time"
)

const (
	fine       = 10 * time.Millisecond
	coarse     = time.Second
	maxSpan    = 30 * time.Minute // longer runs pile up in the last bucket
	fineSlots  = int(maxSpan / fine)
	coarseSlot = int(maxSpan / coarse)
)

// recorder counts arrivals per bucket, relative to the first arrival after
// the last reset. Arrays are fixed and updated with atomic adds, so the
// recording costs the same at any rate and never allocates.
type recorder struct {
	base   time.Time    // monotonic reference
	first  atomic.Int64 // ns after base of the first arrival, +1 (0 = none yet)
	last   atomic.Int64 // ns after base of the latest arrival
	count  atomic.Int64
	fine   []atomic.Int32
	coarse []atomic.Int32
}

func newRecorder(base time.Time) *recorder {
	return &recorder{base: base, fine: make([]atomic.Int32, fineSlots), coarse: make([]atomic.Int32, coarseSlot)}
}

func (r *recorder) arrive(now time.Time) {
	t := int64(now.Sub(r.base))
	if r.first.Load() == 0 {
		r.first.CompareAndSwap(0, t+1)
	}
	d := max(t-(r.first.Load()-1), 0) // a racing earlier arrival counts in bucket 0
	r.fine[min(int(d/int64(fine)), fineSlots-1)].Add(1)
	r.coarse[min(int(d/int64(coarse)), coarseSlot-1)].Add(1)
	r.count.Add(1)
	for {
		l := r.last.Load()
		if t <= l || r.last.CompareAndSwap(l, t) {
			return
		}
	}
}

// reset clears the buckets. Call it between runs, while no load is sent.
func (r *recorder) reset() {
	r.first.Store(0)
	r.last.Store(0)
	r.count.Store(0)
	for i := range r.fine {
		r.fine[i].Store(0)
	}
	for i := range r.coarse {
		r.coarse[i].Store(0)
	}
}

// Stats is what the benchmark script reads. Only buckets that lie wholly
// inside the requested duration are judged.
type Stats struct {
	Count          int64   `json:"count"`
	SpanSeconds    float64 `json:"span_s"`   // first to last arrival
	AvgRate        float64 `json:"avg_rate"` // (count-1)/span: arrivals are fenceposts
	Rate           float64 `json:"rate"`     // expected, from the query
	RateErr        float64 `json:"rate_err"` // AvgRate/Rate - 1
	Worst1sDev     float64 `json:"worst_1s_dev"`
	Worst10ms      int32   `json:"worst_10ms"`
	Expected10ms   float64 `json:"expected_10ms"`
	Worst10msRatio float64 `json:"worst_10ms_ratio"`
	CoV10ms        float64 `json:"cov_10ms"`
	Seconds        []int32 `json:"seconds"` // every 1 s bucket with arrivals
}

func (r *recorder) stats(rate float64, d time.Duration) Stats {
	s := Stats{Count: r.count.Load(), Rate: rate, Expected10ms: rate * fine.Seconds()}
	if f := r.first.Load(); f > 0 && s.Count > 1 {
		s.SpanSeconds = time.Duration(r.last.Load() - (f - 1)).Seconds()
		s.AvgRate = float64(s.Count-1) / s.SpanSeconds
	}
	n := 0
	for i := range r.coarse {
		if r.coarse[i].Load() > 0 {
			n = i + 1
		}
	}
	for i := range n {
		s.Seconds = append(s.Seconds, r.coarse[i].Load())
	}
	if rate <= 0 || d <= 0 {
		return s
	}
	s.RateErr = s.AvgRate/rate - 1
	for i := range min(int(d/coarse), coarseSlot) {
		s.Worst1sDev = max(s.Worst1sDev, math.Abs(float64(r.coarse[i].Load())-rate)/rate)
	}
	s.Worst10ms, s.CoV10ms = r.fineStats(min(int(d/fine), fineSlots), s.Expected10ms)
	s.Worst10msRatio = float64(s.Worst10ms) / s.Expected10ms
	return s
}

// fineStats returns the largest 10 ms bucket among the first n and the
// coefficient of variation of all n around the expected count.
func (r *recorder) fineStats(n int, expected float64) (worst int32, cov float64) {
	var sq float64
	for i := range n {
		c := r.fine[i].Load()
		worst = max(worst, c)
		sq += (float64(c) - expected) * (float64(c) - expected)
	}
	if n == 0 || expected == 0 {
		return worst, 0
	}
	return worst, math.Sqrt(sq/float64(n)) / expected
}
