package attack

import (
	"slices"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/canary-gate/canary/classify"
)

const (
	// batchSize is how many samples a worker buffers before it takes the
	// shared lock: one lock per batch instead of one per request, and a few
	// KB per worker instead of a histogram per worker (fortio's Transfer).
	batchSize = 128
	// maxVersions bounds the per-version tables; a garbage target cannot
	// make them grow. Further versions are counted under otherVersion.
	maxVersions  = 32
	otherVersion = "(other)"
	// keepFailures is how many recent failed samples a summary lists.
	keepFailures = 20
	// Histogram range in microseconds, at 2 significant digits.
	histMin, histMax, histDigits = 1, 60_000_000, 2
)

// sample is what a worker remembers about one request until the next
// transfer: no strings, no body.
type sample struct {
	lat     time.Duration
	status  int32
	outcome classify.Outcome
	version uint8 // index into the worker's versions
}

// Failure is a recent failed sample, with the ids needed to find its trace.
type Failure struct {
	At      time.Time        `json:"at"`
	Latency time.Duration    `json:"latency"`
	Status  int              `json:"status"`
	Version string           `json:"version,omitempty"`
	Outcome classify.Outcome `json:"-"`
	Name    string           `json:"outcome"`
	Reason  string           `json:"reason,omitempty"`
	ID      string           `json:"x_request_id"`
	Trace   string           `json:"traceparent"`
	Link    string           `json:"link,omitempty"` // the trace in Jaeger's UI (Summary.LinkTraces)
}

// workerStats is one worker's buffer. The worker holds mu for a few
// nanoseconds per request; only Snapshot contends for it.
type workerStats struct {
	mu       sync.Mutex
	samples  []sample
	versions []string // interned: never aliases a body buffer
	failures []Failure
	next     int // ring position in failures
}

func newWorkerStats() *workerStats {
	return &workerStats{samples: make([]sample, 0, batchSize)}
}

// versionIndex interns v. The classifier may return a string that aliases
// the body buffer the worker reuses, so new names are copied.
func (ws *workerStats) versionIndex(v string) uint8 {
	for i, name := range ws.versions {
		if name == v {
			return uint8(i)
		}
	}
	if len(ws.versions) >= maxVersions-1 { // the last slot is for the rest
		if len(ws.versions) == maxVersions-1 {
			ws.versions = append(ws.versions, otherVersion)
		}
		return maxVersions - 1
	}
	ws.versions = append(ws.versions, string([]byte(v)))
	return uint8(len(ws.versions) - 1)
}

// addFailure keeps the last keepFailures failures of this worker.
func (ws *workerStats) addFailure(f Failure) {
	if len(ws.failures) < keepFailures {
		ws.failures = append(ws.failures, f)
		return
	}
	ws.failures[ws.next] = f
	ws.next = (ws.next + 1) % keepFailures
}

// versionStats accumulates one version across all workers.
type versionStats struct {
	name     string
	outcomes []uint64 // by classify.Outcome
	hist     *hdrhistogram.Histogram
	buckets  buckets
}

// LatencyBounds are the upper bounds, in seconds, of the latency histograms
// in a Summary: Istio's default buckets for istio_request_duration_milliseconds
// (0.5 ms to 1 h), so that the client's histogram of a version lines up
// bucket for bucket with its sidecars'.
var LatencyBounds = []float64{0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600}

// latencyBounds are LatencyBounds as durations, for the per-request path.
var latencyBounds = func() []time.Duration {
	out := make([]time.Duration, len(LatencyBounds))
	for i, b := range LatencyBounds {
		out[i] = time.Duration(b * float64(time.Second))
	}
	return out
}()

// buckets counts latencies exactly (not at the HDR histogram's resolution)
// per LatencyBounds bucket, the last for latencies above every bound.
type buckets struct {
	counts [20]uint64 // len(LatencyBounds)+1; checked by a test
	sum    time.Duration
}

func (b *buckets) add(d time.Duration) {
	i, _ := slices.BinarySearch(latencyBounds, d) // the first bound >= d
	b.counts[i]++
	b.sum += d
}

// aggregate is the merged state of a run, guarded by mu. Lock order is
// always workerStats.mu before aggregate.mu.
type aggregate struct {
	mu        sync.Mutex
	completed uint64
	byName    map[string]*versionStats
	versions  []*versionStats // first-seen order
	all       *hdrhistogram.Histogram
	buckets   buckets
	status    map[int]uint64
	failures  []Failure // newest last, at most keepFailures
}

func newAggregate() *aggregate {
	return &aggregate{
		byName: make(map[string]*versionStats),
		all:    hdrhistogram.New(histMin, histMax, histDigits),
		status: make(map[int]uint64),
	}
}

// transfer moves everything ws holds into a and empties ws. The caller holds
// ws.mu.
func (a *aggregate) transfer(ws *workerStats) {
	if len(ws.samples) == 0 && len(ws.failures) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var byIndex [maxVersions]*versionStats
	for i, name := range ws.versions {
		byIndex[i] = a.version(name)
	}
	for _, s := range ws.samples {
		vs := byIndex[s.version]
		for int(s.outcome) >= len(vs.outcomes) {
			vs.outcomes = append(vs.outcomes, 0)
		}
		vs.outcomes[s.outcome]++
		us := min(max(s.lat.Microseconds(), histMin), histMax)
		_ = vs.hist.RecordValue(us) // in range by construction
		_ = a.all.RecordValue(us)
		vs.buckets.add(s.lat)
		a.buckets.add(s.lat)
		a.status[int(s.status)]++
	}
	a.completed += uint64(len(ws.samples))
	ws.samples = ws.samples[:0]
	a.mergeFailures(ws.failures)
	ws.failures, ws.next = ws.failures[:0], 0
}

func (a *aggregate) version(name string) *versionStats {
	if vs, ok := a.byName[name]; ok {
		return vs
	}
	if len(a.versions) >= maxVersions {
		name = otherVersion
		if vs, ok := a.byName[name]; ok {
			return vs
		}
	}
	vs := &versionStats{name: name, hist: hdrhistogram.New(histMin, histMax, histDigits)}
	a.byName[name] = vs
	a.versions = append(a.versions, vs)
	return vs
}

// mergeFailures keeps the newest keepFailures of a.failures and fs.
func (a *aggregate) mergeFailures(fs []Failure) {
	for _, f := range fs {
		i := len(a.failures)
		for i > 0 && a.failures[i-1].At.After(f.At) {
			i--
		}
		a.failures = append(a.failures, Failure{})
		copy(a.failures[i+1:], a.failures[i:])
		a.failures[i] = f
	}
	if n := len(a.failures); n > keepFailures {
		a.failures = append(a.failures[:0], a.failures[n-keepFailures:]...)
	}
}
