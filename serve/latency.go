package serve

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// histogram is a page latency histogram as a gate's JSON report carries
// it (attack.Histogram): cumulative counts per upper bound in seconds.
type histogram struct {
	Bounds []float64 `json:"le_seconds"`
	Counts []uint64  `json:"counts"`
	Count  uint64    `json:"count"`
	Sum    float64   `json:"sum_seconds"`
}

// latencies is canary_page_duration_seconds: every gate's and load's page
// latencies summed per version. The reports carry exact counts in Istio's
// request-duration buckets, and cumulative counts with the same bounds
// add up bucket by bucket, so the sums are exact too: a HistogramVec
// could only take the pages one by one, which the reports do not keep.
type latencies struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	by   map[string]*histogram
}

func newLatencies() *latencies {
	return &latencies{
		desc: prometheus.NewDesc("canary_page_duration_seconds",
			"Time to each page the gates and loads fetched, by the version that served it (\"\" when none did); Istio's request-duration buckets.",
			[]string{"version"}, nil),
		by: map[string]*histogram{},
	}
}

// add sums h into version's histogram. A histogram with other bounds than
// the ones already summed (a canary of another release) is not added, and
// add says so: its counts would land in the wrong buckets.
func (l *latencies) add(version string, h histogram) bool {
	if len(h.Bounds) == 0 || len(h.Counts) != len(h.Bounds) {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sum, ok := l.by[version]
	if !ok {
		l.by[version] = &histogram{Bounds: slices.Clone(h.Bounds), Counts: slices.Clone(h.Counts), Count: h.Count, Sum: h.Sum}
		return true
	}
	if !slices.Equal(sum.Bounds, h.Bounds) {
		return false
	}
	for i, n := range h.Counts {
		sum.Counts[i] += n
	}
	sum.Count += h.Count
	sum.Sum += h.Sum
	return true
}

func (l *latencies) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *latencies) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for v, h := range l.by {
		buckets := make(map[float64]uint64, len(h.Bounds))
		for i, b := range h.Bounds {
			buckets[b] = h.Counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(l.desc, h.Count, h.Sum, buckets, v)
	}
}
