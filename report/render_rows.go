package report

import (
	"fmt"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/internal/textfmt"
	"github.com/canary-gate/canary/results"
)

// versionRow is one version's line in a totals table.
type versionRow struct {
	Version       string  // "" for requests without a version
	Requests      int     //
	Share         float64 // percent of requests with a version; 0 for ""
	Expected      float64 // percent
	Errors        float64 // percent of the version's requests not ok
	P50, P90, P99 time.Duration
	Server        float64 // server-side share in percent
	HasServer     bool
	HasExpected   bool // the report has an expectation: Expected means something
}

// rows returns the totals table of w: every version of the report, then
// requests without a version if any.
func (v *view) rows(w results.Window) []versionRow {
	named := w.Total() - w.Count("")
	serverTotal := 0.0
	for _, n := range w.Server {
		serverTotal += n
	}
	var out []versionRow
	for _, name := range append(v.versions, "") {
		n := w.Count(name)
		if name == "" && n == 0 {
			continue
		}
		r := versionRow{Version: name, Requests: n, Expected: v.expect.Percent(name), HasExpected: len(v.expect.Versions()) > 0,
			Errors: textfmt.Percent(w.Errors(name), n), P50: w.Quantile(name, 0.5), P90: w.Quantile(name, 0.9),
			P99: w.Quantile(name, 0.99)}
		if name != "" {
			r.Share = textfmt.Percent(n, named)
		}
		if s, ok := w.Server[name]; ok && serverTotal > 0 {
			r.Server, r.HasServer = s/serverTotal*100, true
		}
		out = append(out, r)
	}
	return out
}

// groups merges runs of consecutive windows so that at most limit remain,
// each the exact aggregate of its run, and returns them with the run
// length. Charts and compact tables use it for long soaks.
func groups(ws []results.Window, limit int) ([]results.Window, int) {
	k := (len(ws) + limit - 1) / max(limit, 1)
	if k <= 1 {
		return ws, 1
	}
	out := make([]results.Window, 0, limit)
	for i := 0; i < len(ws); i += k {
		out = append(out, results.Sum(ws[i:min(i+k, len(ws))]...))
	}
	return out, k
}

// alarmsIn returns the alarms of windows starting in [w.Start, w.End).
func (v *view) alarmsIn(w results.Window) []decide.Alarm {
	var out []decide.Alarm
	for _, a := range v.alarms {
		if !a.Start.Before(w.Start) && a.Start.Before(w.End) {
			out = append(out, a)
		}
	}
	return out
}

// clock prints a time in UTC: the time of day, with the date when the run
// spans more than one day.
func (v *view) clock(t time.Time) string { return textfmt.Clock(t, v.multiDay()) }

func (v *view) multiDay() bool { return textfmt.SpansDays(v.start, v.end) }

// period describes the run's span: "2026-11-25 08:00:00 – 09:00:00 UTC
// (1h0m0s, 60 windows of 1m0s)".
func (v *view) period() string {
	if v.start.IsZero() {
		return "no windows"
	}
	endFmt := "15:04:05"
	if v.multiDay() {
		endFmt = "2006-01-02 15:04:05"
	}
	return fmt.Sprintf("%s – %s UTC (%s, %s of %s)", v.start.UTC().Format("2006-01-02 15:04:05"),
		v.end.UTC().Format(endFmt), textfmt.Span(v.end.Sub(v.start)), textfmt.NOf(len(v.windows), "window"), textfmt.Span(v.size))
}

// band describes the expectation: "v1=50,v3=50 ± 5 points".
func (v *view) band() string {
	if v.rep.Expect == "" {
		return "none"
	}
	return fmt.Sprintf("%s ± %s points", v.rep.Expect, textfmt.Num(v.rep.Tolerance))
}

// fmtShare prints a percentage with one decimal, or "-" when there is
// nothing to divide.
func fmtShare(p float64, whole int) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", p)
}

// versionName prints "" as "(none)".
func versionName(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// maxRows bounds the window tables of the text, markdown and html formats.
const maxRows = 60

// latencyCell prints a latency quantile for a table; "-" when the window
// has no latencies (a passive soak's windows are Istio's counts).
func latencyCell(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return textfmt.Latency(d)
}
