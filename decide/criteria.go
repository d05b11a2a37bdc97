package decide

import (
	"fmt"
	"math"
)

// Defaults for Criteria, also the CLI's flag defaults.
const (
	DefaultTolerance    = 5.0  // percentage points
	DefaultConfidence   = 0.95 // 1 − the false-pass and false-fail rate
	DefaultMaxRequests  = 5000 // pages before giving up as INCONCLUSIVE
	DefaultMaxErrorRate = 0.01 // fraction of pages that may be not ok
)

// maxRequestsCap bounds MaxRequests: NewSequential precomputes 16 bytes of
// thresholds per request and per version, in about 2 µs per request.
const maxRequestsCap = 200_000

// errorAlphaShare is the part of 1 − Confidence given to the error budget;
// the split gets the rest. A false FAIL needs the split check or the error
// check to fail wrongly, so by the union bound the two shares add up to at
// most 1 − Confidence. Stray pages cost nothing: with the split as expected
// a zero-weight version never serves a page.
const errorAlphaShare = 0.1

// Criteria says what a rollout stage must show. Build it with
// DefaultCriteria and override fields; NewSequential validates it.
type Criteria struct {
	Expect Expectation
	// Tolerance is how far, in percentage points, each version's share may
	// be from its expected percentage (5 means 50% ± 5). Versions expected
	// at 0% or 100% are exact and ignore it, except that PASS needs enough
	// clean pages to show any stray share is below it.
	Tolerance float64
	// Confidence bounds both mistakes: a PASS when some share is outside
	// the tolerance, and a FAIL when every share is inside it and errors
	// are within budget, each happen with probability at most
	// 1 − Confidence, however often the evidence is looked at.
	Confidence float64
	// MaxRequests is the number of pages (with or without a version) after
	// which an undecided run stops as INCONCLUSIVE.
	MaxRequests int
	// MaxErrorRate is the fraction of pages that may be not ok, per version
	// and among pages without a version; 0 means any error fails.
	MaxErrorRate float64
	// Health, if set, also judges each canary's errors and latency against
	// its baseline (see Health); nil judges the split and budget only.
	Health *Health
}

// DefaultCriteria returns the default criteria for e.
func DefaultCriteria(e Expectation) Criteria {
	return Criteria{
		Expect:       e,
		Tolerance:    DefaultTolerance,
		Confidence:   DefaultConfidence,
		MaxRequests:  DefaultMaxRequests,
		MaxErrorRate: DefaultMaxErrorRate,
	}
}

// Validate reports the first bad field as a one-line error wrapping ErrInvalid.
func (c Criteria) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w criteria: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case len(c.Expect.versions) == 0:
		return bad("no expected split")
	case !(c.Tolerance > 0 && c.Tolerance <= 50):
		return bad("tolerance %g is not in (0, 50] points", c.Tolerance)
	case !(c.Confidence >= 0.5 && c.Confidence <= 0.9999):
		return bad("confidence %g is not in [0.5, 0.9999]", c.Confidence)
	case c.MaxRequests < 1 || c.MaxRequests > maxRequestsCap:
		return bad("max requests %d is not in [1, %d]", c.MaxRequests, maxRequestsCap)
	case !(c.MaxErrorRate >= 0 && c.MaxErrorRate < 1):
		return bad("max error rate %g is not in [0, 1)", c.MaxErrorRate)
	case c.Health != nil:
		return c.Health.validate(c.Expect)
	}
	return nil
}

// alpha is the total error rate 1 − Confidence.
func (c Criteria) alpha() float64 { return 1 - c.Confidence }

// delta is the tolerance as a fraction.
func (c Criteria) delta() float64 { return c.Tolerance / 100 }

// exactPages is how many pages, all from expected versions, show that the
// share of every other version is below the tolerance: the smallest n with
// (1 − δ)^n < α. If a stray share were δ or more, n clean pages in a row
// would happen with probability below α, so a PASS after them is wrong at
// most α of the time. It is also the settle window.
func (c Criteria) exactPages() int {
	return int(math.Floor(math.Log(c.alpha())/math.Log1p(-c.delta()))) + 1
}
