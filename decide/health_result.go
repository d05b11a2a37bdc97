package decide

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/results"
)

// HealthMethod names the statistics behind the health checks.
const HealthMethod = "canary against baseline, one-sided anytime-valid tests of a margin: errors by a universal-inference e-value conditioned on page counts, latency quantiles by split-point tests on order-statistic counts (the product of both sides' e-values at every split point); a check only fails, and PASS waits while a check lacks data or its observed values are past the margin"

// HealthResult is the health part of a Decision: every canary's checks
// against the baseline.
type HealthResult struct {
	Baseline string `json:"baseline"`
	// Witness is what was counted: "pages" or "responses" (the client's, in verify) or
	// "requests" (the server's, Istio's metrics for the gate's window).
	Witness string `json:"witness"`
	// Confidence is the level of all health checks together; each check
	// gets an equal part of 1 − Confidence per canary, errors half of it.
	Confidence    float64       `json:"confidence"`
	ErrorMargin   string        `json:"error_margin"`
	LatencyMargin string        `json:"latency_margin"`
	Method        string        `json:"method"`
	Checks        []HealthCheck `json:"checks"`
	// Distributions are the baseline's and canaries' latency
	// distributions as this witness saw them, for charts.
	Distributions []Distribution `json:"distributions,omitempty"`
}

// Distribution is one version's latency distribution: the fraction of
// its requests (ok pages, or a server's requests) that took at most Ms,
// ascending. Pages give a point per percentile at the top of its 0.8%
// bucket; a server gives its histogram's bucket edges.
type Distribution struct {
	Version string     `json:"version"`
	Points  []CDFPoint `json:"points"`
}

// CDFPoint is one point of a Distribution.
type CDFPoint struct {
	Ms       float64 `json:"ms"`
	Fraction float64 `json:"fraction"`
}

// Health check statuses.
const (
	HealthOK        = "ok"        // not shown worse; observed within the margin
	HealthHeld      = "held"      // observed past the margin, not shown: PASS waits
	HealthNoData    = "no data"   // a side has no pages yet: PASS waits
	HealthRegressed = "regressed" // shown worse by more than the margin: FAIL
	// HealthFew: fewer than 10 pages (or requests) lie beyond a tail
	// quantile on a side, too few to read it; it may still fail, but does
	// not hold a PASS.
	HealthFew = "few in tail"
)

// HealthCheck is one check of one canary. Error rates are in percent,
// latencies in milliseconds.
type HealthCheck struct {
	Canary string `json:"canary"`
	// Check is "errors" or "latency p50" (p90, p99, …).
	Check    string  `json:"check"`
	Quantile float64 `json:"quantile,omitempty"`
	Status   string  `json:"status"`
	// Baseline and Value are the observed baseline and canary values:
	// error rates, or empirical quantiles of ok pages.
	Baseline      float64 `json:"baseline"`
	Value         float64 `json:"value"`
	BaselinePages int     `json:"baseline_pages"`
	CanaryPages   int     `json:"canary_pages"`
	// Limit is the most the margin allows the canary at the observed
	// baseline value; absent with no baseline pages.
	Limit *float64 `json:"limit,omitempty"`
	// EValue is the check's e-value; it fails at Threshold (1/level). For
	// latency it is the weakest over split points, and Split (ms) is where
	// that is: the evidence that the baseline's quantile is below Split
	// times the evidence that the canary's is above the margin's limit
	// there.
	EValue    float64  `json:"e_value"`
	Threshold float64  `json:"threshold"`
	Split     *float64 `json:"split_ms,omitempty"`
	// Level is the check's own error rate.
	Level float64 `json:"level"`
}

// Unit is "%" for the error check and "ms" for latency.
func (c HealthCheck) Unit() string {
	if c.Quantile > 0 {
		return "ms"
	}
	return "%"
}

// healthResult describes the health checks as they stand.
func (s *Sequential) healthResult() *HealthResult {
	if cs := s.counted; cs != nil {
		if s.c.Health != nil && cs.health == nil {
			cs.judge(s) // no batch yet: every check has no data
		}
		return cs.health
	}
	hs := s.health
	if hs == nil {
		return nil
	}
	r := newHealthResult(s.c, s.unit()+"s")
	b := &s.tracks[hs.base]
	for _, ci := range hs.canaries {
		c := &s.tracks[ci]
		r.Checks = append(r.Checks, hs.h.errorResult(c.name, c.errs, c.count, b.errs, b.count, hs.errLevel))
		for qi := range hs.lt {
			r.Checks = append(r.Checks, hs.latencyResult(qi, ci, c.name))
		}
	}
	for _, i := range append([]int{hs.base}, hs.canaries...) {
		if l := &hs.lat[i]; l.n > 0 {
			r.Distributions = append(r.Distributions, Distribution{Version: s.tracks[i].name, Points: l.cdf()})
		}
	}
	return r
}

// cdf is the distribution at every percentile (and p99.9 and the
// largest), each at the top of its bucket, without repeated points.
func (l *latencies) cdf() []CDFPoint {
	var out []CDFPoint
	add := func(k int) {
		_, hi := results.LatencyBucketRange(l.bucket(k))
		p := CDFPoint{Ms: ms(hi), Fraction: float64(k) / float64(l.n)}
		if n := len(out); n > 0 && out[n-1].Ms == p.Ms {
			out[n-1] = p
			return
		}
		out = append(out, p)
	}
	for pct := 1; pct < 100; pct++ {
		add(l.rank(float64(pct) / 100))
	}
	add(l.rank(0.999))
	add(l.n)
	return out
}

// newHealthResult starts the health part of a decision on c, whose
// evidence is witness.
func newHealthResult(c Criteria, witness string) *HealthResult {
	h := c.Health
	return &HealthResult{
		Baseline: h.Baseline, Witness: witness, Confidence: 1 - c.alpha()*healthAlphaShare,
		ErrorMargin: h.ErrorMarginString(), LatencyMargin: h.LatencyMarginString(), Method: HealthMethod,
	}
}

// errorResult reports the error check of ec errors in nc canary pages (or
// requests) against eb in nb of the baseline's, at its level.
func (h *Health) errorResult(canary string, ec, nc, eb, nb int, level float64) HealthCheck {
	state, logE := h.errorState(ec, nc, eb, nb, -math.Log(level))
	k := HealthCheck{Canary: canary, Check: "errors", Status: state.String(), BaselinePages: nb, CanaryPages: nc,
		Threshold: 1 / level, Level: level, EValue: math.Exp(math.Min(logE, 700))}
	if nb > 0 {
		k.Baseline = textfmt.Percent(eb, nb)
		k.Limit = ptr(roundPct(h.errorLimit(float64(eb)/float64(nb)) * 100))
	}
	if nc > 0 {
		k.Value = textfmt.Percent(ec, nc)
	}
	return k
}

func (hs *healthState) latencyResult(qi, ci int, canary string) HealthCheck {
	lb, lc := &hs.lat[hs.base], &hs.lat[ci]
	p := hs.lt[qi].p
	k := HealthCheck{
		Canary: canary, Check: "latency " + QuantileName(p), Quantile: p,
		Status:   hs.latencyCheck(qi, ci).String(),
		Baseline: ms(lb.quantile(p)), Value: ms(lc.quantile(p)),
		BaselinePages: lb.n, CanaryPages: lc.n, Level: hs.latLevel, Threshold: 1 / hs.latLevel, EValue: 1,
	}
	if lb.n == 0 || lc.n == 0 {
		return k
	}
	k.Limit = ptr(ms(hs.h.latencyLimit(lb.quantile(p))))
	logE, at := hs.latencyEvidence(qi, lb, lc)
	k.EValue, k.Split = math.Exp(math.Min(logE, 700)), ptr(ms(at))
	return k
}

func ptr(x float64) *float64 { return &x }

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// QuantileName prints a quantile as p50, p99, p99.9.
func QuantileName(q float64) string { return "p" + textfmt.Num(roundPct(q*100)) }

// ErrorMarginString prints the error margin: "2× or +0.1 points".
func (h *Health) ErrorMarginString() string {
	return fmt.Sprintf("%s× or +%s points", textfmt.Num(h.ErrorRatio), textfmt.Num(roundPct(h.ErrorDiff*100)))
}

// LatencyMarginString prints the latency margin: "+10% or +2ms".
func (h *Health) LatencyMarginString() string {
	return fmt.Sprintf("+%s%% or +%s", textfmt.Num(roundPct((h.LatencyRatio-1)*100)), h.LatencyDiff)
}

// Regressions names every regressed check, one sentence each; nil when
// none is (or r is nil).
func (r *HealthResult) Regressions() []string {
	if r == nil {
		return nil
	}
	var parts []string
	for i, k := range r.Checks {
		if k.Status == HealthRegressed {
			parts = append(parts, r.regression(i))
		}
	}
	return parts
}

// regression is the sentence for regressed check i.
func (r *HealthResult) regression(i int) string {
	k := r.Checks[i]
	if k.Quantile == 0 {
		return fmt.Sprintf("%s's error rate is past %s's by more than the margin: %s of %d %s against %s of %d (%s: %s at most), e-value %s ≥ %s",
			k.Canary, r.Baseline, fmtPct(k.Value), k.CanaryPages, r.Witness, fmtPct(k.Baseline), k.BaselinePages, r.ErrorMargin, fmtPct(*k.Limit), eNum(k.EValue), eNum(k.Threshold))
	}
	return fmt.Sprintf("%s's latency %s is past %s's by more than the margin: %s against %s (%s: %s at most), e-value %s ≥ %s at every split point (weakest at %s) after %d canary and %d baseline %s",
		k.Canary, QuantileName(k.Quantile), r.Baseline, fmtMs(k.Value), fmtMs(k.Baseline), r.LatencyMargin, fmtMs(*k.Limit), eNum(k.EValue), eNum(k.Threshold), fmtMs(*k.Split), k.CanaryPages, k.BaselinePages, r.Witness)
}

// healthHeldReason names the checks that hold a PASS back; "" if none.
func healthHeldReason(r *HealthResult) string {
	if r == nil {
		return ""
	}
	var parts []string
	for _, k := range r.Checks {
		switch k.Status {
		case HealthHeld:
			parts = append(parts, fmt.Sprintf("%s's %s %s is past the margin over %s's %s, not yet shown", k.Canary, k.Check, fmtValue(k.Value, k.Unit()), r.Baseline, fmtValue(k.Baseline, k.Unit())))
		case HealthNoData:
			parts = append(parts, fmt.Sprintf("%s has no %s data against %s yet", k.Canary, k.Check, r.Baseline))
		}
	}
	return strings.Join(parts, "; ")
}

func fmtValue(x float64, unit string) string {
	if unit == "ms" {
		return fmtMs(x)
	}
	return fmtPct(x)
}

// fmtMs prints milliseconds with three significant digits.
func fmtMs(x float64) string {
	return textfmt.Latency(time.Duration(x * float64(time.Millisecond)))
}

// eNum prints an e-value or threshold: 3 significant digits, up to 1e6.
func eNum(x float64) string {
	if x >= 1e6 {
		return "over 1,000,000"
	}
	return textfmt.Num(math.Round(x*10) / 10)
}

// healthSummary says, for a PASS, how each canary compared: "health
// against v1 (errors: 2× or +0.1 points; latency: +10% or +2ms), none
// shown worse: v3 errors 0.0% vs 0.0%, p50 1.2ms vs 1.06ms, …".
func healthSummary(r *HealthResult) string {
	if r == nil {
		return ""
	}
	parts := make([]string, 0, len(r.Checks))
	for _, k := range r.Checks {
		name := k.Check
		if k.Quantile > 0 {
			name = QuantileName(k.Quantile)
		}
		parts = append(parts, fmt.Sprintf("%s %s %s vs %s", k.Canary, name, fmtValue(k.Value, k.Unit()), fmtValue(k.Baseline, k.Unit())))
	}
	return fmt.Sprintf("no canary shown worse than baseline %s by more than the margins (errors %s, latency %s) at %s confidence: %s",
		r.Baseline, r.ErrorMargin, r.LatencyMargin, fmtConf(r.Confidence), strings.Join(parts, ", "))
}
