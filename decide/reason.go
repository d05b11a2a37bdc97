package decide

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/canary-gate/canary/internal/textfmt"
)

// reason writes the one-sentence explanation of d.
func reason(d Decision, nExact int) string {
	switch d.Verdict {
	case Fail:
		return failReason(d)
	case Pass:
		return passReason(d)
	case Inconclusive:
		return inconclusiveReason(d, nExact)
	}
	r := fmt.Sprintf("undecided after %d %s: %s", d.Pages, d.units(), shareList(d.Versions, false))
	if held := heldErrors(d.Errors, d.units()); held != "" {
		r += "; PASS waits: " + held
	}
	if held := healthHeldReason(d.Health); held != "" {
		r += "; PASS waits: " + held
	}
	return r
}

// failReason lists every cause. A version expected at 100% is outside only
// with a stray, which is listed instead; of two complementary shares only
// the first is listed.
func failReason(d Decision) string {
	var parts []string
	outside := 0
	for _, v := range d.Versions {
		switch {
		case v.Status == Stray:
			parts = append(parts, fmt.Sprintf("%d %s from %s, which should get 0%%", v.Count, textfmt.Plural(v.Count, d.unit()), v.Version))
		case v.Status == Outside && v.Expected < 100 && (outside == 0 || splitCount(d) != 2):
			outside++
			side := "above"
			if v.High < v.Expected {
				side = "below"
			}
			parts = append(parts, fmt.Sprintf("%s share %s %s is %s %s%% ± %s at %s confidence after %d %s",
				v.Version, fmtPct(v.Share), fmtInterval(v.Low, v.High), side, textfmt.Num(v.Expected), textfmt.Num(d.Tolerance), fmtConf(d.Confidence), d.N, d.units()))
		}
	}
	for _, k := range d.Errors.Buckets {
		if k.Status == Outside {
			parts = append(parts, fmt.Sprintf("%s error rate %s %s (%d of %d %s not ok) is above the %s%% budget at %s confidence",
				bucketName(k.Version), fmtPct(k.Rate), fmtInterval(k.Low, k.High), k.Errors, k.Pages, d.units(), textfmt.Num(d.Errors.Budget), fmtConf(d.Confidence)))
		}
	}
	parts = append(parts, d.Health.Regressions()...)
	return strings.Join(parts, "; ")
}

func passReason(d Decision) string {
	var split []VersionResult
	var sole string
	for _, v := range d.Versions {
		switch v.Expected {
		case 100:
			sole = v.Version
		case 0:
		default:
			split = append(split, v)
		}
	}
	var r string
	if sole != "" {
		r = fmt.Sprintf("all %d %s came from %s, which should get 100%%, so any other version's share is below %s%% at %s confidence",
			d.N, d.units(), sole, textfmt.Num(d.Tolerance), fmtConf(d.Confidence))
	} else {
		r = fmt.Sprintf("every share is within its expected value ± %s at %s confidence after %d %s, each side shown by a one-sided test at %s (intersection-union): %s; no %s came from another version",
			textfmt.Num(d.Tolerance), fmtConf(d.Confidence), d.N, d.units(), fmtConf(d.Confidence), passList(split, d.unit()), d.unit())
	}
	if e := errorSummary(d.Errors); e != "" {
		r += "; " + e
	}
	if h := healthSummary(d.Health); h != "" {
		r += "; " + h
	}
	return r
}

// errorSummary mentions errors that did not fail the run, if any.
func errorSummary(b ErrorBudget) string {
	var parts []string
	for _, k := range b.Buckets {
		if k.Errors > 0 {
			parts = append(parts, fmt.Sprintf("%s %s %s", bucketName(k.Version), fmtPct(k.Rate), fmtInterval(k.Low, k.High)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("error rates %s, not shown above the %s%% budget", joinAnd(parts), textfmt.Num(b.Budget))
}

func inconclusiveReason(d Decision, nExact int) string {
	var open []string
	for _, v := range d.Versions {
		if v.Expected > 0 && v.Expected < 100 && v.Status == Undecided {
			open = append(open, fmt.Sprintf("%s's share %s %s%s", v.Version, fmtPct(v.Share), fmtInterval(v.Low, v.High), partsShown(v.Tests)))
		}
	}
	if splitCount(d) == 2 && len(open) == 2 {
		open = open[:1] // the other share is its complement
	}
	var r string
	switch {
	case d.N == 0:
		return fmt.Sprintf("after %d %s none had a known version, so the split is undecided", d.Pages, d.units())
	case len(open) == 0 && d.N >= nExact && heldErrors(d.Errors, d.units()) != "":
		r = fmt.Sprintf("after %d %s every share is within its band, but PASS waits: %s", d.Pages, d.units(), heldErrors(d.Errors, d.units()))
	case len(open) == 0 && d.N >= nExact && healthHeldReason(d.Health) != "":
		return fmt.Sprintf("after %d %s every share is within its band, but PASS waits on the health checks: %s", d.Pages, d.units(), healthHeldReason(d.Health))
	case len(open) == 0:
		r = fmt.Sprintf("after %d %s only %d had a version; %d clean %s are needed to show other versions below %s%%",
			d.Pages, d.units(), d.N, nExact, d.units(), textfmt.Num(d.Tolerance))
	default:
		verb := "is"
		if len(open) > 1 {
			verb = "are"
		}
		r = fmt.Sprintf("after %d %s %s %s still undecided", d.Pages, d.units(), joinAnd(open), verb)
	}
	if d.MorePages == 0 {
		return r + "; the observed split sits on a tolerance edge, so more " + d.units() + " may not decide either"
	}
	return fmt.Sprintf("%s; about %s more %s would likely decide", r, roughCount(d.MorePages), d.units())
}

// passList lists versions that passed as "v1 50.1% (expected 50%) above
// 45% from page 412 and below 55% from page 781".
func passList(vs []VersionResult, unit string) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		p := fmt.Sprintf("%s %s (expected %s%%)", v.Version, fmtPct(v.Share), textfmt.Num(v.Expected))
		var sides []string
		for _, e := range v.Tests {
			sides = append(sides, fmt.Sprintf("%s %s%% from %s %d", e.Side, textfmt.Num(e.Edge), unit, e.ShownAt))
		}
		if len(sides) > 0 {
			p += " " + strings.Join(sides, " and ")
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// partsShown says which PASS parts of an undecided version are shown:
// " (above 45% shown, below 55% not yet)"; "" when none is.
func partsShown(tests []EdgeTest) string {
	var sides []string
	any := false
	for _, e := range tests {
		state := "not yet"
		if e.ShownAt > 0 {
			state, any = "shown", true
		}
		sides = append(sides, fmt.Sprintf("%s %s%% %s", e.Side, textfmt.Num(e.Edge), state))
	}
	if !any {
		return ""
	}
	return " (" + strings.Join(sides, ", ") + ")"
}

// unit is what the decision counts, "page" when unset (a Decision read
// from JSON written before requests were counted).
func (d Decision) unit() string {
	if d.Unit == "" {
		return "page"
	}
	return d.Unit
}

func (d Decision) units() string { return d.unit() + "s" }

// roundPct rounds away the float noise of a percentage such as 0.45·100.
func roundPct(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// heldErrors names the error buckets whose observed rate is above the
// budget but not yet shown above it, which hold a PASS back; "" if none.
func heldErrors(b ErrorBudget, units string) string {
	var parts []string
	for _, k := range b.Buckets {
		if k.Status == Undecided && k.Rate > b.Budget {
			parts = append(parts, fmt.Sprintf("%s error rate %s %s (%d of %d %s not ok)",
				bucketName(k.Version), fmtPct(k.Rate), fmtInterval(k.Low, k.High), k.Errors, k.Pages, units))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	verb := "is"
	if len(parts) > 1 {
		verb = "are"
	}
	return fmt.Sprintf("%s %s above the %s%% budget, not yet shown above it at %s confidence",
		joinAnd(parts), verb, textfmt.Num(b.Budget), fmtConf(b.Confidence))
}

// shareList lists versions as "v1 50.1% [45.3%, 54.8%]", optionally with
// the expected share.
func shareList(vs []VersionResult, expected bool) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		p := fmt.Sprintf("%s %s %s", v.Version, fmtPct(v.Share), fmtInterval(v.Low, v.High))
		if expected {
			p += fmt.Sprintf(" (expected %s%%)", textfmt.Num(v.Expected))
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// splitCount counts versions expected strictly between 0% and 100%.
func splitCount(d Decision) int {
	n := 0
	for _, v := range d.Versions {
		if v.Expected > 0 && v.Expected < 100 {
			n++
		}
	}
	return n
}

func bucketName(version string) string {
	if version == "" {
		return "unknown-version"
	}
	return version
}

func fmtPct(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) + "%" }

// fmtInterval rounds outwards to 0.1 so a printed interval is never
// narrower than the real one.
func fmtInterval(lo, hi float64) string {
	l, h := textfmt.Interval(lo, hi)
	return fmt.Sprintf("[%s, %s]", fmtPct(l), fmtPct(h))
}

func fmtConf(c float64) string { return textfmt.Num(math.Round(c*1e4)/1e2) + "%" }

// roughCount rounds to two significant digits with thousands separators:
// 2134 → "2,100".
func roughCount(n int) string {
	if n >= 100 {
		p := math.Pow(10, math.Floor(math.Log10(float64(n)))-1)
		n = int(math.Round(float64(n)/p) * p)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
