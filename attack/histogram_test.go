package attack

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLatencyHistogram: latencies land in Istio's buckets with Prometheus'
// "le" meaning (a latency equal to a bound is in that bound's bucket), the
// counts are cumulative, and the sum is exact.
func TestLatencyHistogram(t *testing.T) {
	if got, want := len(buckets{}.counts), len(LatencyBounds)+1; got != want {
		t.Fatalf("buckets hold %d counts, want %d (one per bound and +Inf)", got, want)
	}
	for _, c := range []struct {
		name string
		lat  []time.Duration
		want []uint64 // cumulative counts of the first five bounds: 0.5, 1, 5, 10, 25 ms
		inf  uint64   // above the last bound
	}{
		{"zero", []time.Duration{0}, []uint64{1, 1, 1, 1, 1}, 0},
		{"on a bound", []time.Duration{500 * time.Microsecond, time.Millisecond}, []uint64{1, 2, 2, 2, 2}, 0},
		{"just above a bound", []time.Duration{500*time.Microsecond + 1, 10*time.Millisecond + 1}, []uint64{0, 1, 1, 1, 2}, 0},
		{"above every bound", []time.Duration{2 * time.Hour, 3 * time.Millisecond}, []uint64{0, 0, 1, 1, 1}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b buckets
			var sum time.Duration
			for _, d := range c.lat {
				b.add(d)
				sum += d
			}
			h := b.histogram()
			if diff := cmp.Diff(c.want, h.Counts[:5]); diff != "" {
				t.Errorf("cumulative counts (-want +got):\n%s", diff)
			}
			if last := h.Counts[len(h.Counts)-1]; h.Count != uint64(len(c.lat)) || h.Count-last != c.inf {
				t.Errorf("count %d, %d above the last bound; want %d and %d", h.Count, h.Count-last, len(c.lat), c.inf)
			}
			if h.Sum != sum.Seconds() {
				t.Errorf("sum %v s, want %v", h.Sum, sum.Seconds())
			}
		})
	}
}
