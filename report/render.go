package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/canary-gate/canary/decide"
	"github.com/canary-gate/canary/results"
)

// Report is a soak run to render: its windows, their alarms and the
// verdict over all of them.
type Report struct {
	Title   string
	Sources []string // results file names
	// Windows in any order; windows with the same Start (a late record
	// reopens its window, see Aggregator) are merged.
	Windows []results.Window
	Alarms  []decide.Alarm
	// Verdict and Reason are the caller's, decide.SoakVerdict's over the
	// same windows and alarms; Render shows them and decides nothing.
	Verdict string
	Reason  string
	// Expect is the expected split as ParseExpect reads it, drawn as a
	// band of ± Tolerance percentage points.
	Expect    string
	Tolerance float64
	// Criteria, when set, are those the windows were judged by: the HTML
	// share chart then draws each point's interval at their confidence.
	Criteria *decide.WindowCriteria
	// Start and End bound the run; zero means the windows' span.
	Start, End time.Time
	Warnings   []string // torn lines, late records and the like
	// Failed are the newest failed requests (Failures.List), FailedTotal
	// how many failed in all.
	Failed      []RequestRef
	FailedTotal int
}

// Formats Render writes.
var renderers = map[string]func(io.Writer, *view) error{
	"text":     renderText,
	"json":     renderJSON,
	"junit":    renderJUnit,
	"markdown": renderMarkdown,
	"html":     renderHTML,
}

// Render writes rep to w in format: text (for a terminal), json
// (everything, per window), junit (a test case per window plus one for the
// verdict), markdown (for a CI job summary) or html (one self-contained
// page with charts that makes no network request). Rep is not changed.
func Render(w io.Writer, format string, rep *Report) error {
	render := renderers[format]
	if render == nil {
		return fmt.Errorf("%w format %q: want one of %v", decide.ErrInvalid, format, slices.Sorted(maps.Keys(renderers)))
	}
	if err := render(w, newView(rep)); err != nil {
		return fmt.Errorf("render %s report: %w", format, err)
	}
	return nil
}

// view is a Report prepared for rendering.
type view struct {
	rep        *Report
	windows    []results.Window // sorted by Start, one per Start
	total      results.Window   // all windows merged
	size       time.Duration
	start, end time.Time
	versions   []string // expected ones in order, then others sorted
	expect     decide.Expectation
	alarms     []decide.Alarm // sorted by Start
	verdict    string
	reason     string
	server     bool // some window has server counts
}

func newView(rep *Report) *view {
	v := &view{rep: rep, windows: coalesce(rep.Windows), verdict: rep.Verdict, reason: rep.Reason}
	v.total = results.Sum(v.windows...)
	sizes := map[time.Duration]int{}
	for i := range v.windows {
		sizes[v.windows[i].End.Sub(v.windows[i].Start)]++
		v.server = v.server || len(v.windows[i].Server) > 0
	}
	for d, n := range sizes {
		if n > sizes[v.size] || (n == sizes[v.size] && d < v.size) {
			v.size = d
		}
	}
	v.start, v.end = rep.Start, rep.End
	if v.start.IsZero() {
		v.start = v.total.Start
	}
	if v.end.IsZero() {
		v.end = v.total.End
	}
	v.expect, _ = decide.ParseExpect(rep.Expect) // no band when it does not parse
	v.versions = v.expect.Versions()
	for _, name := range v.total.Versions() {
		if !slices.Contains(v.versions, name) {
			v.versions = append(v.versions, name)
		}
	}
	v.alarms = slices.Clone(rep.Alarms)
	slices.SortStableFunc(v.alarms, func(a, b decide.Alarm) int { return a.Start.Compare(b.Start) })
	return v
}

// coalesce sorts windows by Start and merges those with equal Start.
func coalesce(ws []results.Window) []results.Window {
	out := slices.Clone(ws)
	slices.SortStableFunc(out, func(a, b results.Window) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, w := range out {
		if n := len(merged); n > 0 && merged[n-1].Start.Equal(w.Start) {
			merged[n-1] = merged[n-1].Merge(w)
			continue
		}
		merged = append(merged, w)
	}
	return merged
}
