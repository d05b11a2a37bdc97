package results

import (
	"encoding/binary"
	"math/bits"
	"time"
)

// Latency histogram layout: HdrHistogram's log-linear buckets at two
// significant digits, over whole microseconds from 0 to 60 s. Values below
// 256 µs have a bucket each; above, each power of two [2^k, 2^(k+1)) is cut
// into 128 equal buckets, so a bucket is at most 1/128 (0.8%) of its values
// wide. Longer latencies count in the 60 s bucket.
const (
	histSubBits   = 8
	histHalf      = 1 << (histSubBits - 1) // 128
	histMaxMicros = 60_000_000
	histBuckets   = 20 * histHalf // bucketOf(histMaxMicros) = 2532
)

// histogram counts latencies per bucket. While a window is open it records
// into dense counts; once handed out it is packed into uvarint pairs (gap
// from the previous nonzero bucket, count), a few hundred bytes instead of
// 20 KiB.
//
// Merge is exact: a value's bucket is a pure function of the value, packing
// is lossless, and merging adds integer counts bucket by bucket. So merging
// the histograms of any partition of the records, in any grouping or order,
// gives the counts a single pass over all of them gives (see
// TestWindowMergeProperty). Only the bucket, not the value, is kept, and
// quantiles are read to within 0.8%.
type histogram struct {
	live   []uint64 // dense counts, len histBuckets; nil when packed
	packed []byte
}

// bucketOf maps microseconds to a bucket: k·128 + v>>k with k the number of
// bits of v beyond 8 (0 for v < 256).
func bucketOf(us int64) int {
	us = min(max(us, 0), histMaxMicros)
	v := uint64(us)
	k := max(bits.Len64(v)-histSubBits, 0)
	return k*histHalf + int(v>>k)
}

// bucketRange is the smallest and largest microsecond value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	k := max(i/histHalf-1, 0)
	sub := int64(i - k*histHalf)
	return sub << k, (sub+1)<<k - 1
}

// LatencyBuckets is the number of latency buckets; LatencyBucket and
// LatencyBucketRange expose the layout to tests that count latencies the
// same way (decide's health checks), so both read quantiles alike.
const LatencyBuckets = histBuckets

// LatencyBucket is the bucket that counts d.
func LatencyBucket(d time.Duration) int { return bucketOf(d.Microseconds()) }

// LatencyBucketRange is the smallest and largest latency bucket i counts,
// to the microsecond (the last bucket also counts everything above 60 s).
func LatencyBucketRange(i int) (lo, hi time.Duration) {
	l, h := bucketRange(i)
	return time.Duration(l) * time.Microsecond, time.Duration(h) * time.Microsecond
}

// record counts one latency.
func (h *histogram) record(d time.Duration) {
	h.unpack()
	h.live[bucketOf(d.Microseconds())]++
}

// unpack makes the counts dense for recording or adding.
func (h *histogram) unpack() {
	if h.live != nil {
		return
	}
	h.live = make([]uint64, histBuckets)
	h.each(func(i int, n uint64) { h.live[i] += n })
	h.packed = nil
}

// pack stores the nonzero counts compactly; it is the canonical form.
func (h *histogram) pack() {
	if h.live == nil {
		return
	}
	var out []byte
	last := 0
	for i, n := range h.live {
		if n > 0 {
			out = binary.AppendUvarint(out, uint64(i-last))
			out = binary.AppendUvarint(out, n)
			last = i
		}
	}
	h.packed, h.live = out, nil
}

// add adds the counts of o to h.
func (h *histogram) add(o *histogram) {
	h.unpack()
	o.each(func(i int, n uint64) { h.live[i] += n })
}

// each calls fn for every nonzero bucket in ascending order.
func (h *histogram) each(fn func(i int, n uint64)) {
	if h.live != nil {
		for i, n := range h.live {
			if n > 0 {
				fn(i, n)
			}
		}
		return
	}
	b, i := h.packed, 0
	for len(b) > 0 {
		gap, k := binary.Uvarint(b)
		n, m := binary.Uvarint(b[k:])
		if k <= 0 || m <= 0 {
			return // unreachable: pack writes whole pairs
		}
		i += int(gap)
		fn(i, n)
		b = b[k+m:]
	}
}

// count is the number of latencies recorded.
func (h *histogram) count() uint64 {
	var total uint64
	h.each(func(_ int, n uint64) { total += n })
	return total
}

// quantile returns the smallest bucket top t such that at least a fraction
// q of the latencies are ≤ t (HdrHistogram's convention: within 0.8% above
// the true value). It is 0 for an empty histogram.
func (h *histogram) quantile(q float64) time.Duration {
	total := h.count()
	if total == 0 {
		return 0
	}
	rank := uint64(q * float64(total))
	if float64(rank) < q*float64(total) {
		rank++ // ceil
	}
	rank = min(max(rank, 1), total)
	var seen uint64
	top := int64(-1)
	h.each(func(i int, n uint64) {
		seen += n
		if top < 0 && seen >= rank {
			_, top = bucketRange(i)
		}
	})
	return time.Duration(top) * time.Microsecond
}

// above counts latencies certainly longer than d: those in buckets whose
// smallest value exceeds d.
func (h *histogram) above(d time.Duration) uint64 {
	limit := d.Microseconds()
	var n uint64
	h.each(func(i int, c uint64) {
		if lo, _ := bucketRange(i); lo > limit {
			n += c
		}
	})
	return n
}
