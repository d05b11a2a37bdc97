package results

import (
	"slices"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/internal/textfmt"
)

// Window is the aggregate of the requests sent in [Start, End): counts per
// version and outcome, per HTTP status, and a latency histogram per version
// (two significant digits, 0 to 60 s; see Quantile). The Aggregator makes
// windows; Merge combines them exactly.
type Window struct {
	Start, End time.Time
	// Counts is the number of requests per version ("" when the classifier
	// saw none) and outcome.
	Counts map[Key]int
	// Status is the number of requests per HTTP status; 0 is no response.
	Status map[int]int
	// Server holds the requests each version served by the server's own
	// count over the window (e.g. the increase of Istio's
	// istio_requests_total by destination_version), set by the caller;
	// nil when there are none.
	Server map[string]float64
	// ServerError says why the server's counts for the window are missing
	// when they were asked for and could not be had ("" otherwise).
	ServerError string

	latency map[string]*histogram // per version
}

// Key is a version and an outcome, the unit a Window counts by.
type Key struct {
	Version string
	Outcome classify.Outcome
}

func newWindow(start, end time.Time) *Window {
	return &Window{
		Start: start, End: end,
		Counts:  make(map[Key]int, 8),
		Status:  make(map[int]int, 4),
		latency: make(map[string]*histogram, 4),
	}
}

// CountWindow is a window of requests known only by their counts, as a
// server reports them (a passive soak's Istio counts): no latencies.
func CountWindow(start, end time.Time) *Window { return newWindow(start, end) }

// AddCount counts n requests from version with one outcome and status.
func (w *Window) AddCount(version string, outcome classify.Outcome, status, n int) {
	if n <= 0 {
		return
	}
	w.Counts[Key{version, outcome}] += n
	w.Status[status] += n
}

// add counts one record; it never allocates once the record's version has
// been seen in the window.
func (w *Window) add(r *Record) {
	w.Counts[Key{r.Version, r.Outcome}]++
	w.Status[r.Status]++
	h := w.latency[r.Version]
	if h == nil {
		h = &histogram{}
		w.latency[r.Version] = h
	}
	h.record(r.Latency)
}

// Merge returns the aggregate of w and o: the earlier start, the later end,
// and counts, histograms and server counts added. It is exact and
// associative, and merging the windows of a split set of records equals
// aggregating them in one pass. Neither input is changed.
func (w Window) Merge(o Window) Window {
	return Sum(w, o)
}

// Sum returns the aggregate of ws in one pass, as folding them with Merge
// would: the earliest start, the latest end, and counts, histograms and
// server counts added. It is the zero-span empty window for no windows.
// None of ws is changed.
func Sum(ws ...Window) Window {
	m := newWindow(time.Time{}, time.Time{})
	for i := range ws {
		m.addWindow(&ws[i])
	}
	m.pack()
	return *m
}

// addWindow adds o into w, widening w's span to cover o.
func (w *Window) addWindow(o *Window) {
	if o.Start.Before(w.Start) || w.Start.IsZero() {
		w.Start = o.Start
	}
	if o.End.After(w.End) {
		w.End = o.End
	}
	for k, n := range o.Counts {
		w.Counts[k] += n
	}
	for s, n := range o.Status {
		w.Status[s] += n
	}
	for v, n := range o.Server {
		if w.Server == nil {
			w.Server = make(map[string]float64, len(o.Server))
		}
		w.Server[v] += n
	}
	for v, h := range o.latency {
		if w.latency[v] == nil {
			w.latency[v] = &histogram{}
		}
		w.latency[v].add(h)
	}
}

// pack puts the histograms in their compact, canonical form.
func (w *Window) pack() {
	for _, h := range w.latency {
		h.pack()
	}
}

// Total is the number of requests in the window.
func (w Window) Total() int {
	n := 0
	for _, c := range w.Counts {
		n += c
	}
	return n
}

// Count is the number of requests from version ("" for none), any outcome.
func (w Window) Count(version string) int {
	n := 0
	for k, c := range w.Counts {
		if k.Version == version {
			n += c
		}
	}
	return n
}

// Errors is the number of requests from version whose outcome is not OK.
func (w Window) Errors(version string) int {
	n := 0
	for k, c := range w.Counts {
		if k.Version == version && k.Outcome != classify.OK {
			n += c
		}
	}
	return n
}

// ErrorRate is the percentage of all requests whose outcome is not OK,
// 0 for an empty window.
func (w Window) ErrorRate() float64 {
	errs := 0
	for k, c := range w.Counts {
		if k.Outcome != classify.OK {
			errs += c
		}
	}
	return textfmt.Percent(errs, w.Total())
}

// Versions returns the named versions with requests in the window, sorted.
func (w Window) Versions() []string {
	var vs []string
	for k := range w.Counts {
		if k.Version != "" && !slices.Contains(vs, k.Version) {
			vs = append(vs, k.Version)
		}
	}
	slices.Sort(vs)
	return vs
}

// Quantile returns the q-quantile (0.5, 0.9, 0.99…) of the latencies of
// version's requests: the top of the histogram bucket that holds it, at
// most 0.8% above the true value (HdrHistogram's convention). It is 0 when
// the version has no requests.
func (w Window) Quantile(version string, q float64) time.Duration {
	h := w.latency[version]
	if h == nil {
		return 0
	}
	return h.quantile(q)
}

// Slower is the number of version's requests certainly slower than d:
// those in histogram buckets whose smallest value exceeds d.
func (w Window) Slower(version string, d time.Duration) int {
	h := w.latency[version]
	if h == nil {
		return 0
	}
	return int(h.above(d))
}

// EachLatency calls fn for each nonempty latency bucket of version's
// requests, in ascending order, with the bucket's top (the largest
// latency, to the microsecond, that it counts) and its count.
func (w Window) EachLatency(version string, fn func(top time.Duration, n int)) {
	h := w.latency[version]
	if h == nil {
		return
	}
	h.each(func(i int, n uint64) {
		_, top := bucketRange(i)
		fn(time.Duration(top)*time.Microsecond, int(n))
	})
}
