package decide

import (
	"fmt"
	"time"

	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/results"
)

// WindowCriteria says what every window of a soak must show.
type WindowCriteria struct {
	Expect Expectation
	// Tolerance is how far, in percentage points, each version's share may
	// be from its expected percentage.
	Tolerance float64
	// MaxErrorRate is the fraction of requests that may be not ok, per
	// version expected above 0% and among requests without a version; 0
	// means any error alarms.
	MaxErrorRate float64
	// LatencyP99 is the most each version's 99th percentile may be; 0 turns
	// the latency check off.
	LatencyP99 time.Duration
	// Confidence bounds false alarms: a window whose shares, error rates and
	// p99s are all within limits alarms with probability at most
	// 1 − Confidence, or, with Windows set, the whole run does.
	Confidence float64
	// Windows is the number of windows the run is expected to have (its
	// duration over the window size). The confidence is shared among them
	// (Bonferroni), so a healthy soak of that many windows raises no alarm
	// at all with probability Confidence. 0 judges each window on its own.
	Windows int
	// Health, if set, also alarms a window whose canary is shown worse than
	// its baseline by more than a margin (see Health and CountHealth).
	Health *Health
}

// Validate reports the first bad field as a one-line error wrapping
// ErrInvalid.
func (c WindowCriteria) Validate() error {
	err := Criteria{Expect: c.Expect, Tolerance: c.Tolerance, Confidence: c.Confidence,
		MaxRequests: 1, MaxErrorRate: c.MaxErrorRate, Health: c.Health}.Validate()
	switch {
	case err != nil:
		return err
	case c.LatencyP99 < 0:
		return fmt.Errorf("%w criteria: latency p99 %v is negative", ErrInvalid, c.LatencyP99)
	case c.Windows < 0:
		return fmt.Errorf("%w criteria: windows %d is negative", ErrInvalid, c.Windows)
	}
	return nil
}

// criteria is the per-window Criteria: the confidence after the share
// of the run's error rate each window gets.
func (c WindowCriteria) criteria() Criteria {
	alpha := (1 - c.Confidence) / float64(max(c.Windows, 1))
	return Criteria{Expect: c.Expect, Tolerance: c.Tolerance, Confidence: 1 - alpha,
		MaxErrorRate: c.MaxErrorRate, Health: c.Health}
}

// level names the stated confidence in messages.
func (c WindowCriteria) level() string {
	s := textfmt.Num(c.Confidence*100) + "%"
	if c.Windows > 1 {
		s += fmt.Sprintf(" over %d windows", c.Windows)
	}
	return s
}

// AlarmKind says which limit a window broke.
type AlarmKind string

// Alarm kinds.
const (
	AlarmSplit   AlarmKind = "split"   // a share is outside expected ± tolerance
	AlarmStray   AlarmKind = "stray"   // a version expected at 0% served requests
	AlarmErrors  AlarmKind = "errors"  // an error rate is over the budget
	AlarmLatency AlarmKind = "latency" // a version's p99 is over the limit
	AlarmHealth  AlarmKind = "health"  // a canary is worse than its baseline by more than a margin
)

// Alarm is one limit broken by one window.
type Alarm struct {
	Start   time.Time `json:"start"` // the window's start
	Kind    AlarmKind `json:"kind"`
	Version string    `json:"version"` // "" for requests without a version
	Message string    `json:"message"` // one line
}

// Judge returns the alarms of one window, in a fixed order: split, strays,
// error budget, latency. Each check asks whether the window shows, at the
// stated confidence, that a limit is broken; a window too small to show it
// stays silent. The rules:
//
//   - split: the interval of a share (see Split) lies entirely outside
//     expected ± tolerance. With two versions the intervals mirror each
//     other and only the first listed version alarms.
//   - stray: a version expected at 0% (or any version besides one expected
//     at 100%) served a request. Envoy never routes to a zero weight, so
//     one is proof, as in Sequential.
//   - errors: the interval of the rate of not-ok requests, per version
//     expected above 0% and among requests without a version (out of all
//     requests), lies entirely above MaxErrorRate.
//   - latency: the interval of the share of a version's requests certainly
//     slower than LatencyP99 lies entirely above 1%, that is, the window
//     shows its p99 is over the limit. A raw "observed p99 > limit" would
//     alarm a quarter of the windows of 100 requests whose true p99 sits
//     on the limit.
//
// The false-alarm rate 1 − Confidence (divided by Windows when set) is
// spent as Sequential spends it: 90% on the split (60% with Health), 10%
// shared evenly by the error and latency checks, and with Health 30% on
// the health checks, which alarm a canary shown worse than its baseline
// by more than a margin (CountHealth). So a window whose split, error rates and p99s
// are all within limits alarms with probability at most 1 − Confidence,
// whatever its size, and with Windows set, so does the whole run. A
// window's alarm means that window; the overall verdict is SoakVerdict's.
// c must pass Validate.
func Judge(w results.Window, c WindowCriteria) []Alarm {
	alarms := splitAlarms(w, c)
	alarms = append(alarms, budgetAlarms(w, c)...)
	return append(alarms, healthAlarms(w, c)...)
}

// healthAlarms are the window's health regressions: CountHealth on its
// counts and latency buckets, at the window's share of the confidence.
// The window's histograms count every request, errors included.
func healthAlarms(w results.Window, c WindowCriteria) []Alarm {
	if c.Health == nil {
		return nil
	}
	counts := map[string]Counts{}
	for _, v := range c.Expect.versions {
		k := Counts{Requests: float64(w.Count(v)), Errors: float64(w.Errors(v))}
		total := 0
		w.EachLatency(v, func(top time.Duration, n int) {
			total += n
			k.Buckets = append(k.Buckets, Bucket{Le: top + time.Microsecond - 1, Count: float64(total)})
		})
		if total > 0 {
			k.Buckets = append(k.Buckets, Bucket{Le: Inf, Count: float64(total)})
		}
		counts[v] = k
	}
	r := CountHealth(c.criteria(), counts)
	r.Witness = "requests in the window"
	var alarms []Alarm
	for i, k := range r.Checks {
		if k.Status == HealthRegressed {
			alarms = append(alarms, Alarm{Start: w.Start, Kind: AlarmHealth, Version: k.Canary, Message: r.regression(i)})
		}
	}
	return alarms
}

func splitAlarms(w results.Window, c WindowCriteria) []Alarm {
	var alarms []Alarm
	res := Split(w, c)
	n := w.Total() - w.Count("")
	firstSplit := true
	for _, r := range res {
		isSplit := r.Expected > 0 && r.Expected < 100
		switch {
		case r.Status == Stray:
			alarms = append(alarms, Alarm{Start: w.Start, Kind: AlarmStray, Version: r.Version,
				Message: fmt.Sprintf("%s served %d of %d requests, expected at 0%%", r.Version, r.Count, n)})
		case isSplit && r.Status == Outside && (firstSplit || c.splitVersions() != 2):
			alarms = append(alarms, Alarm{Start: w.Start, Kind: AlarmSplit, Version: r.Version,
				Message: fmt.Sprintf("%s share %s of %d, interval %s at %s, expected %s%% ± %s",
					r.Version, fmtPct(r.Share), n, fmtInterval(r.Low, r.High), c.level(), textfmt.Num(r.Expected), textfmt.Num(c.Tolerance))})
		}
		if isSplit {
			firstSplit = false
		}
	}
	return alarms
}

// splitVersions counts versions expected strictly between 0% and 100%.
func (c WindowCriteria) splitVersions() int {
	k := 0
	for _, p := range c.Expect.percents {
		if s := snap(p / 100); s > 0 && s < 1 {
			k++
		}
	}
	return k
}

// bucket is one error-budget or latency check of a window.
type bucket struct {
	kind          AlarmKind
	version       string
	pages, errors int
}

func budgetAlarms(w results.Window, c WindowCriteria) []Alarm {
	var bs []bucket
	for i, v := range c.Expect.versions {
		if snap(c.Expect.percents[i]/100) > 0 {
			bs = append(bs, bucket{AlarmErrors, v, w.Count(v), w.Errors(v)})
		}
	}
	bs = append(bs, bucket{AlarmErrors, "", w.Total(), w.Errors("")})
	for i, v := range c.Expect.versions {
		if c.LatencyP99 > 0 && snap(c.Expect.percents[i]/100) > 0 {
			bs = append(bs, bucket{AlarmLatency, v, w.Count(v), w.Slower(v, c.LatencyP99)})
		}
	}
	cc := c.criteria()
	level := errorLevel(cc, len(bs))
	errMix := errorMixture(c.MaxErrorRate, level)
	latMix := errorMixture(latencyBudget, level)
	var alarms []Alarm
	for _, b := range bs {
		mix, budget := errMix, c.MaxErrorRate
		if b.kind == AlarmLatency {
			mix, budget = latMix, latencyBudget
		}
		ev := mix.at(b.errors, b.pages)
		if b.pages == 0 || !ev.lowAbove(budget) {
			continue
		}
		lo, hi := ev.bounds()
		alarms = append(alarms, Alarm{Start: w.Start, Kind: b.kind, Version: b.version,
			Message: b.message(w, c, lo*100, hi*100)})
	}
	return alarms
}

// latencyBudget is the share of requests a p99 leaves above it.
const latencyBudget = 0.01

func (b bucket) message(w results.Window, c WindowCriteria, lo, hi float64) string {
	rate := textfmt.Percent(b.errors, b.pages)
	if b.kind == AlarmLatency {
		return fmt.Sprintf("%s p99 %s over %s: %s of %d slower, interval %s at %s, at most 1%% may be",
			b.version, textfmt.Latency(w.Quantile(b.version, 0.99)), textfmt.Latency(c.LatencyP99),
			fmtPct(rate), b.pages, fmtInterval(lo, hi), c.level())
	}
	who := b.version
	if who == "" {
		who = "requests without a version:"
	}
	return fmt.Sprintf("%s errors %s of %d, interval %s at %s, budget %s%%",
		who, fmtPct(rate), b.pages, fmtInterval(lo, hi), c.level(), textfmt.Num(c.MaxErrorRate*100))
}

// SoakVerdict is the verdict over a whole soak: FAIL if any window
// alarmed, naming the alarmed windows; INCONCLUSIVE if there were no
// requests at all; PASS otherwise.
func SoakVerdict(windows []results.Window, alarms []Alarm) (Verdict, string) {
	total := 0
	var first, last time.Time
	for _, w := range windows {
		total += w.Total()
		first, last = minTime(first, w.Start), maxTime(last, w.End)
	}
	starts := alarmedStarts(alarms)
	switch {
	case len(starts) > 0:
		first, last = minTime(first, starts[0]), maxTime(last, starts[len(starts)-1])
		return Fail, fmt.Sprintf("%d of %d windows alarmed: %s", len(starts), max(len(windows), len(starts)),
			listStarts(starts, alarms, 10, textfmt.SpansDays(first, last)))
	case total == 0:
		return Inconclusive, "no requests"
	}
	return Pass, fmt.Sprintf("no alarm in %s (%s)", textfmt.NOf(len(windows), "window"), textfmt.NOf(total, "request"))
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
