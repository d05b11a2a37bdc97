package decide

import "time"

// Settle is the settle rule, fixed before any page is seen, as a pure state
// machine (the caller supplies the clock):
//
// After a weight change the run is settling, and its pages are not
// evidence. While settling, a page from a version expected at 0% (against
// a version expected at 100%: any page from another version) restarts the
// count of clean pages. Settling ends at the first run of W consecutive
// clean pages that also holds a page from every version expected above 0%,
// or when the settle timeout has passed since the first page. The second
// condition sees changes that start sending traffic to a version the old
// routing gave nothing (all v1 → 50/50 v1/v3): the old routing shows no
// stray there, but no page of the new version either.
// Every page from then on is evidence, and a stray among them fails the
// run. Pages without a version neither count as clean nor break the run.
//
// W is the number of clean pages that shows, at the stated confidence,
// that the stray share is below the tolerance (59 at 5 points and 95%).
// The W pages themselves are not evidence: while strays still arrive at
// the tolerance rate, a clean run of W happens by chance with probability
// below α each time, but settling may try many times. Evidence that starts
// after settling ends is fresh, so a PASS needs W more clean pages that
// the rule did not select, and the guarantees hold as if there had been
// no settling. With the expected split in force no stray appears, so
// settling costs W pages.
//
// A change between two nonzero weights (90/10 → 50/50) shows no strays, so
// this rule cannot see it settle; leave a fixed delay for such changes.
type Settle struct {
	expect  Expectation
	window  int
	timeout time.Duration

	start           time.Time
	started         bool
	clean           int
	seen            map[string]bool // versions expected above 0% seen in the clean run
	settled, timeUp bool
}

// NewSettle returns the settle state machine for c, with W from c (see
// Settle). A timeout ≤ 0 means settling ends only with W clean pages.
func NewSettle(c Criteria, timeout time.Duration) *Settle {
	return &Settle{expect: c.Expect, window: c.exactPages(), timeout: timeout}
}

// Observe feeds one page and reports whether it is evidence: Add it to the
// Sequential only if so.
func (s *Settle) Observe(version string, now time.Time) (evidence bool) {
	if s.settled {
		return true
	}
	if !s.started {
		s.start, s.started = now, true
	}
	if s.timeout > 0 && now.Sub(s.start) >= s.timeout {
		s.settled, s.timeUp = true, true
		return true
	}
	switch {
	case version == "":
	case s.expect.Percent(version) == 0:
		s.clean = 0
		clear(s.seen)
	default:
		s.clean++
		if s.seen == nil {
			s.seen = make(map[string]bool, len(s.expect.Versions()))
		}
		s.seen[version] = true
		s.settled = s.clean >= s.window && s.allSeen()
	}
	return false
}

func (s *Settle) allSeen() bool {
	for _, v := range s.expect.Versions() {
		if s.expect.Percent(v) > 0 && !s.seen[v] {
			return false
		}
	}
	return true
}

// Settled reports whether settling has ended (by W clean pages or timeout).
func (s *Settle) Settled() bool { return s.settled }

// TimedOut reports whether settling ended by the timeout, which suggests
// the new weights were not applied in time.
func (s *Settle) TimedOut() bool { return s.timeUp }

// Window returns W, the clean pages in a row that end settling.
func (s *Settle) Window() int { return s.window }
