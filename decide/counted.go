package decide

import "time"

// NewCounted is NewSequential for evidence that arrives as counts: a
// server's requests per version, re-read at every scrape (canary verify
// --passive). Feed it with AddCounts only.
//
// Every test of the split and the error budget depends on the counts
// alone, so judging at the end of each batch is judging at a subset of the
// pages the test would have looked at: Ville's bound covers every page at
// once, so it covers these. What a batch cannot give is a look inside it:
// a run decides at the first scrape by which the evidence suffices, never
// at a request in between. The health checks read the batches' latency
// buckets (Counts.Buckets) instead of each page's latency; their tests are
// counts too (see CountHealth), so the same argument holds.
func NewCounted(c Criteria) (*Sequential, error) { return newSequential(c, true) }

// countedState is what a counted Sequential keeps beyond the tracks: the
// latency buckets per version, summed over batches, and the health
// checks' result after the last batch.
type countedState struct {
	buckets map[string]map[time.Duration]float64
	health  *HealthResult
}

func newCountedState() *countedState {
	return &countedState{buckets: map[string]map[time.Duration]float64{}}
}

// AddCounts records one batch of requests known by their counts: each
// version's requests (errors included) and errors, and the batch's latency
// buckets, then judges once. Counts are rounded to whole requests (a
// counter's increase is whole; Prometheus stores it as a float). A
// version "" holds requests without a known version. It is a no-op once a
// verdict is reached.
func (s *Sequential) AddCounts(batch map[string]Counts) {
	if s.verdict != Pending || s.counted == nil {
		return
	}
	for v, c := range batch {
		n, e := max(round(c.Requests), 0), max(round(c.Errors), 0)
		e = min(e, n)
		s.pages += n
		switch i := s.index(v); {
		case v == "":
			s.unknownErr += e
		case i < 0 || s.tracks[i].share == 0:
			s.n += n
			s.strays += n
			if i >= 0 {
				s.tracks[i].count += n
			}
			if s.strayName == "" && n > 0 {
				s.strayName = v
			}
		default:
			s.n += n
			s.tracks[i].count += n
			s.tracks[i].errs += e
		}
		if len(c.Buckets) > 0 {
			m := s.counted.buckets[v]
			if m == nil {
				m = map[time.Duration]float64{}
				s.counted.buckets[v] = m
			}
			for _, b := range c.Buckets {
				m[b.Le] += b.Count
			}
		}
	}
	s.verdict = s.judge()
}

// judge runs the health checks on the counts so far (see CountHealth) and
// reports, as healthState.judge does, a canary shown worse (fail) or a
// PASS that must wait (held).
func (cs *countedState) judge(s *Sequential) (fail, held bool) {
	counts := map[string]Counts{}
	for _, tr := range s.tracks {
		c := Counts{Requests: float64(tr.count), Errors: float64(tr.errs)}
		for le, n := range cs.buckets[tr.name] {
			c.Buckets = append(c.Buckets, Bucket{Le: le, Count: n})
		}
		counts[tr.name] = c
	}
	cs.health = CountHealth(s.c, counts)
	for _, k := range cs.health.Checks {
		switch k.Status {
		case HealthRegressed:
			return true, false
		case HealthHeld, HealthNoData:
			held = true
		}
	}
	return false, held
}
