package decide

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Health says how each canary is judged against its baseline: a canary
// fails when it is shown worse than the baseline by more than a margin,
// never for a difference inside it, so long runs do not fail on harmless
// differences. A margin has a relative and an absolute part, and a
// regression must exceed both ("more than 10% and more than 2 ms
// slower"): the relative part scales with the service, the absolute part
// keeps a fast service from failing on a fraction of a millisecond.
type Health struct {
	// Baseline is the version the others are compared with; it must be
	// expected above 0%. Every other version expected above 0% is a canary.
	Baseline string
	// ErrorRatio and ErrorDiff: a canary fails on errors when its error
	// rate is shown above both ErrorRatio × the baseline's and the
	// baseline's + ErrorDiff (a fraction, 0.001 = 0.1 points).
	ErrorRatio, ErrorDiff float64
	// Quantiles are the latency quantiles compared, each in (0, 1).
	Quantiles []float64
	// LatencyRatio and LatencyDiff: a canary fails on a quantile when its
	// quantile is shown above both LatencyRatio × the baseline's and the
	// baseline's + LatencyDiff.
	LatencyRatio float64
	LatencyDiff  time.Duration
}

// Defaults for Health, also the CLI's.
const (
	// DefaultErrorRatio and DefaultErrorDiff let a canary fail up to twice
	// as often as its baseline, or 0.1 points more, whichever is more: a
	// doubled error rate is what an on-call engineer rolls back for, and
	// the 0.1 points keep a baseline with no errors from making a single
	// canary error a regression.
	DefaultErrorRatio = 2.0
	DefaultErrorDiff  = 0.001
	// DefaultLatencyRatio and DefaultLatencyDiff let a canary be up to 10%
	// or 2 ms slower, whichever is more. Bookinfo's v2 and v3 make one more
	// call than v1 (to ratings): about 0.15 ms on the local mesh and 1–3
	// ms through two more sidecars on a cluster. The 2 ms keep that healthy
	// difference from failing a fast page; the 10% catches a real
	// slowdown of a page that takes tens of milliseconds.
	DefaultLatencyRatio = 1.1
	DefaultLatencyDiff  = 2 * time.Millisecond
)

// DefaultQuantiles are the latency quantiles compared by default: the
// typical page, the slow tail most users meet, and the tail an SLO names.
var DefaultQuantiles = []float64{0.5, 0.9, 0.99}

// DefaultHealth returns the default health checks against baseline.
func DefaultHealth(baseline string) *Health {
	return &Health{
		Baseline: baseline, ErrorRatio: DefaultErrorRatio, ErrorDiff: DefaultErrorDiff,
		Quantiles: slices.Clone(DefaultQuantiles), LatencyRatio: DefaultLatencyRatio, LatencyDiff: DefaultLatencyDiff,
	}
}

// HealthSettings are the health checks as people set them: verify's and
// soak's flags, a scenario stage's keys, canary serve's settings. Empty
// margins and quantiles take the defaults; "none" compares no quantile.
type HealthSettings struct {
	Off                                          bool
	Baseline                                     string
	ErrorMargin, LatencyMargin, LatencyQuantiles string
}

// SettingError is a health setting that cannot be read, with its key
// (error-margin, latency-margin, latency-quantiles) for callers to name
// the flag or field.
type SettingError struct {
	Key string
	Err error
}

func (e *SettingError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Health reads s for expectation e. It is nil when s is Off, or when no
// baseline is named and fewer than two versions are expected above 0%
// (nothing to compare); the baseline defaults to the first version expected
// above 0%. The settings are read only when there is something to judge.
func (s HealthSettings) Health(e Expectation) (*Health, error) {
	base := s.Baseline
	if serving := e.Serving(); base == "" && len(serving) >= 2 {
		base = serving[0]
	}
	if s.Off || base == "" {
		return nil, nil
	}
	h := DefaultHealth(base)
	var err error
	if s.ErrorMargin != "" {
		if h.ErrorRatio, h.ErrorDiff, err = ParseErrorMargin(s.ErrorMargin); err != nil {
			return nil, &SettingError{"error-margin", err}
		}
	}
	if s.LatencyMargin != "" {
		if h.LatencyRatio, h.LatencyDiff, err = ParseLatencyMargin(s.LatencyMargin); err != nil {
			return nil, &SettingError{"latency-margin", err}
		}
	}
	if s.LatencyQuantiles != "" {
		if h.Quantiles, err = ParseQuantiles(s.LatencyQuantiles); err != nil {
			return nil, &SettingError{"latency-quantiles", err}
		}
	}
	return h, nil
}

// healthAlphaShare is the part of 1 − Confidence given to the health
// checks when they are on; the split's FAIL parts give it up (see
// failLevel), so a healthy canary with the expected split is failed at
// most 1 − Confidence of the time in all.
const healthAlphaShare = 0.3

// validate checks h against the expectation.
func (h *Health) validate(e Expectation) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w health: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	i := slices.Index(e.versions, h.Baseline)
	switch {
	case h.Baseline == "":
		return bad("no baseline version")
	case i < 0:
		return bad("baseline %s is not in the expectation %s", h.Baseline, e)
	case e.percents[i] <= 0:
		return bad("baseline %s is expected at 0%%; it must serve pages", h.Baseline)
	case len(h.canaries(e)) == 0:
		return bad("no canary: only %s is expected above 0%%", h.Baseline)
	case !(h.ErrorRatio >= 1 && h.ErrorRatio <= 1000):
		return bad("error ratio %g is not in [1, 1000]", h.ErrorRatio)
	case !(h.ErrorDiff >= 0 && h.ErrorDiff < 1):
		return bad("error difference %g is not in [0, 1)", h.ErrorDiff)
	case !(h.LatencyRatio >= 1 && h.LatencyRatio <= 1000):
		return bad("latency ratio %g is not in [1, 1000]", h.LatencyRatio)
	case h.LatencyDiff < 0 || h.LatencyDiff > time.Minute:
		return bad("latency difference %s is not in [0, 1m]", h.LatencyDiff)
	case len(h.Quantiles) > 8:
		return bad("%d latency quantiles; at most 8", len(h.Quantiles))
	}
	for _, q := range h.Quantiles {
		if !(q >= 0.01 && q <= 0.999) {
			return bad("latency quantile %g is not in [0.01, 0.999]", q)
		}
	}
	return nil
}

// canaries are the versions expected above 0% other than the baseline.
func (h *Health) canaries(e Expectation) []string {
	return slices.DeleteFunc(e.Serving(), func(v string) bool { return v == h.Baseline })
}

// errorLimit is the highest canary error rate the margin allows at a
// baseline rate rb.
func (h *Health) errorLimit(rb float64) float64 {
	return math.Max(h.ErrorRatio*rb, rb+h.ErrorDiff)
}

// latencyLimit is the highest canary quantile the margin allows at a
// baseline quantile b.
func (h *Health) latencyLimit(b time.Duration) time.Duration {
	return max(time.Duration(math.Ceil(h.LatencyRatio*float64(b))), b+h.LatencyDiff)
}

// ParseQuantiles parses "p50,p90,p99" (or 0.5,0.9,0.99): the latency
// quantiles to compare, ascending, each from p1 to p99.9. "none" (or "")
// compares none.
func ParseQuantiles(s string) ([]float64, error) {
	bad := func(format string, args ...any) ([]float64, error) {
		return nil, fmt.Errorf("%w latency quantiles %q: %s", ErrInvalid, s, fmt.Sprintf(format, args...))
	}
	if t := strings.TrimSpace(s); t == "" || t == "none" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		var q float64
		var err error
		if p, ok := strings.CutPrefix(f, "p"); ok {
			q, err = strconv.ParseFloat(p, 64)
			q = math.Round(q*1e7) / 1e9 // p99.9 is 0.999, not 0.9990000000000001
		} else {
			q, err = strconv.ParseFloat(f, 64)
		}
		switch {
		case f == "":
			return bad("an empty quantile")
		case err != nil || math.IsNaN(q):
			return bad("%q is not a quantile such as p99 or 0.99", f)
		case !(q >= 0.01 && q <= 0.999):
			return bad("%s is not from p1 to p99.9", f)
		case slices.Contains(out, q):
			return bad("%s is listed twice", f)
		}
		out = append(out, q)
	}
	if len(out) > 8 {
		return bad("%d quantiles; at most 8", len(out))
	}
	slices.Sort(out)
	return out, nil
}

// ParseErrorMargin parses "2x,0.1": a canary may fail up to 2× as often as
// its baseline or 0.1 percentage points more, whichever is more. It
// returns the ratio and the difference as a fraction.
func ParseErrorMargin(s string) (ratio, diff float64, err error) {
	a, b, ok := strings.Cut(s, ",")
	r, errR := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(a), "x"), 64)
	d, errD := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(b), "%"), 64)
	switch {
	case !ok || errR != nil || errD != nil:
		return 0, 0, fmt.Errorf("%w error margin %q: want RATIOx,POINTS such as 2x,0.1", ErrInvalid, s)
	case !(r >= 1 && r <= 1000):
		return 0, 0, fmt.Errorf("%w error margin %q: ratio %s is not from 1 to 1000", ErrInvalid, s, strings.TrimSpace(a))
	case !(d >= 0 && d < 100):
		return 0, 0, fmt.Errorf("%w error margin %q: %s points is not from 0 to 100", ErrInvalid, s, strings.TrimSpace(b))
	}
	return r, d / 100, nil
}

// ParseLatencyMargin parses "10%,2ms": a canary may be up to 10% or 2 ms
// slower than its baseline at each quantile, whichever is more. It returns
// the ratio (1.1) and the difference.
func ParseLatencyMargin(s string) (ratio float64, diff time.Duration, err error) {
	a, b, ok := strings.Cut(s, ",")
	pct, errP := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(a), "%"), 64)
	d, errD := time.ParseDuration(strings.TrimSpace(b))
	switch {
	case !ok || !strings.HasSuffix(strings.TrimSpace(a), "%") || errP != nil || errD != nil:
		return 0, 0, fmt.Errorf("%w latency margin %q: want PERCENT%%,DURATION such as 10%%,2ms", ErrInvalid, s)
	case !(pct >= 0 && pct <= 10000):
		return 0, 0, fmt.Errorf("%w latency margin %q: %s is not from 0%% to 10000%%", ErrInvalid, s, strings.TrimSpace(a))
	case d < 0 || d > time.Minute:
		return 0, 0, fmt.Errorf("%w latency margin %q: %s is not from 0 to 1m", ErrInvalid, s, strings.TrimSpace(b))
	}
	return 1 + pct/100, d, nil
}
