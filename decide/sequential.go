package decide

import "time"

// Sequential decides PASS, FAIL or INCONCLUSIVE from pages as they arrive,
// looking after every page without inflating error rates. Feed it only
// pages that Settle.Observe calls evidence. It is not safe for concurrent
// use; feed it from one loop.
//
// Cost: NewSequential precomputes thresholds (about 2 µs per request per
// version, so ~10–20 ms at the default 5000). Add is O(versions), a few
// integer compares, and never allocates. Verdict is a field read: check it
// after every page. Decision also computes the intervals and the reason
// (about 50 µs, allocates): call it when the verdict is not Pending, or for
// progress output. After a verdict, Add ignores pages until Reset, so the
// Decision describes exactly the evidence at the stop.
type Sequential struct {
	c      Criteria
	tracks []track
	// split is the indices of the tracks with 0 < share < 100.
	split    []int
	nExact   int
	errTable []int32
	errMix   *mixture

	pages, n   int // all pages; pages with a known version
	unknownErr int // not-ok pages without a version
	strays     int
	strayName  string        // the first stray version seen
	health     *healthState  // nil when Criteria.Health is, or counted is set
	counted    *countedState // set by NewCounted: evidence comes in batches of counts
	// healthFail and healthHeld are the health checks' state after the
	// last page: a canary shown worse, or a PASS that must wait.
	healthFail, healthHeld bool
	verdict                Verdict
	unitName               string // see SetUnit
}

// track is one listed version: expectation, decision tables and counts.
type track struct {
	name        string
	share       float64     // expected fraction
	tests       *splitTests // nil unless 0 < share < 1
	t           tables
	count, errs int
	// above and below record when the PASS parts were shown.
	above, below shown
}

// shown records the page (in the split) at which a PASS part was first
// shown, and the version's count then. A part once shown stays shown: its
// null was rejected at that page, and Ville's bound covers every page at
// once, so a later dip does not undo it.
type shown struct {
	ok        bool
	at, count int
}

// show marks the PASS parts that the version's count of n pages shows,
// by the tables.
func (tr *track) show(n int) {
	if n >= len(tr.t.passLo) { // a batch of counts past MaxRequests
		tr.mark(n, tr.tests.above.rejects(tr.count, n), tr.tests.below.rejects(tr.count, n))
		return
	}
	S := int32(tr.count)
	tr.mark(n, S >= tr.t.passLo[n], S <= tr.t.passHi[n])
}

// outside reports whether a FAIL part rejects the version's count of n.
func (tr *track) outside(n int) bool {
	if n >= len(tr.t.failHi) {
		return tr.tests.outside(tr.count, n)
	}
	return tr.t.outside(tr.count, n)
}

// mark records the PASS parts shown at page n that were not shown before.
func (tr *track) mark(n int, above, below bool) {
	if above && !tr.above.ok {
		tr.above = shown{true, n, tr.count}
	}
	if below && !tr.below.ok {
		tr.below = shown{true, n, tr.count}
	}
}

// NewSequential validates c and precomputes the decision thresholds.
func NewSequential(c Criteria) (*Sequential, error) { return newSequential(c, false) }

// newSequential builds a Sequential fed page by page or, counted, by
// batches of counts (see NewCounted).
func newSequential(c Criteria, counted bool) (*Sequential, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Sequential{c: c, nExact: c.exactPages()}
	for i, v := range c.Expect.versions {
		tr := track{name: v, share: snap(c.Expect.percents[i] / 100)}
		if tr.share > 0 && tr.share < 1 {
			s.split = append(s.split, i)
		}
		s.tracks = append(s.tracks, tr)
	}
	fail := failLevel(c, len(s.split))
	for k, i := range s.split {
		tr := &s.tracks[i]
		tr.tests = newSplitTests(tr.share, c.delta(), c.alpha(), fail)
		if k == 1 && len(s.split) == 2 {
			// Two versions share one split: p₂ = 1 − p₁ on pages without
			// strays (a stray fails first), and their parts mirror each
			// other exactly.
			tr.t = s.tracks[s.split[0]].t.mirror()
			continue
		}
		tr.t = buildTables(tr.tests, c.MaxRequests)
	}
	switch {
	case counted:
		s.counted = newCountedState()
	case c.Health != nil:
		s.health = newHealthState(c, s.tracks)
	}
	s.errMix = errorMixture(c.MaxErrorRate, errorLevel(c, s.buckets()))
	s.errTable = errorTable(s.errMix, c.MaxErrorRate, c.MaxRequests)
	return s, nil
}

// snap rounds a share within the parser's slack of 0 or 1 to exactly that,
// so such versions are treated as exact.
func snap(share float64) float64 {
	switch {
	case share < sumSlack:
		return 0
	case share > 1-sumSlack:
		return 1
	}
	return share
}

// failLevel is the error rate of each FAIL part: the split's share of α
// (what the error budget and the health checks leave), Bonferroni over two
// sides per version; two versions count once, as their shares are
// complementary. PASS parts need no such split: each is tested at the
// full α (intersection-union).
func failLevel(c Criteria, versions int) float64 {
	distinct := max(versions, 1)
	if versions == 2 {
		distinct = 1
	}
	share := 1 - errorAlphaShare
	if c.Health != nil {
		share -= healthAlphaShare
	}
	return c.alpha() * share / float64(2*distinct)
}

// errorLevel is the error rate of each error bucket's interval.
func errorLevel(c Criteria, buckets int) float64 {
	return c.alpha() * errorAlphaShare / float64(buckets)
}

// buckets counts error buckets: each version expected above 0%, plus
// pages without a version.
func (s *Sequential) buckets() int {
	b := 0
	s.eachBucket(func(string, int, int) { b++ })
	return b
}

// eachBucket calls f with each error bucket's pages and errors: each
// version expected above 0%, then pages without a version (version "").
func (s *Sequential) eachBucket(f func(version string, pages, errs int)) {
	for _, tr := range s.tracks {
		if tr.share > 0 {
			f(tr.name, tr.count, tr.errs)
		}
	}
	f("", s.pages, s.unknownErr)
}

// errorsOver reports whether errs of pages put an error bucket's rate
// above the budget at its confidence: by the table, or past it (a batch
// of counts beyond MaxRequests) by the mixture itself.
func (s *Sequential) errorsOver(errs, pages int) bool {
	if pages < len(s.errTable) {
		return errs >= int(s.errTable[pages])
	}
	if s.c.MaxErrorRate == 0 {
		return errs > 0
	}
	return s.errMix.at(errs, pages).lowAbove(s.c.MaxErrorRate)
}

// over reports whether errs of pages is an observed rate above the budget.
func (s *Sequential) over(pages, errs int) bool {
	return float64(errs) > s.c.MaxErrorRate*float64(pages)
}

// Add records one page: the version that served it ("" if unknown),
// whether its outcome was ok, and its latency (read by the health checks,
// for ok pages only: an error's latency says how fast it failed). It is a
// no-op once a verdict is reached.
func (s *Sequential) Add(version string, ok bool, latency time.Duration) {
	if s.verdict != Pending {
		return
	}
	s.pages++
	switch i := s.index(version); {
	case version == "":
		if !ok {
			s.unknownErr++
		}
	case i < 0 || s.tracks[i].share == 0:
		s.n++
		s.strays++
		if i >= 0 {
			s.tracks[i].count++
		}
		if s.strayName == "" {
			s.strayName = version
		}
	default:
		s.n++
		s.tracks[i].count++
		switch {
		case !ok:
			s.tracks[i].errs++
		case s.health != nil:
			s.health.add(i, latency)
		}
	}
	s.verdict = s.judge()
}

func (s *Sequential) index(version string) int {
	for i := range s.tracks {
		if s.tracks[i].name == version {
			return i
		}
	}
	return -1
}

// judge is the decision rule, O(versions). FAIL wins over PASS.
func (s *Sequential) judge() Verdict {
	if s.strays > 0 || s.errorsOver(s.unknownErr, s.pages) {
		return Fail
	}
	switch {
	case s.health != nil:
		s.healthFail, s.healthHeld = s.health.judge(s.tracks)
	case s.counted != nil && s.c.Health != nil:
		s.healthFail, s.healthHeld = s.counted.judge(s)
	}
	if s.healthFail {
		return Fail
	}
	within := s.n >= s.nExact
	for i := range s.tracks {
		tr := &s.tracks[i]
		if tr.share > 0 && s.errorsOver(tr.errs, tr.count) {
			return Fail
		}
		if tr.tests == nil {
			continue
		}
		if tr.outside(s.n) {
			return Fail
		}
		tr.show(s.n)
		if !tr.above.ok || !tr.below.ok {
			within = false
		}
	}
	switch {
	case within && !s.overBudget() && !s.healthHeld:
		return Pass
	case s.pages >= s.c.MaxRequests:
		return Inconclusive
	}
	return Pending
}

// overBudget reports whether some error bucket's observed rate is above
// the budget while its check has not failed it yet. PASS waits for that
// check to decide: a version failing 8 of 169 pages against a 1% budget
// must not pass because the split happened to decide first. Waiting only
// removes PASSes, so the guarantees hold.
//
// It runs on the per-page path once the split has passed, so it loops
// directly rather than through eachBucket's callback.
func (s *Sequential) overBudget() bool {
	if s.over(s.pages, s.unknownErr) {
		return true
	}
	for i := range s.tracks {
		if tr := &s.tracks[i]; tr.share > 0 && s.over(tr.count, tr.errs) {
			return true
		}
	}
	return false
}

// Verdict returns the current verdict; Pending until the evidence decides.
func (s *Sequential) Verdict() Verdict { return s.verdict }

// Reset discards all evidence, keeping the precomputed thresholds, so one
// Sequential can serve several stages or simulated runs.
func (s *Sequential) Reset() {
	for i := range s.tracks {
		s.tracks[i].count, s.tracks[i].errs = 0, 0
		s.tracks[i].above, s.tracks[i].below = shown{}, shown{}
	}
	s.pages, s.n, s.unknownErr, s.strays = 0, 0, 0, 0
	s.strayName = ""
	if s.health != nil {
		s.health.reset()
	}
	if s.counted != nil {
		s.counted = newCountedState()
	}
	s.healthFail, s.healthHeld = false, false
	s.verdict = Pending
}
