package attack

import (
	"cmp"
	"maps"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/canary-gate/canary/classify"
	"github.com/canary-gate/canary/results"
)

// Summary is the state of an attack: a live snapshot while it runs and the
// final summary when Run returns (Done is then true). It holds counters and
// latency quantiles only, never per-request data beyond the recent failures.
type Summary struct {
	Target      string         `json:"target"`
	Requested   float64        `json:"requested_rate"` // per second; 0 = closed loop
	Start       time.Time      `json:"start"`
	Elapsed     time.Duration  `json:"elapsed"`      // wall time since start
	Rate        float64        `json:"rate"`         // requests sent per second
	Throughput  float64        `json:"throughput"`   // responses (or errors) per second
	Sent        uint64         `json:"sent"`         // requests started
	Completed   uint64         `json:"completed"`    // requests finished and counted
	Dropped     uint64         `json:"dropped"`      // ticks not sent: every worker busy at MaxWorkers
	Late        uint64         `json:"late"`         // ticks sent more than 10 ms behind schedule
	Workers     int            `json:"workers"`      // workers now; idle ones retire
	PeakWorkers int            `json:"peak_workers"` // most workers at once
	MaxWorkers  int            `json:"max_workers"`  // the bound on Workers
	Logins      uint64         `json:"logins"`       // successful logins
	Done        bool           `json:"done"`         // the attack has ended
	Interrupted bool           `json:"interrupted"`  // ended by ctx (Ctrl-C), not a limit
	Latency     Latency        `json:"latency"`      // all requests
	Versions    []Version      `json:"versions"`     // by count, largest first
	Outcomes    []Count        `json:"outcomes"`     // all versions
	Status      map[int]uint64 `json:"status_codes"` // 0 = no response
	Failures    []Failure      `json:"recent_failures"`
}

// Latency holds quantiles at the histogram's resolution (2 significant
// digits, 1 µs to 60 s), and exact counts per LatencyBounds bucket.
type Latency struct {
	P50       time.Duration `json:"p50"`
	P90       time.Duration `json:"p90"`
	P99       time.Duration `json:"p99"`
	Max       time.Duration `json:"max"`
	Mean      time.Duration `json:"mean"`
	Histogram *Histogram    `json:"histogram,omitempty"`
}

// Histogram is a latency histogram in Prometheus' form: cumulative counts
// of requests at or under each bound, so that summaries add up bucket by
// bucket and an exporter can serve them as they are.
type Histogram struct {
	Bounds []float64 `json:"le_seconds"` // LatencyBounds; +Inf is Count
	Counts []uint64  `json:"counts"`     // cumulative, one per bound
	Count  uint64    `json:"count"`
	Sum    float64   `json:"sum_seconds"`
}

// Version is the traffic one version received. Name is "" for responses
// without a version, such as transport errors.
type Version struct {
	Name     string  `json:"name"`
	Count    uint64  `json:"count"`
	Share    float64 `json:"share"` // of Completed
	Outcomes []Count `json:"outcomes"`
	Latency  Latency `json:"latency"`
}

// Count is the number of requests with one outcome.
type Count struct {
	Outcome classify.Outcome `json:"-"`
	Name    string           `json:"outcome"`
	Count   uint64           `json:"count"`
}

// Snapshot merges every worker's buffered samples and returns the current
// state. It is safe to call from any goroutine, during or after Run.
func (a *Attack) Snapshot() *Summary {
	a.wmu.Lock()
	ws := slices.Clone(a.workers)
	a.wmu.Unlock()
	for _, w := range ws {
		w.stats.mu.Lock()
		a.agg.transfer(w.stats)
		w.stats.mu.Unlock()
	}
	s := &Summary{
		Target:      a.o.Target,
		Requested:   a.o.Rate,
		Start:       a.start,
		Sent:        a.sent.Load(),
		Dropped:     a.dropped.Load(),
		Late:        a.late.Load(),
		Workers:     len(ws),
		PeakWorkers: int(a.peakWorkers.Load()),
		MaxWorkers:  a.o.MaxWorkers,
		Logins:      a.logins.Load(),
		Interrupted: a.interrupted.Load(),
	}
	if !a.start.IsZero() {
		s.Elapsed = time.Since(a.start)
	}
	a.agg.fill(s)
	s.Rate = perSecond(s.Sent, a.rateSpan(s.Elapsed))
	s.Throughput = perSecond(s.Completed, s.Elapsed)
	return s
}

// rateSpan is the time over which the sending rate is measured: the
// sending period once it has ended, the elapsed time before.
func (a *Attack) rateSpan(elapsed time.Duration) time.Duration {
	if end := time.Duration(a.paceEnd.Load()); end > 0 {
		return end
	}
	return elapsed
}

func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// fill copies the aggregate into s.
func (g *aggregate) fill(s *Summary) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.Completed = g.completed
	s.Latency = latencyOf(g.all, &g.buckets)
	s.Status = maps.Clone(g.status)
	s.Failures = slices.Clone(g.failures)
	total := map[classify.Outcome]uint64{}
	for _, vs := range g.versions {
		v := Version{Name: vs.name, Latency: latencyOf(vs.hist, &vs.buckets)}
		for o, n := range vs.outcomes {
			if n > 0 {
				v.Outcomes = append(v.Outcomes, countOf(classify.Outcome(o), n))
				v.Count += n
				total[classify.Outcome(o)] += n
			}
		}
		if v.Count == 0 {
			continue
		}
		if g.completed > 0 {
			v.Share = float64(v.Count) / float64(g.completed)
		}
		s.Versions = append(s.Versions, v)
	}
	slices.SortStableFunc(s.Versions, func(x, y Version) int { return cmp.Compare(y.Count, x.Count) })
	for _, o := range slices.Sorted(maps.Keys(total)) {
		s.Outcomes = append(s.Outcomes, countOf(o, total[o]))
	}
}

func countOf(o classify.Outcome, n uint64) Count {
	return Count{Outcome: o, Name: o.String(), Count: n}
}

func latencyOf(h *hdrhistogram.Histogram, b *buckets) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Latency{
		P50:       us(h.ValueAtQuantile(50)),
		P90:       us(h.ValueAtQuantile(90)),
		P99:       us(h.ValueAtQuantile(99)),
		Max:       us(h.Max()),
		Mean:      time.Duration(h.Mean() * float64(time.Microsecond)),
		Histogram: b.histogram(),
	}
}

func (b *buckets) histogram() *Histogram {
	h := &Histogram{Bounds: LatencyBounds, Counts: make([]uint64, len(LatencyBounds)), Sum: b.sum.Seconds()}
	for i := range LatencyBounds {
		h.Count += b.counts[i]
		h.Counts[i] = h.Count
	}
	h.Count += b.counts[len(LatencyBounds)]
	return h
}

// Count returns how many completed requests had outcome o.
func (s *Summary) Count(o classify.Outcome) uint64 {
	for _, c := range s.Outcomes {
		if c.Outcome == o {
			return c.Count
		}
	}
	return 0
}

// Errors returns how many completed requests were not classified OK.
func (s *Summary) Errors() uint64 {
	return s.Completed - s.Count(classify.OK)
}

// InFlight returns how many sent requests have not been counted yet.
func (s *Summary) InFlight() uint64 {
	if s.Sent < s.Completed {
		return 0
	}
	return s.Sent - s.Completed
}

// LinkTraces sets the Link of every failure whose traceparent asked for a
// trace, with link(trace id) (a Jaeger UI address).
func (s *Summary) LinkTraces(link func(traceID string) string) {
	for i := range s.Failures {
		f := &s.Failures[i]
		if id, sampled := results.TraceContext(f.Trace); sampled {
			f.Link = link(id)
		}
	}
}
